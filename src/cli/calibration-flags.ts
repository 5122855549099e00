/**
 * The options calibrate, evaluate and compare share, as the command line
 * declares them: the method, α, scale, strata, regression adjustment and
 * Algorithm 2's weights, with their help, and the action that takes the
 * study or the --tasks path. Cheap to import, since every start-up loads it
 * for the help; checking the values (calibration-options.ts) is loaded only
 * when a command runs.
 */
import { Option, type Command } from "commander";
import type { TasksTable } from "../config/tasks.ts";
import { UsageError } from "../errors.ts";
import { DEFAULT_RIDGE, DEFAULT_SEED } from "../inference/adjust.ts";
import { METHOD_NAMES, type MethodName } from "../inference/algorithm.ts";

/** Raw option values as commander hands them over. */
export interface RawCalibrationOptions {
  tasks?: string;
  method: string;
  alpha: string;
  range: string;
  strata?: string;
  adjust?: boolean;
  adjustSplit?: boolean;
  folds?: string;
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
  "alg3-fitted      alg3 centred and scaled on a random quarter of the history (left out of calibration)",
  "alg4             finite-sample target θ̂: order statistics of observed gaps, no split",
  "alg5             alg1 with simultaneous gap intervals (tasks exchangeable, datasets not)",
].map((line) => `  ${line}`).join("\n");

export function addTasksOption(command: Command): Command {
  return command.option("--tasks <file>", "tasks table (.csv, .parquet, .sav or .zsav) with the columns docs/calibrate.md describes");
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
    .option("--adjust", "regression-adjusted calibration, cross-fitted (CV+): features chosen by cross-validation on the history, plain where they do not help")
    .option("--adjust-split", "with --adjust: the exact split variant instead (fit on one half of the history, calibrate on the other)")
    .option("--folds <K>", "with --adjust: folds of the cross-fitting (default: min(groups, 10))")
    .option("--split-by <column>", "with --adjust: tasks sharing a value stay in one fold (half) (default: item, else task)")
    .option("--features <terms>", "with --adjust: comma-separated terms: column, column^2, a:b; none = intercept only (default: chosen automatically)")
    .option("--ridge <lambda>", "with --adjust: ridge penalty on the gap model's coefficients", String(DEFAULT_RIDGE))
    .option("--seed <n>", "with --adjust: seed of the split into halves", String(DEFAULT_SEED))
    .option("--weights <column>", "alg2: column of task weights in [0, 1] (default: weight)")
    .option("--decay <gamma>", "alg2: weight each task γ^age, age = waves (group) before the latest");
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

/** Loads the table from --tasks, or says what is missing. */
export function tasksSourceFrom(raw: { tasks?: string }, study: string | undefined, command: string): TasksSource {
  if (raw.tasks !== undefined) {
    if (study !== undefined) throw new UsageError(`silicon ${command}: give either <study.yaml> or --tasks, not both`);
    const path = raw.tasks;
    return async () => (await import("../config/tasks.ts")).readTasksTable(path);
  }
  throw new UsageError(`silicon ${command} needs a tasks table: --tasks <file> (or a <study.yaml>)`);
}
