/**
 * The synthetic file of `silicon estimate --synthetic`: answers in long form
 * (the estimands' core input) from a wide or long file, and subgroup columns
 * that only the synthetic file has, carried to the respondents by id.
 */
import { InputError, type InputLocation } from "../errors.ts";
import { cellLocation } from "../tables/columns.ts";
import type { Cell, DataTable } from "../tables/types.ts";
import type { AnswerField, SyntheticAnswers } from "./answers.ts";
import { withAttributes, type SurveyDesign } from "./design.ts";
import { cellText, isMissing, labelOf, numberIn, numericAnswer, type Codebook } from "./file-cells.ts";
import { levelsOf } from "./real-file.ts";
import { subgroupColumns, type Layout, type ResponseFilesOptions } from "./response-files.ts";

/** Subgroup columns only the synthetic file has, carried to the respondents by id. */
export function withSyntheticAttributes(design: SurveyDesign, real: DataTable, syn: DataTable, o: ResponseFilesOptions): SurveyDesign {
  const columns = subgroupColumns(o).filter((c) => !(c in real.columns));
  if (columns.length === 0) return design;
  const attributes: Record<string, (string | null)[]> = {};
  const firstRow: Record<string, Int32Array> = {};
  for (const column of columns) {
    attributes[column] = new Array<string | null>(design.size).fill(null);
    firstRow[column] = new Int32Array(design.size).fill(-1);
  }
  for (let r = 0; r < syn.numRows; r++) {
    const id = cellText(syn.columns[o.id]![r]);
    const wave = o.group !== undefined && o.group in syn.columns ? labelOf(syn, o.group, syn.columns[o.group]![r]) : null;
    if (id === null) continue; // reported, with its row, when the answers are resolved
    const k = design.rowOf(id, wave ?? undefined);
    if (typeof k !== "number") continue;
    for (const column of columns) {
      const value = labelOf(syn, column, syn.columns[column]![r]);
      if (value === null) continue;
      const known = attributes[column]![k];
      if (known !== null && known !== value) {
        throw new InputError(cellLocation(syn, r, column), `${JSON.stringify(value)} differs from ${JSON.stringify(known)} on row ${firstRow[column]![k]! + 1} for respondent ${JSON.stringify(id)}; a subgroup must be constant per respondent`);
      }
      if (known === null) {
        attributes[column]![k] = value;
        firstRow[column]![k] = r;
      }
    }
  }
  return withAttributes(design, attributes, levelsOf(syn, columns, undefined));
}

export function syntheticAnswers(
  syn: DataTable,
  o: ResponseFilesOptions,
  layout: Layout,
  items: readonly string[],
  codebooks: ReadonlyMap<string, Codebook>,
): SyntheticAnswers {
  const perOption = new Set(o.perOption ?? []);
  const fileRow: number[] = [];
  const entryItem: string[] = [];
  const value: number[] = [];
  const option: number[] = [];
  const hasOption = o.distribution !== undefined;
  if (o.long === undefined) {
    for (let r = 0; r < syn.numRows; r++) {
      for (const item of items) {
        const book = codebooks.get(item)!;
        fileRow.push(r);
        entryItem.push(item);
        value.push(perOption.has(item) ? book.code(syn.columns[item]![r]) : numericAnswer(syn, r, item, item, book));
      }
    }
  } else {
    const wanted = new Set(items);
    const itemCells = syn.columns[o.long.item]!;
    const valueCells = syn.columns[o.long.value]!;
    const optionCells = hasOption ? syn.columns[o.distribution!]! : undefined;
    for (let r = 0; r < syn.numRows; r++) {
      const item = labelOf(syn, o.long.item, itemCells[r]);
      if (item === null) throw new InputError(cellLocation(syn, r, o.long.item), "missing item");
      if (!wanted.has(item)) continue;
      const book = codebooks.get(item)!;
      const optionCell = optionCells?.[r];
      fileRow.push(r);
      entryItem.push(item);
      if (optionCells !== undefined && !isMissing(optionCell)) {
        option.push(perOption.has(item) ? book.code(optionCell) : optionCode(syn, r, o.distribution!, optionCell, item, book));
        value.push(probability(syn, r, o.long.value, valueCells[r]));
      } else {
        if (hasOption) option.push(NaN);
        value.push(perOption.has(item) ? book.code(valueCells[r]) : numericAnswer(syn, r, o.long.value, item, book));
      }
    }
  }
  const column = (name: string | undefined, label: boolean): (string | null)[] | undefined =>
    name === undefined ? undefined : fileRow.map((r) => (label ? labelOf(syn, name, syn.columns[name]![r]) : cellText(syn.columns[name]![r])));
  const fields: Record<AnswerField, string> = {
    id: o.id,
    item: o.long?.item ?? "",
    value: o.long?.value ?? "",
    model: o.model ?? "",
    wave: o.group ?? "",
    generation: o.generation ?? "",
    option: o.distribution ?? "",
  };
  const model = column(o.model, true);
  const wave = layout.synWave ? column(o.group, true) : undefined;
  const generation = column(o.generation, false);
  return {
    source: syn.source,
    id: fileRow.map((r) => cellText(syn.columns[o.id]![r]) ?? ""),
    item: entryItem,
    value: Float64Array.from(value),
    ...(model === undefined ? {} : { model }),
    ...(wave === undefined ? {} : { wave }),
    ...(generation === undefined ? {} : { generation }),
    ...(hasOption ? { option: Float64Array.from(option) } : {}),
    locate: (index: number, field: AnswerField): InputLocation =>
      cellLocation(syn, fileRow[index]!, field === "value" && o.long === undefined ? entryItem[index]! : fields[field]),
  };
}

function optionCode(table: DataTable, row: number, column: string, cell: Cell | undefined, item: string, book: Codebook): number {
  const code = numberIn(cell) ?? (typeof cell === "string" ? book.codeOfLabel(cell.trim()) : undefined);
  if (code === undefined || Number.isNaN(code)) {
    throw new InputError(cellLocation(table, row, column), `expected an answer code of item ${JSON.stringify(item)}, got ${JSON.stringify(cell)}; text options need --per-option ${item}`);
  }
  return code;
}

function probability(table: DataTable, row: number, column: string, cell: Cell | undefined): number {
  const p = numberIn(cell);
  if (p === undefined || Number.isNaN(p) || p < 0 || p > 1) {
    throw new InputError(cellLocation(table, row, column), `expected a probability from 0 to 1, got ${JSON.stringify(cell ?? null)}`);
  }
  return p;
}
