/**
 * The tasks table (DESIGN.md, "Tasks table"): one row per task (per
 * coordinate, for vector targets), per model. silicon writes it from
 * estimands and reads it, or a user's own, for calibration.
 */

export type TaskRole = "history" | "target";

export interface TaskRow {
  task: string;
  /** Which synthetic generator; each model is calibrated on its own. "" when absent. */
  model: string;
  role: TaskRole;
  /** E.g. the wave; the chronological protocol orders by it. */
  group?: string;
  /** Coordinate name for vector targets; rows of one task share `task`. */
  coord?: string;
  real_est?: number;
  real_se?: number;
  real_n?: number;
  syn_est: number;
  syn_se: number;
  syn_n?: number;
  /** SE of real − synthetic when paired; else derived from the two SEs. */
  gap_se?: number;
  /** Historical task weight in [0, 1] for Algorithm 2. */
  weight?: number;
  item?: string;
  subgroup?: string;
  /** Any further columns, usable as strata, split or features. */
  extra: Record<string, string>;
}

/** Column order for tasks tables silicon writes. */
export const TASK_COLUMNS = [
  "task",
  "model",
  "role",
  "group",
  "coord",
  "item",
  "subgroup",
  "real_est",
  "real_se",
  "real_n",
  "syn_est",
  "syn_se",
  "syn_n",
  "gap_se",
  "weight",
] as const;
