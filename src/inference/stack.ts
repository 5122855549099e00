/**
 * Stacking across vendors. With several models in a table, each model's
 * synthetic estimate of a task is a feature for the others' gap models (an
 * LLM's error is partly shared, partly its own), and all of them together
 * make the pseudo-model `ensemble`. Only synthetic estimates cross between
 * rows: a real estimate never becomes anyone's feature.
 */
import { STACK_PREFIX } from "./cross-fit.ts";
import type { TaskRecord } from "./task-record.ts";

export const ENSEMBLE_MODEL = "ensemble";

const key = (row: TaskRecord) => `${row.task}\u001f${row.coord ?? ""}`;

/** task × coord → model → syn_est, over every row given (history and targets). */
function estimatesByTask(rows: readonly TaskRecord[]): Map<string, Map<string, number>> {
  const by = new Map<string, Map<string, number>>();
  for (const row of rows) {
    let models = by.get(key(row));
    if (models === undefined) by.set(key(row), (models = new Map()));
    models.set(row.model, row.syn_est);
  }
  return by;
}

/** The synthetic estimate's context: its mean over the subgroups of the same item (and option), and its deviation from it. */
export const CONTEXT_MEAN = "syn_est~subgroups_mean";
export const CONTEXT_DEVIATION = "syn_est~subgroup_deviation";

/** Same model, item, coordinate, group and every extra column: the task across subgroups. */
function contextKeyOf(rows: readonly TaskRecord[]): (row: TaskRecord) => string {
  const extras = [...new Set(rows.flatMap((row) => Object.keys(row.extra)))].filter((k) => !k.startsWith(STACK_PREFIX) && !k.startsWith("syn_est~")).sort();
  return (row) => [row.model, row.item ?? "", row.coord ?? "", row.group ?? "", ...extras.map((k) => row.extra[k] ?? "")].join("\u001f");
}

function meanAcrossSubgroups(rows: readonly TaskRecord[], contextKey: (row: TaskRecord) => string): Map<string, number> {
  const sums = new Map<string, [number, number]>();
  for (const row of rows) {
    const k = contextKey(row);
    const s = sums.get(k) ?? [0, 0];
    s[0] += row.syn_est;
    s[1] += 1;
    sums.set(k, s);
  }
  return new Map([...sums].map(([k, [sum, n]]) => [k, sum / n]));
}

/** Whether the rows already carry the other models' estimates. */
export function isStacked(rows: readonly TaskRecord[]): boolean {
  return rows.some((row) => Object.keys(row.extra).some((k) => k.startsWith(STACK_PREFIX) || k.startsWith("syn_est~")));
}

/**
 * Copies of the rows with `syn_est@<model>` columns: the other models'
 * synthetic estimates of the same task and coordinate (absent where a model
 * has none). `original` maps each copy back to its input row. A table with
 * one model, or already stacked, comes back as it is.
 */
export function withOtherModels(rows: readonly TaskRecord[]): { rows: TaskRecord[]; original: Map<TaskRecord, TaskRecord> } {
  const models = new Set(rows.map((r) => r.model));
  const context = rows.some((r) => r.item !== undefined) && rows.some((r) => r.subgroup !== undefined);
  if ((models.size < 2 && !context) || isStacked(rows)) return { rows: [...rows], original: new Map() };
  const by = estimatesByTask(rows);
  const contextKey = contextKeyOf(rows);
  const itemMean = context ? meanAcrossSubgroups(rows, contextKey) : undefined;
  const original = new Map<TaskRecord, TaskRecord>();
  const out = rows.map((row) => {
    const extra = { ...row.extra };
    for (const [model, estimate] of by.get(key(row))!) if (model !== row.model) extra[STACK_PREFIX + model] = String(estimate);
    const mean = itemMean?.get(contextKey(row));
    if (mean !== undefined) {
      extra[CONTEXT_MEAN] = String(mean);
      extra[CONTEXT_DEVIATION] = String(row.syn_est - mean);
    }
    const copy = { ...row, extra };
    original.set(copy, row);
    return copy;
  });
  return { rows: out, original };
}

/**
 * The pseudo-model `ensemble`: one row per task and coordinate that some
 * model answered, its synthetic estimate the mean of the models' (SE of a
 * mean of independent estimates), every model's estimate as a
 * `syn_est@<model>` column for the stacked gap model, and the real data and
 * other columns of the first model's row.
 */
export function ensembleRows<T extends TaskRecord>(rows: readonly T[]): T[] {
  const first = new Map<string, T>();
  const members = new Map<string, T[]>();
  for (const row of rows) {
    if (row.model === ENSEMBLE_MODEL) continue;
    const k = key(row);
    if (!first.has(k)) first.set(k, row);
    let list = members.get(k);
    if (list === undefined) members.set(k, (list = []));
    list.push(row);
  }
  return [...first].map(([k, row]) => {
    const list = members.get(k)!;
    const extra: Record<string, string> = {};
    for (const [name, value] of Object.entries(row.extra)) if (!name.startsWith(STACK_PREFIX)) extra[name] = value;
    for (const member of list) extra[STACK_PREFIX + member.model] = String(member.syn_est);
    const estimate = list.reduce((s, r) => s + r.syn_est, 0) / list.length;
    const se = Math.sqrt(list.reduce((s, r) => s + r.syn_se ** 2, 0)) / list.length;
    const { syn_n: _, ...rest } = row;
    return { ...rest, model: ENSEMBLE_MODEL, syn_est: estimate, syn_se: se, extra } as unknown as T;
  });
}
