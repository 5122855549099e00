/**
 * Runs a held-out protocol (leave-one-out or chronological) and summarizes
 * it per model in the shape of DESIGN.md's `evaluate --json`; the
 * chronological protocol adds coverage per group (wave).
 */
import { stackedForAdjustment, type CalibrationOptions } from "../inference/calibrate.ts";
import type { TaskRecord } from "../inference/task-record.ts";
import { chronological, type ChronoStep } from "./chrono.ts";
import { leaveOneOut, type SkippedTask } from "./loo.ts";
import { byModel, summarize, type CoverageSummary, type EvaluatedTask } from "./metrics.ts";

export type Protocol = "loo" | "chrono";
export const PROTOCOLS: readonly Protocol[] = ["loo", "chrono"];

export interface GroupSummary extends CoverageSummary {
  /** Historical tasks of earlier groups this group was calibrated on (whole tasks for a joint method, as `tasks` and `skipped` count). */
  history: number;
  /** Tasks of the group that could not be calibrated (too little history for α). */
  skipped: number;
}

export interface ModelEvaluation extends CoverageSummary {
  /** Chronological protocol only: each predicted (or skipped) group in order. */
  by_group?: Record<string, GroupSummary>;
}

export interface EvaluationReport {
  protocol: Protocol;
  method: string;
  alpha: number;
  by_model: Record<string, ModelEvaluation>;
}

export interface Evaluation {
  report: EvaluationReport;
  tasks: EvaluatedTask[];
  steps: ChronoStep[];
  /**
   * Leave-one-out with `uncalibratable: "skip"`: tasks of cells with too
   * little history for α, left out (their model is missing from by_model
   * when every one of its tasks was). The chronological protocol counts its
   * skipped tasks in `steps`.
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
): Evaluation {
  // Stacking needs every model's rows: before the protocols split them by model and group.
  ({ history, targets: scoredTargets, options } = stackedForAdjustment(history, scoredTargets, options));
  let tasks: EvaluatedTask[];
  let steps: ChronoStep[] = [];
  let skipped: SkippedTask[] = [];
  let notes: string[];
  if (protocol === "loo") ({ tasks, skipped, notes } = leaveOneOut(history, options));
  else {
    ({ tasks, steps, notes } = chronological(history, scoredTargets, options));
    const reasons = new Set(steps.flatMap((s) => s.reasons.map((r) => `group ${s.group}: ${r}`)));
    notes = [...notes, ...[...reasons].map((r) => `skipped in ${r}`)];
  }
  const by_model: Record<string, ModelEvaluation> = {};
  const models = [...new Set(history.map((r) => r.model))];
  const evaluated = byModel(tasks);
  for (const model of models) {
    // A model whose every held-out task was skipped has no result, only its problem.
    if (protocol === "loo" && !evaluated.has(model) && skipped.some((s) => s.model === model)) continue;
    const summary: ModelEvaluation = summarize(evaluated.get(model) ?? []);
    if (protocol === "chrono") {
      const groups: Record<string, GroupSummary> = {};
      for (const step of steps.filter((s) => s.model === model)) {
        const inGroup = (evaluated.get(model) ?? []).filter((t) => t.group === step.group);
        groups[step.group] = { ...summarize(inGroup), history: step.history, skipped: step.skipped };
      }
      summary.by_group = groups;
    }
    by_model[model] = summary;
  }
  return { report: { protocol, method: options.method, alpha: options.alpha, by_model }, tasks, steps, skipped, notes };
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
