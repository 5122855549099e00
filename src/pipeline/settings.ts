/**
 * Calibration settings of a study run: the study's `calibration` section,
 * optionally overridden by command-line flags, and the CalibrationOptions
 * each kind of task is calibrated with (its scale as the clipping range, the
 * scalar or the vector method).
 */
import type { Calibration, PilotSet } from "../config/analysis-schema.ts";
import type { TaskRow } from "../config/tasks.ts";
import type { Protocol } from "../evaluation/evaluate.ts";
import { defaultFeatures, defaultSplitBy, DEFAULT_RIDGE, DEFAULT_SEED } from "../inference/adjust.ts";
import type { MethodName } from "../inference/algorithm.ts";
import type { CalibrationOptions } from "../inference/calibrate.ts";
import type { TaskKind } from "./kinds.ts";

export interface AnalysisSettings {
  alpha: number;
  /** For scalar tasks. */
  method: Exclude<MethodName, "alg3" | "alg3-bonferroni" | "alg3-fitted">;
  /** For vector targets; the other rectangle is computed beside it. */
  vectorMethod: "alg3" | "alg3-bonferroni" | "alg3-fitted";
  strata?: string[];
  adjust?: { mode?: "cv" | "split"; splitBy?: string; features?: string[]; ridge: number; seed: number };
  decay?: number;
  pilot: PilotSet[];
  protocols: Protocol[];
  /** The group protocol's column (held out together). */
  groupBy: string;
}

export function analysisSettings(calibration: Calibration): AnalysisSettings {
  const adjust = calibration.adjust;
  return {
    alpha: calibration.alpha,
    method: calibration.method,
    vectorMethod: calibration.vector_method,
    ...(calibration.strata === undefined ? {} : { strata: [...calibration.strata] }),
    ...(adjust === false
      ? {}
      : {
          adjust:
            adjust === true
              ? { ridge: DEFAULT_RIDGE, seed: DEFAULT_SEED }
              : {
                  ...(adjust.mode === undefined ? {} : { mode: adjust.mode }),
                  ...(adjust.split_by === undefined ? {} : { splitBy: adjust.split_by }),
                  ...(adjust.features === undefined ? {} : { features: [...adjust.features] }),
                  ridge: adjust.ridge,
                  seed: adjust.seed,
                },
        }),
    ...(calibration.decay === undefined ? {} : { decay: calibration.decay }),
    pilot: calibration.pilot,
    protocols: [...new Set(calibration.protocols)],
    groupBy: calibration.group_by,
  };
}

/** The method a kind is calibrated with. */
export function methodFor(settings: AnalysisSettings, kind: TaskKind): MethodName {
  return kind.vector === undefined ? settings.method : settings.vectorMethod;
}

/** CalibrationOptions for one kind's rows. */
export function kindOptions(settings: AnalysisSettings, kind: TaskKind, rows: readonly TaskRow[], method = methodFor(settings, kind)): CalibrationOptions {
  const options: CalibrationOptions = { method, alpha: settings.alpha, range: kind.range };
  if (settings.strata !== undefined) options.strata = settings.strata;
  if (settings.adjust !== undefined) {
    const splitBy = settings.adjust.splitBy ?? defaultSplitBy(rows);
    const mode = settings.adjust.mode ?? "cv";
    options.adjust = {
      mode,
      splitBy,
      features: settings.adjust.features ?? (mode === "split" ? defaultFeatures(rows, splitBy) : "auto"),
      ridge: settings.adjust.ridge,
      seed: settings.adjust.seed,
      ...(splitBy !== "task" ? { splitByFallback: "task" } : {}),
    };
  }
  if (method === "alg2") options.weights = { decay: settings.decay ?? 1 };
  return options;
}

/** A one-line description of the settings, for summaries and the report. */
export function describeSettings(settings: AnalysisSettings): string {
  const parts = [`α = ${settings.alpha}`, `scalar tasks ${settings.method}`, `vector targets ${settings.vectorMethod}`];
  if (settings.strata !== undefined) parts.push(`strata ${settings.strata.join(", ")}`);
  if (settings.adjust !== undefined) parts.push("regression-adjusted");
  if (settings.decay !== undefined) parts.push(`decay γ = ${settings.decay}`);
  return parts.join("; ");
}
