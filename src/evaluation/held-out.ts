/**
 * What the chronological and leave-one-group-out protocols share: a set of
 * held-out tasks calibrated on the historical tasks left in, scored against
 * their real estimates, and counted in a step (one per held-out group).
 */
import { calibrate, type CalibrationOptions } from "../inference/calibrate.ts";
import { METHODS } from "../inference/methods.ts";
import type { TaskRecord } from "../inference/task-record.ts";
import { scoreTask, type EvaluatedTask } from "./metrics.ts";

/** One held-out group of one model: what it was calibrated on and what came of it. */
export interface HeldOutStep {
  model: string;
  /** The held-out group: a wave (chronological), or a value of the --group-by column. */
  group: string;
  /**
   * Historical tasks it was calibrated on, counted as `predicted` and
   * `skipped` are: whole tasks for a joint (vector) method, one per row
   * (coordinate) otherwise.
   */
  history: number;
  /** Tasks of this group predicted and scored. */
  predicted: number;
  /** Tasks of this group that could not be calibrated, and why (distinct reasons). */
  skipped: number;
  reasons: string[];
}

export interface HeldOutResult {
  tasks: EvaluatedTask[];
  steps: HeldOutStep[];
  notes: string[];
}

/** Tasks (whole ones for a joint method, rows otherwise) among `rows`. */
export function countUnits(rows: readonly TaskRecord[], joint: boolean): number {
  return joint ? new Set(rows.map((r) => r.task)).size : rows.length;
}

/**
 * Calibrates `targets` on `calibration` (one model's rows), scores them, and
 * records the outcome in `step`; targets that cannot be calibrated are
 * counted as skipped with their reasons. Appends to `out`.
 */
export function scoreHeldOut(
  calibration: readonly TaskRecord[],
  targets: readonly TaskRecord[],
  options: CalibrationOptions,
  step: HeldOutStep,
  out: HeldOutResult,
): void {
  const joint = METHODS[options.method].joint;
  if (calibration.length === 0) {
    step.skipped += countUnits(targets, joint);
    step.reasons = [...new Set([...step.reasons, "no historical tasks left to calibrate on"])];
    return;
  }
  const result = calibrate(calibration, targets, { ...options, uncalibratable: "skip" });
  for (const note of result.notes) if (!out.notes.includes(note)) out.notes.push(note);
  step.skipped += result.skipped.length;
  step.reasons = [...new Set([...step.reasons, ...result.skipped.map((s) => s.reason)])];
  // Interval rows come out unit by unit (all coordinates of a joint task together), in target order.
  const rowOf = new Map(targets.map((r) => [`${r.task}\u001f${r.coord ?? ""}`, r]));
  let unit: typeof result.intervals = [];
  const flush = () => {
    if (unit.length === 0) return;
    const rows = unit.map((r) => rowOf.get(`${r.task}\u001f${r.coord}`)!);
    out.tasks.push(scoreTask(unit[0]!.task, step.model, rows[0]!.group, unit, rows.map((r) => r.real_est!)));
    step.predicted += 1;
    unit = [];
  };
  for (const row of result.intervals) {
    if (!joint || (unit.length > 0 && unit[0]!.task !== row.task)) flush();
    unit.push(row);
  }
  flush();
}

/** `rows` split by their wave (`group`), waves in input order; rows without one under "". */
export function byWave(rows: readonly TaskRecord[]): Map<string, TaskRecord[]> {
  const out = new Map<string, TaskRecord[]>();
  for (const row of rows) {
    const key = row.group ?? "";
    const list = out.get(key);
    if (list === undefined) out.set(key, [row]);
    else list.push(row);
  }
  return out;
}
