/**
 * Mondrian (per-stratum) calibration: when the user names strata (e.g. the
 * subgroup), each stratum is calibrated only on its own historical tasks,
 * which needs exchangeability only within strata and gives each stratum
 * coverage ≥ 1 − α on its own (at the price of fewer tasks per calibration).
 */
import { attributeOf, type TaskRecord } from "./task-record.ts";

/** The stratum of a row: its values in the strata columns ("" for none). */
export function stratumKey(row: TaskRecord, strata: readonly string[]): string {
  return strata.map((column) => attributeOf(row, column) ?? "").join("\u001f");
}

/** A stratum for people: `subgroup=Democrat, item=Q3` ("all tasks" without strata). */
export function stratumLabel(key: string, strata: readonly string[]): string {
  if (strata.length === 0) return "all tasks";
  const values = key.split("\u001f");
  return strata.map((column, i) => `${column}=${values[i] === "" ? "(missing)" : values[i]}`).join(", ");
}
