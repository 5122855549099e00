/**
 * Runs a held-out protocol (leave-one-out or chronological) and summarizes
 * it per model in the shape of DESIGN.md's `evaluate --json`; the
 * chronological protocol adds coverage per group (wave).
 */
import type { CalibrationOptions } from "../inference/calibrate.ts";
import type { TaskRecord } from "../inference/task-record.ts";
import { chronological, type ChronoStep } from "./chrono.ts";
import { leaveOneOut } from "./loo.ts";
import { byModel, summarize, type CoverageSummary, type EvaluatedTask } from "./metrics.ts";

export type Protocol = "loo" | "chrono";
export const PROTOCOLS: readonly Protocol[] = ["loo", "chrono"];

export interface GroupSummary extends CoverageSummary {
  /** Historical task rows of earlier groups this group was calibrated on. */
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
  let tasks: EvaluatedTask[];
  let steps: ChronoStep[] = [];
  let notes: string[];
  if (protocol === "loo") ({ tasks, notes } = leaveOneOut(history, options));
  else {
    ({ tasks, steps, notes } = chronological(history, scoredTargets, options));
    const reasons = new Set(steps.flatMap((s) => s.reasons.map((r) => `group ${s.group}: ${r}`)));
    notes = [...notes, ...[...reasons].map((r) => `skipped in ${r}`)];
  }
  const by_model: Record<string, ModelEvaluation> = {};
  const models = [...new Set(history.map((r) => r.model))];
  const evaluated = byModel(tasks);
  for (const model of models) {
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
  return { report: { protocol, method: options.method, alpha: options.alpha, by_model }, tasks, steps, notes };
}
