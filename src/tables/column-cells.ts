/**
 * One column's cells as they are read, kept small: an empty cell is missing
 * (null), and repeated texts share one string (a column of answers 0-100 or
 * of 50 subgroup names holds a reference per row, not a string per row).
 */
import type { Cell } from "./types.ts";

/** Beyond this many distinct texts a column is taken for ids or measurements and no longer pooled. */
const MAX_POOLED = 4096;

export class ColumnCells {
  readonly values: Cell[] = [];
  private pool: Map<string, string> | undefined = new Map();
  private previous: string | undefined;

  push(text: string): void {
    if (text === "") {
      this.values.push(null);
      return;
    }
    // Ids repeat on consecutive rows (one per generation): the last text first.
    if (text === this.previous) {
      this.values.push(this.previous);
      return;
    }
    const shared = this.shared(text);
    this.previous = shared;
    this.values.push(shared);
  }

  private shared(text: string): string {
    if (this.pool === undefined) return text;
    const known = this.pool.get(text);
    if (known !== undefined) return known;
    if (this.pool.size >= MAX_POOLED) {
      this.pool = undefined;
      return text;
    }
    this.pool.set(text, text);
    return text;
  }
}
