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
import { calibrate, intervalRows, planOptions, stackedForAdjustment, type CalibrationOptions } from "../inference/calibrate.ts";
import { assignFolds, crossFitSupported, MAX_FOLDS, MIN_GROUPS } from "../inference/cross-fit.ts";
import type { AdjustmentChoice } from "../inference/plan.ts";
import { attributeOf } from "../inference/task-record.ts";
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
  if (options.adjust !== undefined && (options.adjust.mode ?? "cv") === "cv" && crossFitSupported(METHODS[options.method])) return crossFittedLoo(history, options);
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

/**
 * Leave-one-out for the cross-fitted adjustment. Its gap models are fit on
 * every task but a fold's, so a task left out on its own would still have
 * shaped the models that calibrate it. Instead each fold of split groups
 * (K = 10, per model and coordinate; by task where a pool has one group) is
 * held out in turn and its tasks calibrated from scratch on the rest: the
 * feature search, the fits and the residuals never see a held-out task.
 */
function crossFittedLoo(history: readonly TaskRecord[], options: CalibrationOptions): LeaveOneOutResult {
  const adjust = options.adjust!;
  ({ history, options } = stackedForAdjustment(history, [], options));
  const pools = new Map<string, TaskRecord[]>();
  for (const row of history) {
    const key = `${row.model}\u001f${row.coord ?? ""}`;
    const list = pools.get(key);
    if (list === undefined) pools.set(key, [row]);
    else list.push(row);
  }
  const tasks: EvaluatedTask[] = [];
  const skipped: SkippedTask[] = [];
  const notes = new Set<string>();
  const choices: AdjustmentChoice[] = [];
  // Pools the automatic search would leave plain (too few groups) get the plain leave-one-out.
  const plainRows: TaskRecord[] = [];
  const foldModels = new Set<string>();
  for (const rows of pools.values()) {
    let group = (row: TaskRecord) => attributeOf(row, adjust.splitBy) ?? row.task;
    if (new Set(rows.map(group)).size < 2) group = (row) => row.task;
    if (adjust.features === "auto" && new Set(rows.map(group)).size < MIN_GROUPS) {
      plainRows.push(...rows);
      continue;
    }
    foldModels.add(rows[0]!.model);
    const folds = assignFolds(rows.map(group), Math.min(adjust.folds ?? MAX_FOLDS, new Set(rows.map(group)).size), adjust.seed + 1);
    const foldCount = new Set(folds.values()).size;
    for (let f = 0; f < foldCount; f++) {
      const held = rows.filter((row) => folds.get(group(row)) === f);
      const rest = rows.filter((row) => folds.get(group(row)) !== f);
      const result = calibrate(rest, held, { ...options, uncalibratable: "skip" });
      for (const note of result.notes) notes.add(note);
      choices.push(...result.adjustments);
      skipped.push(...result.skipped);
      const byTask = new Map(held.map((row) => [row.task, row]));
      for (const interval of result.intervals) {
        const row = byTask.get(interval.task)!;
        tasks.push(scoreTask(interval.task, interval.model, row.group, [interval], [row.real_est!]));
      }
    }
  }
  if (choices.length > 0) {
    notes.add(
      `leave-one-out with the cross-fitted adjustment holds out a fold of ${adjust.splitBy} groups at a time (the gap models of the others were fit on every other task); ${summarizeChoices(choices)}`,
    );
  }
  let fixedCoverage: LeaveOneOutResult["fixedCoverage"];
  if (plainRows.length > 0) {
    const { adjust: _, ...plain } = options;
    const result = leaveOneOut(plainRows, plain);
    tasks.push(...result.tasks);
    skipped.push(...result.skipped);
    for (const note of result.notes) notes.add(note);
    notes.add(`${new Set(plainRows.map((r) => r.model)).size} model(s) have fewer than ${MIN_GROUPS} ${adjust.splitBy} groups in a calibration: the automatic adjustment leaves them plain`);
    // The plain pools' alg4 coverage is fixed by arithmetic (the held-out-by-fold ones' is not): say it for those models.
    // A model with cross-fitted pools too is not fixed as a whole.
    if (result.fixedCoverage !== undefined) fixedCoverage = new Map([...result.fixedCoverage].filter(([model]) => !foldModels.has(model)));
  }
  return { tasks, skipped, notes: [...notes], ...(fixedCoverage === undefined ? {} : { fixedCoverage }) };
}

/** How often each feature block was chosen over the held-out calibrations. */
export function summarizeChoices(choices: readonly AdjustmentChoice[]): string {
  const counts = new Map<string, number>();
  let plain = 0;
  for (const c of choices) {
    if (!c.applied) plain += 1;
    for (const block of c.blocks) counts.set(block, (counts.get(block) ?? 0) + 1);
  }
  const parts = [...counts].sort((a, b) => b[1] - a[1]).map(([block, n]) => `${block} ${n}/${choices.length}`);
  if (plain > 0) parts.push(`plain kept ${plain}/${choices.length}`);
  return `features chosen over ${choices.length} calibrations: ${parts.join(", ") || "none"}`;
}
