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
import { InputError, UsageError } from "../errors.ts";
import { cellLocation, locationsOf, requireColumns, type TableLocations } from "../tables/columns.ts";
import { readTable } from "../tables/read.ts";
import type { DataTable } from "../tables/types.ts";
import type { SyntheticAnswers } from "./answers.ts";
import { surveyDesign, type FrameField, type SurveyDesign } from "./design.ts";
import { estimateTasks, type EstimateResult, type ItemEstimand } from "./estimate.ts";
import { Codebook, cellText, isMissing, labelOf } from "./file-cells.ts";
import { frameColumn, levelsOf, realAnswers, realAttributes, respondentRows, respondentWeights } from "./real-file.ts";
import { subgroupColumns, type Layout, type ResponseFilesOptions } from "./response-files.ts";
import { syntheticAnswers, withSyntheticAttributes } from "./synthetic-file.ts";

export type { ResponseFilesOptions } from "./response-files.ts";

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
  // Only the columns the options name are read; a long synthetic file without
  // --items names the items, which a wide real file has as columns.
  const named = columnsRead(options);
  const syn = await readTable(options.synthetic, { columns: named });
  const itemColumns = options.long !== undefined && options.items === undefined && options.long.item in syn.columns ? distinctTexts(syn, options.long.item) : [];
  const real = await readTable(options.real, { columns: [...named, ...itemColumns] });
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
    locate: locateRespondents(locationsOf(real), respondents.rows, options, layout),
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

/**
 * Where a design row's cell is in the real file. Made out here so that the
 * closure holds only the rows' locations, not (through a shared scope) the
 * table: its columns can go once the design is built.
 */
function locateRespondents(real: TableLocations, rows: readonly number[], o: ResponseFilesOptions, layout: Layout) {
  return (row: number, field: FrameField) => cellLocation(real, rows[row]!, frameColumn(field, o, layout));
}

/** The columns the options name: the only ones read from either file. */
function columnsRead(o: ResponseFilesOptions): string[] {
  const named = [o.id, o.weight, o.group, o.model, o.generation, o.distribution, o.long?.item, o.long?.value, ...(o.items ?? []), ...subgroupColumns(o)];
  return [...new Set(named.filter((name) => name !== undefined))];
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
        `missing subgroup column (--by); neither ${real.source} nor ${syn.source} has it; ${real.source} has: ${(real.fileColumnNames ?? real.columnNames).join(", ")}`,
      );
    }
  }
  return { realLong, synWave: o.group !== undefined && o.group in syn.columns };
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
