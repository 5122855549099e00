/**
 * The synthetic file of `silicon estimate --synthetic`: answers in long form
 * (the estimands' core input) from a wide or long file, and subgroup columns
 * that only the synthetic file has, carried to the respondents by id.
 */
import { InputError, type InputLocation } from "../errors.ts";
import { cellLocation, locationsOf, type TableLocations } from "../tables/columns.ts";
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
  const hasOption = o.distribution !== undefined;
  const { fileRow, entryItem, value, option } =
    o.long === undefined ? wideEntries(syn, items, perOption, codebooks) : longEntries(syn, o, o.long, items, perOption, codebooks);
  const column = (name: string | undefined, label: boolean): (string | null)[] | undefined => {
    if (name === undefined) return undefined;
    const cells = syn.columns[name]!;
    return Array.from(fileRow, (r) => (label ? labelOf(syn, name, cells[r]) : cellText(cells[r])));
  };
  const model = column(o.model, true);
  const wave = layout.synWave ? column(o.group, true) : undefined;
  const generation = column(o.generation, false);
  return {
    source: syn.source,
    id: Array.from(fileRow, (r) => cellText(syn.columns[o.id]![r]) ?? ""),
    item: entryItem,
    value,
    ...(model === undefined ? {} : { model }),
    ...(wave === undefined ? {} : { wave }),
    ...(generation === undefined ? {} : { generation }),
    ...(hasOption ? { option: option! } : {}),
    locate: locateEntries(locationsOf(syn), fileRow, entryItem, o),
  };
}

/**
 * Where an entry's cell is in the synthetic file. Made out here so that the
 * closure holds only the rows' locations, not (through a shared scope) the
 * table: its columns can go once the answers are built.
 */
function locateEntries(syn: TableLocations, fileRow: Int32Array, entryItem: readonly string[], o: ResponseFilesOptions) {
  const fields: Record<AnswerField, string> = {
    id: o.id,
    item: o.long?.item ?? "",
    value: o.long?.value ?? "",
    model: o.model ?? "",
    wave: o.group ?? "",
    generation: o.generation ?? "",
    option: o.distribution ?? "",
  };
  return (index: number, field: AnswerField): InputLocation =>
    cellLocation(syn, fileRow[index]!, field === "value" && o.long === undefined ? entryItem[index]! : fields[field]);
}

interface Entries {
  /** The file row of each entry. */
  fileRow: Int32Array;
  entryItem: string[];
  value: Float64Array;
  option?: Float64Array;
}

/** One entry per row and item of a wide file, in typed arrays of the known size. */
function wideEntries(syn: DataTable, items: readonly string[], perOption: ReadonlySet<string>, codebooks: ReadonlyMap<string, Codebook>): Entries {
  const count = syn.numRows * items.length;
  const fileRow = new Int32Array(count);
  const entryItem = new Array<string>(count);
  const value = new Float64Array(count);
  const books = items.map((item) => codebooks.get(item)!);
  const columns = items.map((item) => syn.columns[item]!);
  // Row by row, as the file reads, so the first bad cell reported is the first in the file.
  for (let r = 0, e = 0; r < syn.numRows; r++) {
    for (let j = 0; j < items.length; j++, e++) {
      const item = items[j]!;
      fileRow[e] = r;
      entryItem[e] = item;
      value[e] = perOption.has(item) ? books[j]!.code(columns[j]![r]) : numericAnswer(syn, r, item, item, books[j]);
    }
  }
  return { fileRow, entryItem, value };
}

/** The rows of a long file that answer one of `items`; with --distribution, an option and its probability. */
function longEntries(
  syn: DataTable,
  o: ResponseFilesOptions,
  long: { item: string; value: string },
  items: readonly string[],
  perOption: ReadonlySet<string>,
  codebooks: ReadonlyMap<string, Codebook>,
): Entries {
  const fileRow: number[] = [];
  const entryItem: string[] = [];
  const value: number[] = [];
  const option: number[] = [];
  const hasOption = o.distribution !== undefined;
  const wanted = new Set(items);
  const itemCells = syn.columns[long.item]!;
  const valueCells = syn.columns[long.value]!;
  const optionCells = hasOption ? syn.columns[o.distribution!]! : undefined;
  for (let r = 0; r < syn.numRows; r++) {
    const item = labelOf(syn, long.item, itemCells[r]);
    if (item === null) throw new InputError(cellLocation(syn, r, long.item), "missing item");
    if (!wanted.has(item)) continue;
    const book = codebooks.get(item)!;
    const optionCell = optionCells?.[r];
    fileRow.push(r);
    entryItem.push(item);
    if (optionCells !== undefined && !isMissing(optionCell)) {
      option.push(perOption.has(item) ? book.code(optionCell) : optionCode(syn, r, o.distribution!, optionCell, item, book));
      value.push(probability(syn, r, long.value, valueCells[r]));
    } else {
      if (hasOption) option.push(NaN);
      value.push(perOption.has(item) ? book.code(valueCells[r]) : numericAnswer(syn, r, long.value, item, book));
    }
  }
  return {
    fileRow: Int32Array.from(fileRow),
    entryItem,
    value: Float64Array.from(value),
    ...(hasOption ? { option: Float64Array.from(option) } : {}),
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
