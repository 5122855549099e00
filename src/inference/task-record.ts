/**
 * The fields of a tasks-table row that calibration reads. src/config's
 * TaskRow has this shape (and more), so rows flow in unchanged; the type is
 * restated here because src/inference imports nothing from other stages.
 */
export interface TaskRecord {
  task: string;
  /** "" when the table has no model column. */
  model: string;
  coord?: string;
  group?: string;
  item?: string;
  subgroup?: string;
  real_est?: number;
  real_se?: number;
  syn_est: number;
  syn_se: number;
  /** Units behind syn_est: the logit interval's degrees of freedom are syn_n − 1. */
  syn_n?: number;
  gap_se?: number;
  weight?: number;
  /** Any further columns, by name. */
  extra: Record<string, string>;
}

/** The observed gap Δ̂ = θ̂ − θ̃̂ (NaN without a real estimate). */
export function gapOf(row: TaskRecord): number {
  return row.real_est === undefined ? NaN : row.real_est - row.syn_est;
}

/** SE of the gap: gap_se when paired, else sqrt(real_se² + syn_se²); NaN when unknown. */
export function gapSeOf(row: TaskRecord): number {
  if (row.gap_se !== undefined) return row.gap_se;
  if (row.real_se === undefined) return NaN;
  return Math.hypot(row.real_se, row.syn_se);
}

const FIELDS = new Set(["task", "model", "coord", "group", "item", "subgroup", "real_est", "real_se", "syn_est", "syn_se", "syn_n", "gap_se", "weight"]);

/** A column's value as text (numbers printed), undefined when absent: for strata, splits and features. */
export function attributeOf(row: TaskRecord, column: string): string | undefined {
  if (FIELDS.has(column)) {
    const value = (row as unknown as Record<string, string | number | undefined>)[column];
    return value === undefined || value === "" ? undefined : String(value);
  }
  const value = row.extra[column] ?? (row as unknown as Record<string, unknown>)[column];
  if (value === undefined || value === null || value === "") return undefined;
  return String(value);
}

/** Whether any row has a value in `column`. */
export function hasColumn(rows: readonly TaskRecord[], column: string): boolean {
  return rows.some((row) => attributeOf(row, column) !== undefined);
}

/**
 * Orders group labels (waves) naturally: numerically when every label is a
 * number, else by text with digit runs compared as numbers (W9 < W26 < W100).
 */
export function compareGroups(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (a.trim() !== "" && b.trim() !== "" && Number.isFinite(x) && Number.isFinite(y)) return x - y || (a < b ? -1 : a > b ? 1 : 0);
  return GROUP_COLLATOR.compare(a, b);
}

const GROUP_COLLATOR = new Intl.Collator("en", { numeric: true, sensitivity: "variant" });
