/**
 * Respondent frames: one row per respondent with an id, a weight, the
 * demographics personas are built from, and (for historical waves) the real
 * answers. CSV, Parquet or SPSS .sav/.zsav; one file per wave, or one long
 * panel file whose wave column picks each wave's rows. Everything is checked
 * when the frame is loaded, so that no call is paid for before a bad row is found.
 */
import { InputError } from "../errors.ts";
import { cellLocation, numberColumn, refuseHugeWeights, requireColumns } from "../tables/columns.ts";
import { readTable } from "../tables/read.ts";
import type { Cell, DataTable } from "../tables/types.ts";
import type { AnswerOption, SurveyItem } from "./schema.ts";

export interface Frame {
  /** Path as the user gave it; used in messages. */
  source: string;
  /** Number of respondents (rows). */
  size: number;
  /** Respondent ids as text (numeric SPSS ids are printed: 1017, not 1017.0). */
  ids: string[];
  /** Non-negative weights, one per respondent; zero is allowed (the respondent counts for nothing). */
  weights: Float64Array;
  columnNames: string[];
  /** Every column of one respondent, SPSS value labels applied ("Republican", not 2). */
  profile(index: number): Record<string, Cell>;
  /**
   * Real answers to `item` as numeric codes or values, NaN where missing
   * (an empty cell, an SPSS user-missing code, or a code listed under the
   * item's `missing:`). All NaN when the frame has no column for the item.
   */
  answers(item: SurveyItem): Float64Array;
  /** A column as stored (codes for SPSS). */
  column(name: string): Cell[];
  /** A column with SPSS value labels applied where a code has one. */
  labelled(name: string): Cell[];
}

export interface FrameOptions {
  idColumn: string;
  weightColumn: string;
  items: SurveyItem[];
  /** Historical waves must hold a real answer column for every item. */
  historical: boolean;
  /** Items a historical wave need not have answers to (pilot items, new questions). */
  optionalItems?: ReadonlySet<string>;
  /** The wave, when the table is one wave's rows of a panel file (see waveRows); named in messages. */
  wave?: string;
}

export interface WaveSelection {
  /** The column saying which wave a row belongs to. */
  column: string;
  /** This wave's value in it (or the value's SPSS label). */
  value: string;
  waveId: string;
}

/**
 * One wave's rows of a long panel file, as a table of their own that
 * remembers each row's number in the file for messages. Every row must name
 * its wave, and the wave must have rows: nothing is dropped silently.
 */
export function waveRows(table: DataTable, selection: WaveSelection): DataTable {
  const { column, value, waveId } = selection;
  requireColumns(table, [column], `the wave of each row, frame.wave_column of wave "${waveId}"`);
  const cells = table.columns[column]!;
  const labels = table.valueLabels[column];
  const chosen: number[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    const text = cell === null || cell === undefined ? "" : String(cell).trim();
    if (text === "") throw new InputError(cellLocation(table, i, column), "missing wave: every row of a panel file must say which wave it belongs to");
    const label = typeof cell === "number" ? labels?.get(cell) : undefined;
    if (text === value || label === value) chosen.push(i);
    else if (seen.size < 10) seen.add(text);
  }
  if (chosen.length === 0) {
    const held = [...seen].map((v) => JSON.stringify(v)).join(", ");
    throw new InputError(
      { file: table.source, field: column },
      `no rows for wave "${waveId}": expected rows holding ${JSON.stringify(value)}, the column holds ${held}; set wave_value in the wave's frame if the file codes the wave otherwise`,
    );
  }
  const pick = <T>(values: ArrayLike<T>) => chosen.map((i) => values[i]!);
  return {
    ...table,
    numRows: chosen.length,
    columns: Object.fromEntries(table.columnNames.map((name) => [name, pick(table.columns[name]!)])),
    ...(table.lines === undefined ? {} : { lines: Int32Array.from(pick(table.lines)) }),
    rows: Int32Array.from(chosen, (i) => table.rows?.[i] ?? i + 1),
  };
}

export async function loadFrame(path: string, options: FrameOptions): Promise<Frame> {
  const table = await readTable(path);
  return frameFromTable(table, options);
}

/** Builds and checks a Frame from a table already read (the simulator's frames, tests). */
export function frameFromTable(table: DataTable, options: FrameOptions): Frame {
  if (table.numRows === 0) throw new InputError({ file: table.source }, "no respondents: the frame has a header but no rows");
  requireColumns(table, [options.idColumn], "respondent id; set respondent.id in the study");
  requireColumns(table, [options.weightColumn], "respondent weight; set respondent.weight in the study");
  refuseNulBytes(table);
  const ids = readIds(table, options.idColumn, options.wave);
  const weights = numberColumn(table, options.weightColumn, { min: 0, expected: "a non-negative weight" });
  refuseHugeWeights(table, options.weightColumn, weights);
  if (!weights.some((w) => w > 0)) {
    throw new InputError({ file: table.source, field: options.weightColumn }, "every weight is zero: expected at least one positive weight");
  }
  const answers = new Map<string, Float64Array>();
  for (const item of options.items) {
    const name = answerColumn(item);
    if (!(name in table.columns)) {
      if (options.historical && !options.optionalItems?.has(item.id)) {
        requireColumns(table, [name], `real answers to item "${item.id}", required in a historical wave`);
      }
      continue;
    }
    answers.set(item.id, readAnswers(table, name, item));
  }
  const labelled = (name: string): Cell[] => {
    requireColumns(table, [name]);
    const cells = table.columns[name]!;
    const labels = table.valueLabels[name];
    return labels === undefined ? cells : cells.map((cell) => (typeof cell === "number" ? (labels.get(cell) ?? cell) : cell));
  };
  return {
    source: table.source,
    size: table.numRows,
    ids,
    weights,
    columnNames: table.columnNames,
    profile: (index) => {
      const row: Record<string, Cell> = {};
      for (const name of table.columnNames) {
        const cell = table.columns[name]![index] ?? null;
        const label = typeof cell === "number" ? table.valueLabels[name]?.get(cell) : undefined;
        row[name] = label ?? cell;
      }
      return row;
    },
    answers: (item) => {
      const known = answers.get(item.id);
      if (known !== undefined) return known;
      const name = answerColumn(item);
      return name in table.columns ? readAnswers(table, name, item) : new Float64Array(table.numRows).fill(NaN);
    },
    column: (name) => {
      requireColumns(table, [name]);
      return table.columns[name]!;
    },
    labelled,
  };
}

/** A NUL byte in a cell would go into prompts (and cut some of them short): a binary or damaged file. */
function refuseNulBytes(table: DataTable): void {
  for (const name of table.columnNames) {
    const cells = table.columns[name]!;
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i];
      if (typeof cell === "string" && cell.includes("\0")) {
        throw new InputError(cellLocation(table, i, name), "the value contains a NUL byte (\\0): is the file binary or damaged?");
      }
    }
  }
}

/** The frame column holding an item's real answers. */
export function answerColumn(item: SurveyItem): string {
  return item.column ?? item.id;
}

function readIds(table: DataTable, name: string, wave: string | undefined): string[] {
  const cells = table.columns[name]!;
  const ids = new Array<string>(cells.length);
  const firstRow = new Map<string, number>();
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    const id = cell === null || cell === undefined ? "" : String(cell).trim();
    if (id === "") throw new InputError(cellLocation(table, i, name), "missing respondent id");
    const first = firstRow.get(id);
    if (first !== undefined) {
      const firstRow = cellLocation(table, first).row;
      throw new InputError(
        cellLocation(table, i, name),
        wave === undefined
          ? `duplicate respondent id "${id}" (also row ${firstRow}): ids must be unique within a frame; a file holding several waves needs frame: {file, wave_column}`
          : `duplicate respondent id "${id}" in wave "${wave}" (also row ${firstRow}): ids must be unique within a wave`,
      );
    }
    firstRow.set(id, i);
    ids[i] = id;
  }
  return ids;
}

/** Reads and checks one item's real answers: codes among the options, values within range. */
function readAnswers(table: DataTable, name: string, item: SurveyItem): Float64Array {
  const cells = table.columns[name]!;
  const out = new Float64Array(cells.length);
  const missing = new Set(item.missing ?? []);
  const labels = table.valueLabels[name];
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i]!;
    if (cell === null || (typeof cell === "string" && cell.trim() === "")) {
      out[i] = NaN;
      continue;
    }
    const value = answerValue(item, cell);
    if (value !== undefined && missing.has(value)) {
      out[i] = NaN;
      continue;
    }
    if (value === undefined || !acceptable(item, value)) {
      const label = typeof cell === "number" ? labels?.get(cell) : undefined;
      const got = typeof cell === "string" ? JSON.stringify(cell) : `${String(cell)}${label !== undefined ? ` ("${label}")` : ""}`;
      const hint = typeof cell === "number" ? `; if ${cell} means no answer, list it under "missing:" in item "${item.id}"` : "";
      throw new InputError(cellLocation(table, i, name), `expected ${expectedAnswer(item)} for item "${item.id}", got ${got}${hint}`);
    }
    out[i] = value;
  }
  return out;
}

/** A cell as an item's numeric code or value; option labels are accepted (case-insensitive) for choice items. */
function answerValue(item: SurveyItem, cell: Exclude<Cell, null>): number | undefined {
  if (typeof cell === "boolean") return item.type === "binary" ? Number(cell) : undefined;
  if (typeof cell === "number") return cell;
  const text = cell.trim();
  const number = Number(text);
  if (text !== "" && Number.isFinite(number)) return number;
  if ("options" in item) {
    const lower = text.toLowerCase();
    return item.options.find((o: AnswerOption) => o.label.trim().toLowerCase() === lower)?.code;
  }
  return undefined;
}

function acceptable(item: SurveyItem, value: number): boolean {
  switch (item.type) {
    case "binary":
    case "single_choice":
    case "likert":
      return item.options.some((o) => o.code === value);
    case "thermometer":
      return value >= item.min && value <= item.max;
    case "numeric":
      return value >= item.min && value <= item.max && (!item.integer || Number.isInteger(value));
  }
}

function expectedAnswer(item: SurveyItem): string {
  switch (item.type) {
    case "binary":
    case "single_choice":
    case "likert":
      return `one of ${item.options.map((o) => `${o.code} (${o.label})`).join(", ")}`;
    case "thermometer":
      return `a rating from ${item.min} to ${item.max}`;
    case "numeric":
      return `${item.integer ? "a whole number" : "a number"} from ${item.min} to ${item.max}`;
  }
}
