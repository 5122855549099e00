/**
 * Reading cells of response files for estimands: labels for subgroup values
 * (SPSS value labels where present), numeric answers with located errors, and
 * the codebook of a choice item whose answers may be text ("Biden") or codes.
 */
import { InputError } from "../errors.ts";
import { cellLocation } from "../tables/columns.ts";
import type { Cell, DataTable } from "../tables/types.ts";
import { naturalOrder } from "./design.ts";

export function isMissing(cell: Cell | undefined): cell is null | undefined {
  return cell === null || cell === undefined || (typeof cell === "string" && cell.trim() === "");
}

/** A subgroup, wave or id cell as text: the SPSS label of a labelled code, else the value; null when missing. */
export function labelOf(table: DataTable, column: string, cell: Cell | undefined): string | null {
  if (isMissing(cell)) return null;
  if (typeof cell === "number") return table.valueLabels[column]?.get(cell) ?? String(cell);
  return typeof cell === "string" ? cell.trim() : String(cell);
}

/** Labels of a column in code order (SPSS), so that levels sort by code rather than by name. */
export function labelOrder(table: DataTable, column: string): string[] | undefined {
  const labels = table.valueLabels[column];
  if (labels === undefined || labels.size === 0) return undefined;
  return [...labels.entries()].sort((a, b) => a[0] - b[0]).map(([, label]) => label);
}

/** The number in a cell (booleans count 1/0), NaN when missing, undefined when it is not a number. */
export function numberIn(cell: Cell | undefined): number | undefined {
  if (isMissing(cell)) return NaN;
  if (typeof cell === "number") return Number.isFinite(cell) ? cell : undefined;
  if (typeof cell === "boolean") return cell ? 1 : 0;
  const value = Number(cell.trim());
  return Number.isFinite(value) ? value : undefined;
}

/** A numeric answer, NaN when missing; anything else is an error naming file, row and column. */
export function numericAnswer(table: DataTable, row: number, column: string, item: string): number {
  const cell = table.columns[column]![row];
  const value = numberIn(cell);
  if (value === undefined) {
    throw new InputError(cellLocation(table, row, column), `expected a number (an answer to item ${JSON.stringify(item)}), got ${JSON.stringify(cell)}; if it is a choice item with text answers, pass --per-option ${item}`);
  }
  return value;
}

/**
 * Codes of a choice item's answers across files. Where every answer is a
 * number the numbers are the codes (labelled from SPSS when possible); where
 * any answer is text, every answer is a category named by its text, coded in
 * natural order.
 */
export class Codebook {
  private readonly texts = new Set<string>();
  private numeric = true;
  private codes: Map<string, number> | undefined;
  readonly labels = new Map<number, string>();

  /** Notes a cell seen in the first pass. */
  see(cell: Cell | undefined): void {
    if (isMissing(cell)) return;
    const text = typeof cell === "string" ? cell.trim() : String(cell);
    this.texts.add(text);
    if (typeof cell !== "number" && !(typeof cell === "string" && Number.isFinite(Number(text)))) this.numeric = false;
  }

  /** Adds SPSS labels for numeric codes. */
  label(valueLabels: ReadonlyMap<number, string> | undefined): void {
    for (const [code, label] of valueLabels ?? []) if (!this.labels.has(code)) this.labels.set(code, label);
  }

  /** The code of a cell (NaN when missing), after every cell has been seen. */
  code(cell: Cell | undefined): number {
    if (isMissing(cell)) return NaN;
    const text = typeof cell === "string" ? cell.trim() : String(cell);
    if (this.numeric) return Number(text);
    if (this.codes === undefined) {
      const sorted = [...this.texts].sort(naturalOrder);
      this.codes = new Map(sorted.map((t, k) => [t, k]));
      this.labels.clear();
      sorted.forEach((t, k) => this.labels.set(k, t));
    }
    const code = this.codes.get(text);
    if (code === undefined) throw new RangeError(`Codebook: ${text} was not seen`);
    return code;
  }

  /** Labels for coordinates, once coding is settled. */
  finalLabels(): ReadonlyMap<number, string> {
    if (!this.numeric && this.codes === undefined) this.code([...this.texts][0] ?? null);
    return this.labels;
  }
}
