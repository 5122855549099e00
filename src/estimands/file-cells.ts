/**
 * Reading cells of response files for estimands: labels for subgroup values
 * (SPSS value labels where present), numeric answers with located errors, and
 * the codebook of a choice item whose answers may be text ("Biden") or codes.
 */
import { InputError } from "../errors.ts";
import { cellLocation } from "../tables/columns.ts";
import type { Cell, DataTable } from "../tables/types.ts";
import { naturalOrder } from "./design.ts";

/** Empty, blank or absent. */
export function isMissing(cell: Cell | undefined): boolean {
  return cell === null || cell === undefined || (typeof cell === "string" && cell.trim() === "");
}

/** A cell as trimmed text, null when missing (ids, models, generation labels). */
export function cellText(cell: Cell | undefined): string | null {
  return isMissing(cell) ? null : typeof cell === "string" ? cell.trim() : String(cell);
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

/** Texts R, pandas and others write for a missing number. */
const MISSING_NUMBER = new Set(["NA", "NaN", "N/A"]);

/** The number in a cell (booleans count 1/0), NaN when missing (also NA, NaN, N/A), undefined when it is not a number. */
export function numberIn(cell: Cell | undefined): number | undefined {
  if (cell === null || cell === undefined || isMissing(cell)) return NaN;
  if (typeof cell === "number") return Number.isFinite(cell) ? cell : undefined;
  if (typeof cell === "boolean") return cell ? 1 : 0;
  const text = cell.trim();
  if (MISSING_NUMBER.has(text)) return NaN;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * A numeric answer, NaN when missing. A text answer that is a value label of
 * the item (e.g. "Strongly agree" where SPSS codes it 5) counts as its code;
 * anything else is an error naming file, row and column.
 */
export function numericAnswer(table: DataTable, row: number, column: string, item: string, book?: Codebook): number {
  const cell = table.columns[column]![row];
  const value = numberIn(cell) ?? (typeof cell === "string" ? book?.codeOfLabel(cell.trim()) : undefined);
  if (value === undefined) {
    throw new InputError(
      cellLocation(table, row, column),
      `expected a number (an answer to item ${JSON.stringify(item)}), got ${JSON.stringify(cell)}; if it is a choice item with text answers, pass --per-option ${item}`,
    );
  }
  return value;
}

/**
 * Codes of an item's answers across files. Value labels (SPSS) map text
 * answers to their codes, so a text answer "Biden" meets the code 2 labelled
 * "Biden". For a choice item (`see` every answer first): where every answer is
 * a number or a label, the codes are the numbers; where any answer is other
 * text, every answer is a category named by its text (a labelled code by its
 * label), coded in natural order.
 */
export class Codebook {
  private readonly texts = new Set<string>();
  private readonly labelCodes = new Map<string, number>();
  private numeric = true;
  private categories: Map<string, number> | undefined;
  readonly labels = new Map<number, string>();

  /** Adds value labels (first come, first kept); call before `see`. */
  label(valueLabels: ReadonlyMap<number, string> | undefined): void {
    for (const [code, label] of valueLabels ?? []) {
      if (!this.labels.has(code)) this.labels.set(code, label);
      if (!this.labelCodes.has(label)) this.labelCodes.set(label, code);
    }
  }

  codeOfLabel(text: string): number | undefined {
    return this.labelCodes.get(text);
  }

  /** Notes an answer of a choice item, before any `code`. */
  see(cell: Cell | undefined): void {
    const value = numberIn(cell);
    if (value !== undefined && Number.isNaN(value)) return;
    if (value === undefined && !this.labelCodes.has(String(cell).trim())) this.numeric = false;
    this.texts.add(this.displayText(cell));
  }

  /** The code of an answer (NaN when missing), once every answer has been seen. */
  code(cell: Cell | undefined): number {
    const value = numberIn(cell);
    if (value !== undefined && Number.isNaN(value)) return NaN;
    if (this.numeric) return value ?? this.labelCodes.get(String(cell).trim())!;
    const code = this.settle().get(this.displayText(cell));
    if (code === undefined) throw new RangeError(`Codebook: ${String(cell)} was not seen`);
    return code;
  }

  /** Labels of the codes, for coordinates. */
  finalLabels(): ReadonlyMap<number, string> {
    if (!this.numeric) this.settle();
    return this.labels;
  }

  private displayText(cell: Cell | undefined): string {
    const value = numberIn(cell);
    return value === undefined ? String(cell).trim() : (this.labels.get(value) ?? String(value));
  }

  private settle(): Map<string, number> {
    if (this.categories === undefined) {
      const sorted = [...this.texts].sort(naturalOrder);
      this.categories = new Map(sorted.map((text, k) => [text, k]));
      this.labels.clear();
      sorted.forEach((text, k) => this.labels.set(k, text));
    }
    return this.categories;
  }
}
