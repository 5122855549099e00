/**
 * Models side by side (the methodologist's question: which vendor's silicon
 * samples are least biased, and so most useful?): the distribution of each
 * model's gaps real − synthetic over its historical tasks, and its held-out
 * calibrated width and coverage beside the naive baseline's.
 */
import { DEFAULT_RIDGE, DEFAULT_SEED } from "../inference/adjust.ts";
import type { CalibrationOptions } from "../inference/calibrate.ts";
import { ENSEMBLE_MODEL, ensembleRows } from "../inference/stack.ts";
import { gapOf, hasColumn, type TaskRecord } from "../inference/task-record.ts";
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
  const models = new Set(history.map((r) => r.model));
  if (models.size >= 2 && !models.has(ENSEMBLE_MODEL)) {
    const ensemble = ensembleEvaluation(protocol, history, scoredTargets, options);
    if (ensemble !== undefined) {
      out.push(ensemble.comparison);
      skipped.push(...ensemble.skipped);
      notes.push(
        `${ENSEMBLE_MODEL}: the stacked combination of all ${models.size} models (their mean synthetic estimate, adjusted by a cross-fitted gap model on every model's estimate of the task); ` +
          `what asking several vendors buys`,
      );
    }
  }
  out.sort((a, b) => a.evaluation.median_width - b.evaluation.median_width || a.model.localeCompare(b.model));
  return { models: out, skipped, notes };
}

/**
 * The pseudo-model `ensemble` evaluated like a model: its rows from
 * ensembleRows, calibrated with the automatic cross-fitted adjustment (the
 * stacking is its point), whatever adjustment the models themselves used.
 */
function ensembleEvaluation(
  protocol: Protocol,
  history: readonly TaskRecord[],
  scoredTargets: readonly TaskRecord[],
  options: CalibrationOptions,
): { comparison: ModelComparison; skipped: SkippedTask[] } | undefined {
  const rows = ensembleRows(history);
  const splitBy = hasColumn(rows, "item") ? "item" : "task";
  const adjust = { mode: "cv" as const, splitBy, splitByFallback: "task", features: "auto" as const, ridge: options.adjust?.ridge ?? DEFAULT_RIDGE, seed: options.adjust?.seed ?? DEFAULT_SEED };
  const { report, skipped } = evaluate(protocol, rows, ensembleRows(scoredTargets), { ...options, adjust });
  const evaluation = report.by_model[ENSEMBLE_MODEL];
  if (evaluation === undefined) return undefined;
  const { by_group: _, ...summary } = evaluation;
  return { comparison: { model: ENSEMBLE_MODEL, history: rows.length, gap: gapDistribution(rows), evaluation: summary }, skipped };
}
