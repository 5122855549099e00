/**
 * Leave-one-group-out: all historical tasks sharing a value of one column
 * (the wave by default; or the item, the subgroup, any column) are held out
 * together and calibrated on the other groups' tasks of their model. Unlike
 * leave-one-task-out, this can fail: when the gaps of a group differ from the
 * others' (a wave's shock, an item the model gets especially wrong), its
 * tasks fall outside their intervals more often than α.
 *
 * With recency decay (alg2 --decay) each held-out task's weights count the
 * waves from its own wave, so the held-out tasks are calibrated wave by wave.
 */
import { rowError, type WeightSpec } from "../inference/plan.ts";
import { planOptions, type CalibrationOptions } from "../inference/calibrate.ts";
import { METHODS } from "../inference/methods.ts";
import { attributeOf, compareGroups, type TaskRecord } from "../inference/task-record.ts";
import { byWave, countUnits, scoreHeldOut, type HeldOutResult, type HeldOutStep } from "./held-out.ts";

export const DEFAULT_GROUP_COLUMN = "group";

/** Each task's value of `column` (a vector task's from its first row); a task without one is an error at its row. */
function groupOfTask(rows: readonly TaskRecord[], column: string, options: CalibrationOptions): Map<string, string> {
  const out = new Map<string, string>();
  for (const row of rows) {
    const key = `${row.model}\u001f${row.task}`;
    if (out.has(key)) continue;
    const value = attributeOf(row, column);
    if (value === undefined) {
      throw rowError(planOptions(options), row, column, `missing value: --protocol group holds tasks out by their ${column}`);
    }
    out.set(key, value);
  }
  return out;
}

export function leaveGroupOut(history: readonly TaskRecord[], options: CalibrationOptions, column = DEFAULT_GROUP_COLUMN): HeldOutResult {
  const joint = METHODS[options.method].joint;
  const groupOf = groupOfTask(history, column, options);
  const valueOf = (row: TaskRecord) => groupOf.get(`${row.model}\u001f${row.task}`)!;
  const out: HeldOutResult = { tasks: [], steps: [], notes: [] };
  const decay = options.weights !== undefined && "decay" in options.weights ? options.weights.decay : undefined;
  for (const model of [...new Set(history.map((r) => r.model))]) {
    const rows = history.filter((r) => r.model === model);
    const values = [...new Set(rows.map(valueOf))].sort(compareGroups);
    for (const value of values) {
      const heldOut = rows.filter((r) => valueOf(r) === value);
      const calibration = rows.filter((r) => valueOf(r) !== value);
      const step: HeldOutStep = { model, group: value, history: countUnits(calibration, joint), predicted: 0, skipped: 0, reasons: [] };
      out.steps.push(step);
      if (decay === undefined) {
        scoreHeldOut(calibration, heldOut, options, step, out);
        continue;
      }
      for (const [wave, targets] of byWave(heldOut)) {
        const weights: WeightSpec = wave === "" ? { decay } : { decay, from: wave };
        scoreHeldOut(calibration, targets, { ...options, weights }, step, out);
      }
    }
  }
  return out;
}
