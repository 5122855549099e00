/**
 * Chronological evaluation (expanding window): order the `group` values
 * (waves); the tasks of each group after the first are targets calibrated on
 * the historical tasks of all earlier groups, and scored against their real
 * estimates. Rows with role target and a real estimate are scored too but
 * never calibrate anything. Targets that cannot be calibrated yet (too little
 * history for α, or none for their coordinates) are counted as skipped, with
 * the reason, rather than failing the whole run. Recency decay (alg2 --decay)
 * is the forecast's own: the latest earlier wave weighs 1.
 */
import type { CalibrationOptions } from "../inference/calibrate.ts";
import { METHODS } from "../inference/methods.ts";
import { compareGroups, type TaskRecord } from "../inference/task-record.ts";
import { countUnits, scoreHeldOut, type HeldOutResult, type HeldOutStep } from "./held-out.ts";

/** A step of the chronological protocol: one wave of one model. */
export type ChronoStep = HeldOutStep;
export type ChronoResult = HeldOutResult;

/** The distinct groups of `rows`, in chronological order. */
export function orderedGroups(rows: readonly TaskRecord[]): string[] {
  return [...new Set(rows.map((r) => r.group).filter((g): g is string => g !== undefined))].sort(compareGroups);
}

export function chronological(history: readonly TaskRecord[], scoredTargets: readonly TaskRecord[], options: CalibrationOptions): ChronoResult {
  const joint = METHODS[options.method].joint;
  const out: ChronoResult = { tasks: [], steps: [], notes: [] };
  const models = [...new Set([...history, ...scoredTargets].map((r) => r.model))];
  for (const model of models) {
    const past = history.filter((r) => r.model === model);
    const all = [...past, ...scoredTargets.filter((r) => r.model === model)];
    const groups = orderedGroups(all);
    for (const [i, group] of groups.entries()) {
      if (i === 0) continue;
      const earlier = new Set(groups.slice(0, i));
      const calibration = past.filter((r) => earlier.has(r.group!));
      const step: ChronoStep = { model, group, history: countUnits(calibration, joint), predicted: 0, skipped: 0, reasons: [] };
      out.steps.push(step);
      if (calibration.length === 0) {
        step.skipped = countUnits(all.filter((r) => r.group === group), joint);
        step.reasons = ["no historical tasks in earlier groups"];
        continue;
      }
      scoreHeldOut(calibration, all.filter((r) => r.group === group), options, step, out);
    }
  }
  return out;
}
