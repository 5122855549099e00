/**
 * Leave-one-task-out: each historical task in turn is the target, calibrated
 * on the others of its cell (same model, coordinate set, stratum and, when
 * regression-adjusted, calibration half; the gap model is the one fit on the
 * other half, which never saw the held-out task). Not quadratic: each cell's
 * gaps are sorted once and the held-out value is removed by rank
 * (RankedSample.kthWithout), so LOO over T tasks costs O(T log T).
 *
 * With `uncalibratable: "skip"`, a cell with too little history for α (one
 * model's, say) is left out and its tasks listed in `skipped`, with the
 * reason; the other cells are still evaluated. Without it, such a cell fails
 * the whole call.
 */
import { intervalRows, planOptions, type CalibrationOptions } from "../inference/calibrate.ts";
import { METHODS } from "../inference/methods.ts";
import { InfeasibleError } from "../errors.ts";
import { inCell, planCalibration } from "../inference/plan.ts";
import type { TaskRecord } from "../inference/task-record.ts";
import { scoreTask, type EvaluatedTask } from "./metrics.ts";

export interface SkippedTask {
  task: string;
  model: string;
  reason: string;
}

export function leaveOneOut(history: readonly TaskRecord[], options: CalibrationOptions): { tasks: EvaluatedTask[]; skipped: SkippedTask[]; notes: string[] } {
  const algorithm = METHODS[options.method];
  const plan = planCalibration(history, [], planOptions(options));
  const out: EvaluatedTask[] = [];
  const skipped: SkippedTask[] = [];
  for (const pool of plan.pools) {
    for (const cell of pool.cells.values()) {
      const scored: EvaluatedTask[] = [];
      try {
        const boundsFor = inCell(cell, () =>
          algorithm.prepare(cell.sample, options.alpha, true, cell.scale === undefined ? {} : { scale: cell.scale }),
        );
        cell.members.forEach((unit, i) => {
          const bounds = inCell(cell, () => boundsFor(i));
          const rows = intervalRows(unit, bounds, cell.shifts[i]!, options);
          scored.push(scoreTask(unit.task, unit.model, unit.rows[0]!.group, rows, unit.rows.map((r) => r.real_est!)));
        });
      } catch (error) {
        if (options.uncalibratable !== "skip" || !(error instanceof InfeasibleError)) throw error;
        for (const unit of cell.members) skipped.push({ task: unit.task, model: unit.model, reason: error.message });
        continue;
      }
      out.push(...scored);
    }
  }
  return { tasks: out, skipped, notes: plan.notes };
}
