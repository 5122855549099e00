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
 *
 * With recency decay (alg2 --decay), a held-out task's weights count the
 * waves from its own wave (not from the latest one), so the cells are
 * weighted afresh for each wave's held-out tasks.
 *
 * Algorithm 4's leave-one-out coverage is fixed by arithmetic: a held-out
 * task is covered exactly when its gap's rank among its cell's n gaps lies in
 * (k_lo, k_hi] of the other n − 1, so coverage is Σ(k_hi − k_lo)/Σ n whatever
 * the data (ties can only add to it). `fixedCoverage` reports that figure per
 * model, so that no one mistakes it for evidence.
 */
import { intervalRows, planOptions, type CalibrationOptions } from "../inference/calibrate.ts";
import { METHODS } from "../inference/methods.ts";
import { InfeasibleError } from "../errors.ts";
import { kHi, kLo } from "../inference/order-stats.ts";
import { inCell, planCalibration, type Plan, type Unit } from "../inference/plan.ts";
import type { TaskRecord } from "../inference/task-record.ts";
import { orderedGroups } from "./chrono.ts";
import { scoreTask, type EvaluatedTask } from "./metrics.ts";

export interface SkippedTask {
  task: string;
  model: string;
  reason: string;
}

export interface LeaveOneOutResult {
  tasks: EvaluatedTask[];
  skipped: SkippedTask[];
  notes: string[];
  /** Algorithm 4 only: per model, the covered count and task count that arithmetic alone fixes. */
  fixedCoverage?: Map<string, { covered: number; tasks: number }>;
}

export function leaveOneOut(history: readonly TaskRecord[], options: CalibrationOptions): LeaveOneOutResult {
  const decay = options.weights !== undefined && "decay" in options.weights && METHODS[options.method].weighted ? options.weights.decay : undefined;
  if (decay === undefined) return scorePlan(planCalibration(history, [], planOptions(options)), options, () => true);
  const result: LeaveOneOutResult = { tasks: [], skipped: [], notes: [] };
  const waves = orderedGroups(history);
  for (const wave of waves) {
    const plan = planCalibration(history, [], planOptions({ ...options, weights: { decay, from: wave } }));
    const part = scorePlan(plan, options, (unit) => unit.rows[0]!.group === wave);
    result.tasks.push(...part.tasks);
    result.skipped.push(...part.skipped);
    for (const note of part.notes) if (!result.notes.includes(note)) result.notes.push(note);
  }
  return result;
}

/** Scores the members of every cell of `plan` that `heldOut` selects, each calibrated on the others of its cell. */
function scorePlan(plan: Plan, options: CalibrationOptions, heldOut: (unit: Unit) => boolean): LeaveOneOutResult {
  const algorithm = METHODS[options.method];
  const out: EvaluatedTask[] = [];
  const skipped: SkippedTask[] = [];
  const fixed = algorithm.name === "alg4" ? new Map<string, { covered: number; tasks: number }>() : undefined;
  for (const pool of plan.pools) {
    for (const cell of pool.cells.values()) {
      const scored: EvaluatedTask[] = [];
      try {
        const boundsFor = inCell(cell, () =>
          algorithm.prepare(cell.sample, options.alpha, true, cell.scale === undefined ? {} : { scale: cell.scale }),
        );
        cell.members.forEach((unit, i) => {
          if (!heldOut(unit)) return;
          const bounds = inCell(cell, () => boundsFor(i));
          const rows = intervalRows(unit, bounds, cell.shifts[i]!, options);
          scored.push(scoreTask(unit.task, unit.model, unit.rows[0]!.group, rows, unit.rows.map((r) => r.real_est!)));
        });
      } catch (error) {
        if (options.uncalibratable !== "skip" || !(error instanceof InfeasibleError)) throw error;
        for (const unit of cell.members) if (heldOut(unit)) skipped.push({ task: unit.task, model: unit.model, reason: error.message });
        continue;
      }
      out.push(...scored);
      if (fixed !== undefined) {
        const n = cell.members.length;
        const entry = fixed.get(pool.model) ?? { covered: 0, tasks: 0 };
        entry.covered += kHi(n - 1, options.alpha) - kLo(n - 1, options.alpha);
        entry.tasks += n;
        fixed.set(pool.model, entry);
      }
    }
  }
  return { tasks: out, skipped, notes: plan.notes, ...(fixed === undefined ? {} : { fixedCoverage: fixed }) };
}
