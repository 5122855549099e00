/**
 * The adapter behind `silicon estimate --real --synthetic`: respondent-level
 * files made elsewhere (EDSL exports, released responses of published
 * studies, one's own scripts) into the estimands' core input, a survey design
 * and synthetic answers in long form. Every check names file, row and column.
 *
 * Layouts: a wide file has one column per item; a long file an item column
 * and a value column (`--long`). The synthetic file is long when `--long` is
 * given; the real file is long when it has the item column too, else wide.
 * Weights come from the real file and reach the synthetic answers by id (and
 * wave); a subgroup column may sit in either file, the real one winning.
 */
import { InputError, UsageError, type InputLocation } from "../errors.ts";
import { cellLocation, numberColumn, requireColumns } from "../tables/columns.ts";
import { readTable } from "../tables/read.ts";
import type { Cell, DataTable } from "../tables/types.ts";
import type { SyntheticAnswers, AnswerField } from "./answers.ts";
import { surveyDesign, withAttributes, type FrameField, type SurveyDesign } from "./design.ts";
import type { SubgroupSpec } from "./domains.ts";
import { estimateTasks, type EstimateResult, type ItemEstimand } from "./estimate.ts";
import { Codebook, isMissing, labelOf, labelOrder, numberIn, numericAnswer } from "./file-cells.ts";

export interface ResponseFilesOptions {
  /** Real respondents: CSV, Parquet or SPSS .sav. */
  real: string;
  /** Synthetic answers, one row per respondent (per item, if long) per generation. */
  synthetic: string;
  /** Respondent id column, in both files. */
  id: string;
  /** Weight column of the real file; all 1 when omitted. */
  weight?: string;
  /** Items (wide: their columns); with `long`, a filter on the item column. */
  items?: readonly string[];
  /** Item and value columns of long files. */
  long?: { item: string; value: string };
  /** Long synthetic files: rows with this column set give the probability of that answer option. */
  distribution?: string;
  /** Subgroup specs (their columns are read from either file). */
  by?: readonly SubgroupSpec[];
  /** Generation column of the synthetic file. */
  generation?: string;
  /** Model column of the synthetic file. */
  model?: string;
  /** Wave column: in the real file, and in the synthetic file too when ids repeat across waves. */
  group?: string;
  /** Choice items estimated as proportions per option. */
  perOption?: readonly string[];
}

export interface ResponseFiles {
  design: SurveyDesign;
  answers: SyntheticAnswers;
  items: ItemEstimand[];
  /** Rows read, for the summary. */
  realRows: number;
  syntheticRows: number;
}

export interface EstimateFromFilesOptions extends ResponseFilesOptions {
  /** Wave whose tasks are targets. */
  targetWave?: string;
  /** Skip synthetic rows whose id the real file lacks. */
  allowUnmatched?: boolean;
}

export interface EstimateFromFilesResult extends EstimateResult {
  realRows: number;
  syntheticRows: number;
}

/** Reads the two files and estimates the tasks table (what `silicon estimate --real --synthetic` writes). */
export async function estimateFromFiles(
  options: EstimateFromFilesOptions,
  progress: (message: string) => void = () => {},
): Promise<EstimateFromFilesResult> {
  if (options.targetWave !== undefined && options.group === undefined) {
    throw new UsageError("--role-of-target needs --group, the wave column");
  }
  progress(`reading ${options.real} and ${options.synthetic}`);
  const files = await readResponseFiles(options);
  progress(`estimating ${files.items.length} ${files.items.length === 1 ? "item" : "items"} from ${files.realRows} real and ${files.syntheticRows} synthetic rows`);
  const result = estimateTasks(files.design, files.answers, {
    items: files.items,
    ...(options.by === undefined ? {} : { by: options.by }),
    ...(options.targetWave === undefined ? {} : { targetWave: options.targetWave }),
    allowUnmatched: options.allowUnmatched ?? false,
  });
  return { ...result, realRows: files.realRows, syntheticRows: files.syntheticRows };
}

export async function readResponseFiles(options: ResponseFilesOptions): Promise<ResponseFiles> {
  if (options.items === undefined && options.long === undefined) {
    throw new UsageError("name the items: --items a,b,c for wide files, or --long ITEMCOL,VALUECOL for long ones");
  }
  if (options.distribution !== undefined && options.long === undefined) {
    throw new UsageError("--distribution needs long synthetic answers (--long ITEMCOL,VALUECOL): one row per option with its probability");
  }
  const [real, syn] = await Promise.all([readTable(options.real), readTable(options.synthetic)]);
  const layout = checkColumns(real, syn, options);
  const items = itemsOf(real, syn, options, layout);
  const perOption = new Set(options.perOption ?? []);
  for (const item of perOption) {
    if (!items.includes(item)) throw new UsageError(`--per-option names ${JSON.stringify(item)}, which is not among the items (${items.join(", ")})`);
  }
  const codebooks = buildCodebooks(real, syn, options, layout, items, perOption);

  const respondents = respondentRows(real, options, layout);
  let design = surveyDesign({
    source: real.source,
    id: respondents.rows.map((r) => cellText(real.columns[options.id]![r]) ?? ""),
    ...(options.weight === undefined ? {} : { weight: respondentWeights(real, options.weight, respondents) }),
    ...(options.group === undefined
      ? {}
      : { wave: respondents.rows.map((r) => labelOf(real, options.group!, real.columns[options.group!]![r])) }),
    attributes: realAttributes(real, options, respondents),
    levels: levelsOf(real, [...(options.group === undefined ? [] : [options.group]), ...subgroupColumns(options)], options.group),
    answers: realAnswers(real, options, layout, items, codebooks, respondents),
    optionLabels: Object.fromEntries([...codebooks].filter(([item]) => perOption.has(item)).map(([item, book]) => [item, book.finalLabels()])),
    locate: (row, field) => cellLocation(real, respondents.rows[row]!, frameColumn(field, options, layout)),
  });
  design = withSyntheticAttributes(design, real, syn, options);
  return {
    design,
    answers: syntheticAnswers(syn, options, layout, items, codebooks),
    items: items.map((item) => ({ item, ...(perOption.has(item) ? { perOption: true } : {}) })),
    realRows: real.numRows,
    syntheticRows: syn.numRows,
  };
}

interface Layout {
  realLong: boolean;
  /** The synthetic file has the wave column: match on (wave, id). */
  synWave: boolean;
}

function checkColumns(real: DataTable, syn: DataTable, o: ResponseFilesOptions): Layout {
  requireColumns(real, [o.id], "respondent ids, --id");
  requireColumns(syn, [o.id], "respondent ids, --id");
  if (o.weight !== undefined) requireColumns(real, [o.weight], "weights, --weight");
  if (o.group !== undefined) requireColumns(real, [o.group], "waves, --group");
  if (o.model !== undefined) requireColumns(syn, [o.model], "models, --model");
  if (o.generation !== undefined) requireColumns(syn, [o.generation], "generations, --generation");
  if (o.distribution !== undefined) requireColumns(syn, [o.distribution], "answer options, --distribution");
  let realLong = false;
  if (o.long !== undefined) {
    requireColumns(syn, [o.long.item, o.long.value], "long answers, --long");
    realLong = o.long.item in real.columns;
    if (realLong) requireColumns(real, [o.long.value], "long answers, --long");
  }
  for (const column of subgroupColumns(o)) {
    if (!(column in real.columns) && !(column in syn.columns)) {
      throw new InputError(
        { file: real.source, field: column },
        `missing subgroup column (--by); neither ${real.source} nor ${syn.source} has it; ${real.source} has: ${real.columnNames.join(", ")}`,
      );
    }
  }
  return { realLong, synWave: o.group !== undefined && o.group in syn.columns };
}

function subgroupColumns(o: ResponseFilesOptions): string[] {
  return [...new Set((o.by ?? []).flatMap((spec) => spec.columns))];
}

function itemsOf(real: DataTable, syn: DataTable, o: ResponseFilesOptions, layout: Layout): string[] {
  let items: string[];
  if (o.long === undefined) {
    items = [...o.items!];
    requireColumns(syn, items, "an item, --items");
  } else {
    const present = distinctTexts(syn, o.long.item);
    items = o.items === undefined ? present : [...o.items];
    const missing = items.find((item) => !present.includes(item));
    if (missing !== undefined) {
      throw new InputError({ file: syn.source, field: o.long.item }, `no rows for item ${JSON.stringify(missing)}; the items are: ${present.join(", ")}`);
    }
  }
  if (new Set(items).size !== items.length) throw new UsageError(`--items names an item twice: ${items.join(",")}`);
  if (!layout.realLong) requireColumns(real, items, "real answers to an item; add an empty column if it has none");
  return items;
}

function distinctTexts(table: DataTable, column: string): string[] {
  const seen = new Set<string>();
  for (const cell of table.columns[column]!) {
    const text = labelOf(table, column, cell);
    if (text !== null) seen.add(text);
  }
  return [...seen];
}

/**
 * A codebook per item: value labels from both files (the real one first),
 * then, for per-option items, a first pass over every answer to learn whether
 * they are codes or text.
 */
function buildCodebooks(
  real: DataTable,
  syn: DataTable,
  o: ResponseFilesOptions,
  layout: Layout,
  items: readonly string[],
  perOption: ReadonlySet<string>,
): Map<string, Codebook> {
  const books = new Map(items.map((item) => [item, new Codebook()]));
  const labelColumns = (table: DataTable, long: boolean, item: string) =>
    long ? [o.long!.value, ...(table === syn && o.distribution !== undefined ? [o.distribution] : [])] : [item];
  for (const [item, book] of books) {
    for (const column of labelColumns(real, layout.realLong, item)) book.label(real.valueLabels[column]);
    for (const column of labelColumns(syn, o.long !== undefined, item)) book.label(syn.valueLabels[column]);
  }
  const scan = (table: DataTable, long: boolean) => {
    if (!long) {
      for (const item of perOption) table.columns[item]!.forEach((cell) => books.get(item)!.see(cell));
      return;
    }
    const itemCells = table.columns[o.long!.item]!;
    const valueCells = table.columns[o.long!.value]!;
    const optionCells = table === syn && o.distribution !== undefined ? table.columns[o.distribution]! : undefined;
    for (let r = 0; r < table.numRows; r++) {
      const item = labelOf(table, o.long!.item, itemCells[r]) ?? "";
      if (!perOption.has(item)) continue;
      const option = optionCells?.[r];
      books.get(item)!.see(isMissing(option) ? valueCells[r] : option);
    }
  };
  scan(real, layout.realLong);
  scan(syn, o.long !== undefined);
  return books;
}

interface Respondents {
  /** File row of each respondent (its first row, in a long file). */
  rows: number[];
  /** Respondent of each file row. */
  ofRow: Int32Array;
}

/** One respondent per row of a wide real file; per (wave, id) of a long one. */
function respondentRows(real: DataTable, o: ResponseFilesOptions, layout: Layout): Respondents {
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

function respondentWeights(real: DataTable, column: string, respondents: Respondents): Float64Array {
  const all = numberColumn(real, column, { min: 0, expected: "a non-negative weight" });
  const weights = Float64Array.from(respondents.rows, (r) => all[r]!);
  for (let r = 0; r < real.numRows; r++) {
    const first = respondents.rows[respondents.ofRow[r]!]!;
    if (all[r] !== weights[respondents.ofRow[r]!]) {
      throw new InputError(cellLocation(real, r, column), `weight ${all[r]} differs from ${all[first]} on row ${first + 1} for the same respondent; a weight must be constant per respondent`);
    }
  }
  return weights;
}

function realAttributes(real: DataTable, o: ResponseFilesOptions, respondents: Respondents): Record<string, (string | null)[]> {
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

function levelsOf(table: DataTable, columns: readonly string[], group: string | undefined): Record<string, string[]> {
  const levels: Record<string, string[]> = {};
  for (const column of columns) {
    const order = column in table.columns ? labelOrder(table, column) : undefined;
    if (order !== undefined) levels[column === group ? "wave" : column] = order;
  }
  return levels;
}

function realAnswers(
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

function frameColumn(field: FrameField, o: ResponseFilesOptions, layout: Layout): string {
  if (field === "id") return o.id;
  if (field === "weight") return o.weight ?? "weight";
  if (field === "wave") return o.group ?? "wave";
  if ("attribute" in field) return field.attribute;
  return layout.realLong ? o.long!.value : field.answer;
}

/** Subgroup columns only the synthetic file has, carried to the respondents by id. */
function withSyntheticAttributes(design: SurveyDesign, real: DataTable, syn: DataTable, o: ResponseFilesOptions): SurveyDesign {
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

function syntheticAnswers(
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

function cellText(cell: Cell | undefined): string | null {
  return isMissing(cell) ? null : typeof cell === "string" ? cell.trim() : String(cell);
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
