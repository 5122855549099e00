/**
 * Runs a held-out protocol and summarizes it per model in the shape of
 * DESIGN.md's `evaluate --json`: leave-one-task-out ("loo"), chronological
 * ("chrono", expanding window over waves) or leave-one-group-out ("group",
 * every task sharing a value of one column held out together). The last two
 * add coverage per held-out group, with an exact binomial interval.
 */
import { stackedForAdjustment, type CalibrationOptions } from "../inference/calibrate.ts";
import type { TaskRecord } from "../inference/task-record.ts";
import { chronological, type ChronoStep } from "./chrono.ts";
import { DEFAULT_GROUP_COLUMN, leaveGroupOut } from "./groups.ts";
import type { HeldOutStep } from "./held-out.ts";
import { leaveOneOut, type SkippedTask } from "./loo.ts";
import { byModel, clopperPearson, COVERAGE_CONFIDENCE, summarize, type CoverageSummary, type EvaluatedTask } from "./metrics.ts";

export type Protocol = "loo" | "chrono" | "group";
export const PROTOCOLS: readonly Protocol[] = ["loo", "chrono", "group"];

/** Coverage with its exact (Clopper–Pearson) 95% interval, treating tasks as independent. */
export interface CoverageInterval {
  coverage_lower: number;
  coverage_upper: number;
}

export interface GroupSummary extends CoverageSummary, CoverageInterval {
  /** Historical tasks this group was calibrated on (whole tasks for a joint method, as `tasks` and `skipped` count). */
  history: number;
  /** Tasks of the group that could not be calibrated (too little history for α). */
  skipped: number;
}

export interface ModelEvaluation extends CoverageSummary, Partial<CoverageInterval> {
  /**
   * Leave-one-out with alg4: the coverage arithmetic alone fixes,
   * Σ(k_hi − k_lo)/Σ n over its cells, whatever the data.
   */
  arithmetic_coverage?: number;
  /** Chronological and group protocols: each predicted (or skipped) group in order. */
  by_group?: Record<string, GroupSummary>;
}

export interface EvaluationReport {
  protocol: Protocol;
  method: string;
  alpha: number;
  /** Group protocol: the column whose values were held out together. */
  group_by?: string;
  /**
   * True when the reported coverage is determined by T and α alone (alg4
   * under leave-one-out, cell by cell under strata and adjustment): a check
   * that cannot fail.
   */
  coverage_fixed_by_arithmetic: boolean;
  by_model: Record<string, ModelEvaluation>;
}

export interface EvaluateOptions {
  /** Group protocol: the column to hold out by (default `group`, the wave). */
  groupBy?: string;
}

export interface Evaluation {
  report: EvaluationReport;
  tasks: EvaluatedTask[];
  /** Chronological and group protocols: one step per model and held-out group. */
  steps: HeldOutStep[];
  /**
   * Leave-one-out with `uncalibratable: "skip"`: tasks of cells with too
   * little history for α, left out (their model is missing from by_model
   * when every one of its tasks was). The chronological and group protocols
   * count their skipped tasks in `steps`.
   */
  skipped: SkippedTask[];
  /** What the plan wants the user to know (e.g. how vector tasks were treated), and skip reasons. */
  notes: string[];
}

/**
 * `history`: rows with real and synthetic data; `scoredTargets`: target rows
 * with a real estimate, scored by the chronological protocol only.
 */
export function evaluate(
  protocol: Protocol,
  history: readonly TaskRecord[],
  scoredTargets: readonly TaskRecord[],
  options: CalibrationOptions,
  evaluateOptions: EvaluateOptions = {},
): Evaluation {
  // Stacking needs every model's rows: before the protocols split them by model and group.
  ({ history, targets: scoredTargets, options } = stackedForAdjustment(history, scoredTargets, options));
  let tasks: EvaluatedTask[];
  let steps: ChronoStep[] = [];
  let skipped: SkippedTask[] = [];
  let notes: string[];
  let fixed: Map<string, { covered: number; tasks: number }> | undefined;
  const groupBy = evaluateOptions.groupBy ?? DEFAULT_GROUP_COLUMN;
  if (protocol === "loo") ({ tasks, skipped, notes, fixedCoverage: fixed } = leaveOneOut(history, options));
  else {
    ({ tasks, steps, notes } = protocol === "chrono" ? chronological(history, scoredTargets, options) : leaveGroupOut(history, options, groupBy));
    const reasons = new Set(steps.flatMap((s) => s.reasons.map((r) => `${protocol === "chrono" ? "group" : groupBy} ${s.group}: ${r}`)));
    notes = [...notes, ...[...reasons].map((r) => `skipped in ${r}`)];
  }
  const by_model: Record<string, ModelEvaluation> = {};
  const models = [...new Set(history.map((r) => r.model))];
  const evaluated = byModel(tasks);
  const stepOf = stepIndex(steps, tasks);
  for (const model of models) {
    // A model whose every held-out task was skipped has no result, only its problem.
    if (protocol === "loo" && !evaluated.has(model) && skipped.some((s) => s.model === model)) continue;
    const own = evaluated.get(model) ?? [];
    // Leave-one-out tasks share calibration sets, so no binomial interval is claimed for them.
    const summary: ModelEvaluation = protocol === "loo" ? summarize(own) : { ...summarize(own), ...coverageInterval(own) };
    const arithmetic = fixed?.get(model);
    if (arithmetic !== undefined) summary.arithmetic_coverage = arithmetic.covered / arithmetic.tasks;
    if (protocol !== "loo") {
      const groups: Record<string, GroupSummary> = {};
      for (const step of steps.filter((s) => s.model === model)) {
        const inGroup = stepOf.get(step) ?? [];
        groups[step.group] = { ...summarize(inGroup), ...coverageInterval(inGroup), history: step.history, skipped: step.skipped };
      }
      summary.by_group = groups;
    }
    by_model[model] = summary;
  }
  const report: EvaluationReport = {
    protocol,
    method: options.method,
    alpha: options.alpha,
    ...(protocol === "group" ? { group_by: groupBy } : {}),
    coverage_fixed_by_arithmetic: fixed !== undefined && Object.values(by_model).some((m) => m.arithmetic_coverage !== undefined),
    by_model,
  };
  return { report, tasks, steps, skipped, notes };
}

/** The scored tasks of each step: steps append their tasks in order, so each step's are the next `predicted`. */
function stepIndex(steps: readonly HeldOutStep[], tasks: readonly EvaluatedTask[]): Map<HeldOutStep, EvaluatedTask[]> {
  const out = new Map<HeldOutStep, EvaluatedTask[]>();
  let next = 0;
  for (const step of steps) {
    out.set(step, tasks.slice(next, next + step.predicted));
    next += step.predicted;
  }
  return out;
}

function coverageInterval(tasks: readonly EvaluatedTask[]): CoverageInterval {
  const [coverage_lower, coverage_upper] = clopperPearson(tasks.filter((t) => t.covered).length, tasks.length, COVERAGE_CONFIDENCE);
  return { coverage_lower, coverage_upper };
}

/** One line per model with skipped tasks: how many, and why (the first reason; they share one per cell). */
export function skippedByModel(skipped: readonly { model: string; reason: string }[]): { model: string; tasks: number; reason: string }[] {
  const by = new Map<string, { model: string; tasks: number; reason: string }>();
  for (const s of skipped) {
    const entry = by.get(s.model);
    if (entry === undefined) by.set(s.model, { model: s.model, tasks: 1, reason: s.reason });
    else entry.tasks += 1;
  }
  return [...by.values()];
}
