/**
 * The real file of `silicon estimate --real`: respondents (one per row of a
 * wide file, per id and wave of a long one), their weights, subgroups and
 * answers, every problem located by file, row and column.
 */
import { InputError } from "../errors.ts";
import { cellLocation, numberColumn, refuseHugeWeights } from "../tables/columns.ts";
import type { DataTable } from "../tables/types.ts";
import type { FrameField } from "./design.ts";
import { cellText, labelOf, labelOrder, numericAnswer, type Codebook } from "./file-cells.ts";
import { subgroupColumns, type Layout, type ResponseFilesOptions } from "./response-files.ts";

export interface Respondents {
  /** File row of each respondent (its first row, in a long file). */
  rows: number[];
  /** Respondent of each file row. */
  ofRow: Int32Array;
}

/** One respondent per row of a wide real file; per (wave, id) of a long one. */
export function respondentRows(real: DataTable, o: ResponseFilesOptions, layout: Layout): Respondents {
  const ofRow = new Int32Array(real.numRows);
  if (!layout.realLong) {
    ofRow.forEach((_, r) => (ofRow[r] = r));
    return { rows: Array.from({ length: real.numRows }, (_, r) => r), ofRow };
  }
  const rows: number[] = [];
  const byKey = new Map<string, number>();
  for (let r = 0; r < real.numRows; r++) {
    const id = cellText(real.columns[o.id]![r]);
    if (id === null) throw new InputError(cellLocation(real, r, o.id), "missing respondent id");
    const wave = o.group === undefined ? "" : (labelOf(real, o.group, real.columns[o.group]![r]) ?? "");
    const key = `${wave}\u0000${id}`;
    let k = byKey.get(key);
    if (k === undefined) byKey.set(key, (k = rows.push(r) - 1));
    ofRow[r] = k;
  }
  return { rows, ofRow };
}

export function respondentWeights(real: DataTable, column: string, respondents: Respondents): Float64Array {
  const all = numberColumn(real, column, { min: 0, expected: "a non-negative weight" });
  refuseHugeWeights(real, column, all);
  const weights = Float64Array.from(respondents.rows, (r) => all[r]!);
  for (let r = 0; r < real.numRows; r++) {
    const first = respondents.rows[respondents.ofRow[r]!]!;
    if (all[r] !== weights[respondents.ofRow[r]!]) {
      throw new InputError(cellLocation(real, r, column), `weight ${all[r]} differs from ${all[first]} on row ${first + 1} for the same respondent; a weight must be constant per respondent`);
    }
  }
  return weights;
}

export function realAttributes(real: DataTable, o: ResponseFilesOptions, respondents: Respondents): Record<string, (string | null)[]> {
  const attributes: Record<string, (string | null)[]> = {};
  for (const column of subgroupColumns(o)) {
    if (!(column in real.columns)) continue;
    const cells = real.columns[column]!;
    const values = respondents.rows.map((r) => labelOf(real, column, cells[r]));
    for (let r = 0; r < real.numRows; r++) {
      const k = respondents.ofRow[r]!;
      const value = labelOf(real, column, cells[r]);
      if (value !== values[k]) {
        throw new InputError(cellLocation(real, r, column), `${JSON.stringify(value)} differs from ${JSON.stringify(values[k])} on row ${respondents.rows[k]! + 1} for the same respondent; a subgroup must be constant per respondent`);
      }
    }
    attributes[column] = values;
  }
  return attributes;
}

export function levelsOf(table: DataTable, columns: readonly string[], group: string | undefined): Record<string, string[]> {
  const levels: Record<string, string[]> = {};
  for (const column of columns) {
    const order = column in table.columns ? labelOrder(table, column) : undefined;
    if (order !== undefined) levels[column === group ? "wave" : column] = order;
  }
  return levels;
}

export function realAnswers(
  real: DataTable,
  o: ResponseFilesOptions,
  layout: Layout,
  items: readonly string[],
  codebooks: ReadonlyMap<string, Codebook>,
  respondents: Respondents,
): Record<string, Float64Array> {
  const perOption = new Set(o.perOption ?? []);
  const answers: Record<string, Float64Array> = {};
  if (!layout.realLong) {
    for (const item of items) {
      const book = codebooks.get(item)!;
      const cells = real.columns[item]!;
      answers[item] = Float64Array.from(respondents.rows, (r) => (perOption.has(item) ? book.code(cells[r]) : numericAnswer(real, r, item, item, book)));
    }
    return answers;
  }
  const { item: itemColumn, value: valueColumn } = o.long!;
  const wanted = new Set(items);
  const firstRow = new Map<string, Int32Array>();
  for (let r = 0; r < real.numRows; r++) {
    const item = labelOf(real, itemColumn, real.columns[itemColumn]![r]);
    if (item === null || !wanted.has(item)) continue;
    const k = respondents.ofRow[r]!;
    let values = answers[item];
    let seen = firstRow.get(item);
    if (values === undefined || seen === undefined) {
      answers[item] = values = new Float64Array(respondents.rows.length).fill(NaN);
      firstRow.set(item, (seen = new Int32Array(respondents.rows.length).fill(-1)));
    }
    if (seen[k]! >= 0) {
      throw new InputError(cellLocation(real, r, itemColumn), `a second answer to item ${JSON.stringify(item)} for the same respondent (first on row ${seen[k]! + 1})`);
    }
    seen[k] = r;
    const book = codebooks.get(item)!;
    values[k] = perOption.has(item) ? book.code(real.columns[valueColumn]![r]) : numericAnswer(real, r, valueColumn, item, book);
  }
  return answers;
}

export function frameColumn(field: FrameField, o: ResponseFilesOptions, layout: Layout): string {
  if (field === "id") return o.id;
  if (field === "weight") return o.weight ?? "weight";
  if (field === "wave") return o.group ?? "wave";
  if ("attribute" in field) return field.attribute;
  return layout.realLong ? o.long!.value : field.answer;
}
