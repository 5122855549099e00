/**
 * Chronological evaluation (expanding window): order the `group` values
 * (waves); the tasks of each group after the first are targets calibrated on
 * the historical tasks of all earlier groups, and scored against their real
 * estimates. Rows with role target and a real estimate are scored too but
 * never calibrate anything. Targets that cannot be calibrated yet (too little
 * history for α, or none for their coordinates) are counted as skipped, with
 * the reason, rather than failing the whole run.
 */
import { calibrate, type CalibrationOptions } from "../inference/calibrate.ts";
import { METHODS } from "../inference/methods.ts";
import { compareGroups, type TaskRecord } from "../inference/task-record.ts";
import { scoreTask, type EvaluatedTask } from "./metrics.ts";

export interface ChronoStep {
  model: string;
  group: string;
  /**
   * Historical tasks of earlier groups it was calibrated on, counted as
   * `predicted` and `skipped` are: whole tasks for a joint (vector) method,
   * one per row (coordinate) otherwise.
   */
  history: number;
  /** Tasks of this group predicted and scored. */
  predicted: number;
  /** Tasks of this group that could not be calibrated, and why (distinct reasons). */
  skipped: number;
  reasons: string[];
}

export interface ChronoResult {
  tasks: EvaluatedTask[];
  steps: ChronoStep[];
  notes: string[];
}

/** The distinct groups of `rows`, in chronological order. */
export function orderedGroups(rows: readonly TaskRecord[]): string[] {
  return [...new Set(rows.map((r) => r.group).filter((g): g is string => g !== undefined))].sort(compareGroups);
}

export function chronological(history: readonly TaskRecord[], scoredTargets: readonly TaskRecord[], options: CalibrationOptions): ChronoResult {
  const joint = METHODS[options.method].joint;
  const tasks: EvaluatedTask[] = [];
  const steps: ChronoStep[] = [];
  const notes = new Set<string>();
  const models = [...new Set([...history, ...scoredTargets].map((r) => r.model))];
  for (const model of models) {
    const past = history.filter((r) => r.model === model);
    const all = [...past, ...scoredTargets.filter((r) => r.model === model)];
    const groups = orderedGroups(all);
    for (const [i, group] of groups.entries()) {
      if (i === 0) continue;
      const earlier = new Set(groups.slice(0, i));
      const calibration = past.filter((r) => earlier.has(r.group!));
      const targets = all.filter((r) => r.group === group);
      const history = joint ? new Set(calibration.map((r) => r.task)).size : calibration.length;
      const step: ChronoStep = { model, group, history, predicted: 0, skipped: 0, reasons: [] };
      steps.push(step);
      if (calibration.length === 0) {
        step.skipped = new Set(targets.map((r) => r.task)).size;
        step.reasons = ["no historical tasks in earlier groups"];
        continue;
      }
      const result = calibrate(calibration, targets, { ...options, uncalibratable: "skip" });
      for (const note of result.notes) notes.add(note);
      step.skipped = result.skipped.length;
      step.reasons = [...new Set(result.skipped.map((s) => s.reason))];
      // Interval rows come out unit by unit (all coordinates of a joint task together), in target order.
      const realOf = new Map(targets.map((r) => [`${r.task}\u001f${r.coord ?? ""}`, r.real_est!]));
      let unit: typeof result.intervals = [];
      const flush = () => {
        if (unit.length === 0) return;
        tasks.push(scoreTask(unit[0]!.task, model, group, unit, unit.map((r) => realOf.get(`${r.task}\u001f${r.coord}`)!)));
        step.predicted += 1;
        unit = [];
      };
      for (const row of result.intervals) {
        if (!joint || (unit.length > 0 && unit[0]!.task !== row.task)) flush();
        unit.push(row);
      }
      flush();
    }
  }
  return { tasks, steps, notes: [...notes] };
}
