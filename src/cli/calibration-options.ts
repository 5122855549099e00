/**
 * Options shared by calibrate, evaluate and compare: the method, α, scale,
 * strata, regression adjustment and Algorithm 2's weights. Declared once
 * here (with their help), parsed and validated into CalibrationOptions.
 */
import { Option, type Command } from "commander";
import type { TasksTable } from "../config/tasks.ts";
import { UsageError } from "../errors.ts";
import { defaultFeatures, defaultSplitBy, DEFAULT_RIDGE, DEFAULT_SEED } from "../inference/adjust.ts";
import { METHOD_NAMES, type MethodName } from "../inference/algorithm.ts";
import { detectRange, validateAlpha, type CalibrationOptions } from "../inference/calibrate.ts";
import { METHODS } from "../inference/methods.ts";
import { hasColumn } from "../inference/task-record.ts";

/** Raw option values as commander hands them over. */
export interface RawCalibrationOptions {
  tasks?: string;
  method: string;
  alpha: string;
  range: string;
  strata?: string;
  adjust?: boolean;
  splitBy?: string;
  features?: string;
  ridge: string;
  seed: string;
  weights?: string;
  decay?: string;
  interval: string;
}

/** Produces the tasks table a command works on from `--tasks F` (a study file takes the study forms in src/cli/study-commands.ts instead). */
export type TasksSource = () => Promise<TasksTable>;

/** The methods for help texts, indented by two spaces. */
export const METHOD_HELP = [
  "alg1             population target; α split α_s + α_g + α_e (paper Algorithm 1)",
  "alg2             alg1 with fixed task weights in [0, 1] (--weights COLUMN or --decay γ)",
  "alg3             joint rectangle for vector tasks (rows sharing `task`, one per `coord`)",
  "alg3-bonferroni  alg1 on each coordinate at α/d, combined as a rectangle",
  "alg4             finite-sample target θ̂: order statistics of observed gaps, no split",
  "alg5             alg1 with simultaneous gap intervals (tasks exchangeable, datasets not)",
].map((line) => `  ${line}`).join("\n");

export function addTasksOption(command: Command): Command {
  return command.option("--tasks <file>", "tasks table (.csv, .parquet or .sav) with the columns docs/calibrate.md describes");
}

export function addCalibrationOptions(command: Command, defaultMethod: MethodName): Command {
  return command
    .addOption(new Option("--method <name>", "calibration method (see below)").choices(METHOD_NAMES).default(defaultMethod))
    .option("--alpha <a>", "error level α in (0, 1): intervals at 1 − α", "0.1")
    .option("--range <auto|none|lo,hi>", "clip to a scale: auto = [0, 1] when every estimate is a proportion", "auto")
    .addOption(
      new Option("--interval <form>", "the synthetic (and naive) interval: wald, or logit for proportions (svyciprop's; needs syn_n)")
        .choices(["wald", "logit"])
        .default("wald"),
    )
    .option("--strata <columns>", "Mondrian calibration: each value (combination) of these comma-separated columns on its own")
    .option("--adjust", "regression-adjusted calibration: fit a gap model on half of the history, calibrate residuals on the other")
    .option("--split-by <column>", "with --adjust: tasks sharing a value stay in one half (default: item, else task)")
    .option("--features <terms>", "with --adjust: comma-separated terms: column, column^2, a:b (default: syn_est,syn_est^2,subgroup,item); none = intercept only")
    .option("--ridge <lambda>", "with --adjust: ridge penalty on the gap model's coefficients", String(DEFAULT_RIDGE))
    .option("--seed <n>", "with --adjust: seed of the split into halves", String(DEFAULT_SEED))
    .option("--weights <column>", "alg2: column of task weights in [0, 1] (default: weight)")
    .option("--decay <gamma>", "alg2: weight each task γ^age, age = waves (group) before the latest");
}

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

  if (!raw.adjust && (raw.splitBy !== undefined || raw.features !== undefined)) {
    throw new UsageError(`${raw.splitBy !== undefined ? "--split-by" : "--features"} only applies with --adjust`);
  }
  let adjust: CalibrationOptions["adjust"];
  if (raw.adjust) {
    const splitBy = raw.splitBy ?? defaultSplitBy(rows);
    if (splitBy !== "task" && !hasColumn(rows, splitBy)) throw new UsageError(`--split-by: ${table.source} has no values in a column "${splitBy}"`);
    const features =
      raw.features === undefined ? defaultFeatures(rows, splitBy) : raw.features.trim() === "none" ? [] : columnList(raw.features, "--features");
    const ridge = parseRidge(raw.ridge);
    const seed = parseSeed(raw.seed);
    // A pool whose history has one value of the split (e.g. one item) is split by task instead, with a note.
    adjust = { splitBy, features, ridge, seed, ...(splitBy !== "task" ? { splitByFallback: "task" } : {}) };
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

type StudyRunner = (study: string, options: never, cmd: Command) => Promise<unknown>;
type TasksRunner = (source: TasksSource, options: never) => Promise<unknown>;

/**
 * The action of calibrate, evaluate and compare: a study file takes the study
 * path; otherwise the --tasks table, refusing flags that path would ignore.
 * The runners are loaded only when used, to keep start-up quick.
 */
export function tasksOrStudyAction(name: string, study: () => Promise<StudyRunner>, tasks: () => Promise<TasksRunner>) {
  return async (studyFile: string | undefined, options: Record<string, unknown>, cmd: Command): Promise<void> => {
    if (studyFile !== undefined && options["tasks"] === undefined) {
      if (/\.(csv|parquet|pq|sav)$/i.test(studyFile)) {
        throw new UsageError(`${studyFile} is a table, not a study file: give a tasks table as --tasks ${studyFile}`);
      }
      await (await study())(studyFile, options as never, cmd);
      return;
    }
    refuseIgnoredFlags(cmd, options);
    await (await tasks())(tasksSourceFrom(options, studyFile, name), options as never);
  };
}

/** Flags with a default that only apply beside another flag: typed alone they would do nothing. */
function refuseIgnoredFlags(cmd: Command, options: Record<string, unknown>): void {
  const given = (key: string) => ["cli", "env"].includes(cmd.getOptionValueSource(key) ?? "");
  if (given("results")) throw new UsageError("--results applies with a <study.yaml>; with --tasks the table is read from the file named");
  for (const [key, flag] of [["ridge", "--ridge"], ["seed", "--seed"]] as const) {
    if (given(key) && options["adjust"] !== true) throw new UsageError(`${flag} only applies with --adjust`);
  }
  if (given("lambda") && options["intersectReal"] !== true) throw new UsageError("--lambda only applies with --intersect-real");
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

/** Loads the table from --tasks, or says what is missing. */
export function tasksSourceFrom(raw: { tasks?: string }, study: string | undefined, command: string): TasksSource {
  if (raw.tasks !== undefined) {
    if (study !== undefined) throw new UsageError(`silicon ${command}: give either <study.yaml> or --tasks, not both`);
    const path = raw.tasks;
    return async () => (await import("../config/tasks.ts")).readTasksTable(path);
  }
  throw new UsageError(`silicon ${command} needs a tasks table: --tasks <file> (or a <study.yaml>)`);
}
