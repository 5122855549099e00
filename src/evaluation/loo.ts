/**
 * Leave-one-task-out: each historical task in turn is the target, calibrated
 * on the others of its cell (same model, coordinate set, stratum and, when
 * regression-adjusted, calibration half; the gap model is the one fit on the
 * other half, which never saw the held-out task). Not quadratic: each cell's
 * gaps are sorted once and the held-out value is removed by rank
 * (RankedSample.kthWithout), so LOO over T tasks costs O(T log T).
 */
import { intervalRows, planOptions, type CalibrationOptions } from "../inference/calibrate.ts";
import { METHODS } from "../inference/methods.ts";
import { inCell, planCalibration } from "../inference/plan.ts";
import type { TaskRecord } from "../inference/task-record.ts";
import { scoreTask, type EvaluatedTask } from "./metrics.ts";

export function leaveOneOut(history: readonly TaskRecord[], options: CalibrationOptions): { tasks: EvaluatedTask[]; notes: string[] } {
  const algorithm = METHODS[options.method];
  const plan = planCalibration(history, [], planOptions(options));
  const out: EvaluatedTask[] = [];
  for (const pool of plan.pools) {
    for (const cell of pool.cells.values()) {
      const boundsFor = inCell(cell, () =>
        algorithm.prepare(cell.sample, options.alpha, true, cell.scale === undefined ? {} : { scale: cell.scale }),
      );
      cell.members.forEach((unit, i) => {
        const bounds = inCell(cell, () => boundsFor(i));
        const rows = intervalRows(unit, bounds, cell.shifts[i]!, options);
        out.push(scoreTask(unit.task, unit.model, unit.rows[0]!.group, rows, unit.rows.map((r) => r.real_est!)));
      });
    }
  }
  return { tasks: out, notes: plan.notes };
}
