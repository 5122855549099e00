/**
 * Models side by side (the methodologist's question: which vendor's silicon
 * samples are least biased, and so most useful?): the distribution of each
 * model's gaps real − synthetic over its historical tasks, and its held-out
 * calibrated width and coverage beside the naive baseline's.
 */
import type { CalibrationOptions } from "../inference/calibrate.ts";
import { gapOf, type TaskRecord } from "../inference/task-record.ts";
import { evaluate, type Protocol } from "./evaluate.ts";
import type { SkippedTask } from "./loo.ts";
import { mean, quantile, standardDeviation, type CoverageSummary } from "./metrics.ts";

export interface GapDistribution {
  /** Mean gap real − synthetic: the model's average bias (positive: it underestimates). */
  mean: number;
  sd: number;
  mean_abs: number;
  q05: number;
  q25: number;
  q50: number;
  q75: number;
  q95: number;
}

export interface ModelComparison {
  model: string;
  /** Historical task rows with real data. */
  history: number;
  gap: GapDistribution;
  evaluation: CoverageSummary;
}

export function gapDistribution(rows: readonly TaskRecord[]): GapDistribution {
  const gaps = rows.map(gapOf).filter(Number.isFinite);
  return {
    mean: mean(gaps),
    sd: standardDeviation(gaps),
    mean_abs: mean(gaps.map(Math.abs)),
    q05: quantile(gaps, 0.05),
    q25: quantile(gaps, 0.25),
    q50: quantile(gaps, 0.5),
    q75: quantile(gaps, 0.75),
    q95: quantile(gaps, 0.95),
  };
}

/** One comparison per model, narrowest calibrated median width first. */
export function compareModels(
  protocol: Protocol,
  history: readonly TaskRecord[],
  scoredTargets: readonly TaskRecord[],
  options: CalibrationOptions,
): { models: ModelComparison[]; skipped: SkippedTask[]; notes: string[] } {
  const { report, skipped, notes } = evaluate(protocol, history, scoredTargets, options);
  const out = Object.entries(report.by_model).map(([model, evaluation]) => {
    const rows = history.filter((r) => r.model === model);
    const { by_group: _, ...summary } = evaluation;
    return { model, history: rows.length, gap: gapDistribution(rows), evaluation: summary };
  });
  out.sort((a, b) => a.evaluation.median_width - b.evaluation.median_width || a.model.localeCompare(b.model));
  return { models: out, skipped, notes };
}
