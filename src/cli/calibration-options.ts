/**
 * The shared calibration options (declared in calibration-flags.ts) checked
 * against the tasks table and turned into CalibrationOptions, with the notes
 * on how the table is pooled.
 */
import type { TasksTable } from "../config/tasks.ts";
import { UsageError } from "../errors.ts";
import { defaultFeatures, defaultSplitBy } from "../inference/adjust.ts";
import type { MethodName } from "../inference/algorithm.ts";
import { detectRange, validateAlpha, type CalibrationOptions } from "../inference/calibrate.ts";
import { METHODS } from "../inference/methods.ts";
import { hasColumn } from "../inference/task-record.ts";
import type { RawCalibrationOptions } from "./calibration-flags.ts";

function number(text: string, option: string, what: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value)) throw new UsageError(`${option} must be ${what}, got ${JSON.stringify(text)}`);
  return value;
}

/** --decay: Algorithm 2's γ in (0, 1]. */
export function parseDecay(text: string): number {
  const decay = number(text, "--decay", "a number in (0, 1]");
  if (!(decay > 0 && decay <= 1)) throw new UsageError(`--decay must be a number in (0, 1], got ${text}`);
  return decay;
}

/** --ridge: the gap model's penalty, ≥ 0. */
export function parseRidge(text: string): number {
  const ridge = number(text, "--ridge", "a number ≥ 0");
  if (ridge < 0) throw new UsageError(`--ridge must be a number ≥ 0, got ${text}`);
  return ridge;
}

/** --seed: the split's seed, a whole number. */
export function parseSeed(text: string): number {
  const seed = number(text, "--seed", "a whole number");
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be a whole number, got ${text}`);
  return seed;
}

/** --folds: the cross-fitting's K, a whole number ≥ 2. */
export function parseFolds(text: string): number {
  const folds = number(text, "--folds", "a whole number ≥ 2");
  if (!Number.isInteger(folds) || folds < 2) throw new UsageError(`--folds must be a whole number ≥ 2, got ${text}`);
  return folds;
}

export function parseAlpha(text: string): number {
  const alpha = Number(text);
  if (text.trim() === "" || !Number.isFinite(alpha)) throw new UsageError(`--alpha must be a number in (0, 1), got ${JSON.stringify(text)}`);
  validateAlpha(alpha);
  return alpha;
}

function columnList(text: string, option: string): string[] {
  const columns = text.split(",").map((c) => c.trim());
  if (columns.some((c) => c === "")) throw new UsageError(`${option}: empty column name in ${JSON.stringify(text)}`);
  return columns;
}

/** What --range resolved to, for messages. */
export function describeRange(range: readonly [number, number] | null | undefined, raw: string): string {
  if (range === null || range === undefined) return raw === "none" ? "not clipped (--range none)" : "not clipped (estimates are not all in [0, 1]; set --range lo,hi)";
  return `clipped to [${range[0]}, ${range[1]}]${raw === "auto" ? " (every estimate is a proportion)" : ""}`;
}

/** Validates raw options against the table and builds CalibrationOptions. */
export function calibrationOptions(raw: RawCalibrationOptions, table: TasksTable): CalibrationOptions {
  const method = raw.method as MethodName;
  const algorithm = METHODS[method];
  const alpha = parseAlpha(raw.alpha);
  const rows = table.rows;

  let range: [number, number] | null;
  if (raw.range === "auto") range = detectRange(rows);
  else if (raw.range === "none") range = null;
  else {
    const parts = raw.range.split(",");
    const [lo, hi] = parts.map((p) => Number(p));
    if (parts.length !== 2 || !Number.isFinite(lo) || !Number.isFinite(hi) || !(lo! < hi!)) {
      throw new UsageError(`--range must be auto, none or lo,hi with lo < hi (e.g. 0,100), got ${JSON.stringify(raw.range)}`);
    }
    range = [lo!, hi!];
  }

  let strata = raw.strata === undefined ? undefined : columnList(raw.strata, "--strata");
  for (const column of strata ?? []) {
    if (!hasColumn(rows, column)) throw new UsageError(`--strata: ${table.source} has no values in a column "${column}"`);
  }
  // A study's tasks table says each row's kind (scale): kinds are never pooled.
  if (kindsOf(table).length > 1 && !(strata ?? []).includes(KIND)) strata = [KIND, ...(strata ?? [])];

  for (const [value, flag] of [[raw.splitBy, "--split-by"], [raw.features, "--features"], [raw.adjustSplit, "--adjust-split"], [raw.folds, "--folds"]] as const) {
    if (!raw.adjust && value !== undefined) throw new UsageError(`${flag} only applies with --adjust`);
  }
  let adjust: CalibrationOptions["adjust"];
  if (raw.adjust) {
    const splitBy = raw.splitBy ?? defaultSplitBy(rows);
    if (splitBy !== "task" && !hasColumn(rows, splitBy)) throw new UsageError(`--split-by: ${table.source} has no values in a column "${splitBy}"`);
    const mode = raw.adjustSplit ? "split" : "cv";
    const features =
      raw.features === undefined
        ? mode === "split"
          ? defaultFeatures(rows, splitBy)
          : "auto"
        : raw.features.trim() === "none"
          ? []
          : columnList(raw.features, "--features");
    const ridge = parseRidge(raw.ridge);
    const seed = parseSeed(raw.seed);
    if (mode === "split" && raw.folds !== undefined) throw new UsageError("--folds applies to the cross-fitted adjustment, not --adjust-split");
    const folds = raw.folds === undefined ? undefined : parseFolds(raw.folds);
    // A pool whose history has one value of the split (e.g. one item) is split by task instead, with a note.
    adjust = { mode, splitBy, features, ridge, seed, ...(folds === undefined ? {} : { folds }), ...(splitBy !== "task" ? { splitByFallback: "task" } : {}) };
  }

  if (!algorithm.weighted && (raw.weights !== undefined || raw.decay !== undefined)) {
    throw new UsageError(`${raw.weights !== undefined ? "--weights" : "--decay"} only applies with --method alg2`);
  }
  let weights: CalibrationOptions["weights"];
  if (algorithm.weighted) {
    if (raw.weights !== undefined && raw.decay !== undefined) throw new UsageError("--weights and --decay are alternatives: give one");
    if (raw.decay !== undefined) {
      const decay = parseDecay(raw.decay);
      if (!hasColumn(rows, "group")) throw new UsageError(`--decay weights tasks by the age of their group, but ${table.source} has no group column`);
      weights = { decay };
    } else {
      const column = raw.weights ?? "weight";
      if (!hasColumn(rows, column)) {
        throw new UsageError(`--method alg2 needs task weights: ${table.source} has no values in a column "${column}" (name one with --weights, or use --decay γ)`);
      }
      weights = { column };
    }
  }

  return {
    method,
    alpha,
    range,
    ...(strata === undefined ? {} : { strata }),
    ...(adjust === undefined ? {} : { adjust }),
    ...(weights === undefined ? {} : { weights }),
    ...(raw.interval === "logit" ? { interval: "logit" as const } : {}),
    locate: (row, field) => table.locate(row as never, field),
  };
}

const KIND = "kind";

/** The distinct values of a `kind` column (a study's tasks.csv has one), in order of appearance. */
function kindsOf(table: TasksTable): string[] {
  const kinds = new Set<string>();
  for (const row of table.rows) {
    const kind = row.extra[KIND];
    if (kind !== undefined && kind !== "") kinds.add(kind);
  }
  return [...kinds];
}

/**
 * What the user should know about how the table is pooled: that its `kind`
 * column made each kind its own stratum, or, without one, that the history
 * mixes items on [0, 1] with items on a larger scale (gaps in points and in
 * shares calibrated together).
 */
export function poolingNotes(table: TasksTable): string[] {
  const kinds = kindsOf(table);
  if (kinds.length > 1) {
    return [`${table.source} has ${kinds.length} kinds of task (${kinds.join(", ")}) in its kind column: each is calibrated on its own (a stratum)`];
  }
  if (kinds.length === 1 || !hasColumn(table.rows, "item")) return [];
  const unit = new Map<string, boolean>();
  for (const row of table.rows) {
    const item = row.item ?? "";
    const inUnit = [row.real_est, row.syn_est].every((x) => x === undefined || (x >= 0 && x <= 1));
    unit.set(item, (unit.get(item) ?? true) && inUnit);
  }
  const small = [...unit].filter(([, u]) => u).map(([i]) => i);
  const large = [...unit].filter(([, u]) => !u).map(([i]) => i);
  if (small.length === 0 || large.length === 0) return [];
  return [
    `${table.source} pools items whose estimates all lie in [0, 1] (${small.slice(0, 3).join(", ")}${small.length > 3 ? ", …" : ""}) with items on a larger scale ` +
      `(${large.slice(0, 3).join(", ")}${large.length > 3 ? ", …" : ""}); their gaps are calibrated together: add a kind column or --strata to keep scales apart`,
  ];
}

