/**
 * One column's cells as they are read, kept small: an empty cell is missing
 * (null), and repeated texts share one string (a column of answers 0-100 or
 * of 50 subgroup names holds a reference per row, not a string per row).
 */
import type { Cell } from "./types.ts";

/** Beyond this many distinct texts a column is taken for ids or measurements and no longer pooled. */
const MAX_POOLED = 4096;

/** Hands out one string for equal texts of a column, until the column proves to hold too many distinct ones. */
export class SharedTexts {
  private pool: Map<string, string> | undefined = new Map();
  private previous: string | undefined;

  share(text: string): string {
    // Ids repeat on consecutive rows (one per generation): the last text first.
    if (text === this.previous) return this.previous;
    const shared = this.pooled(text);
    this.previous = shared;
    return shared;
  }

  private pooled(text: string): string {
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

export class ColumnCells {
  readonly values: Cell[] = [];
  private readonly texts = new SharedTexts();

  push(text: string): void {
    this.values.push(text === "" ? null : this.texts.share(text));
  }
}
