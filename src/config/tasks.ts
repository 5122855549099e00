/**
 * The tasks table (DESIGN.md, "Tasks table"): one row per task (per
 * coordinate, for vector targets), per model. silicon writes it from
 * estimands and reads it, or a user's own, for calibration.
 */
import { InputError, type InputLocation } from "../errors.ts";
import { cellLocation, numberColumn, requireColumns, stringColumn, type NumberRules } from "../tables/columns.ts";
import { readTable } from "../tables/read.ts";
import type { DataTable } from "../tables/types.ts";

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

/** A tasks table read and validated, remembering where each row came from for later messages. */
export interface TasksTable {
  /** Path as the user gave it. */
  source: string;
  rows: TaskRow[];
  /** The file, row (line) and column of `row`, for an error about it. */
  locate(row: TaskRow, field?: string): InputLocation;
}

/** Columns every tasks table must have; the others of TASK_COLUMNS are optional. */
export const REQUIRED_TASK_COLUMNS = ["task", "role", "real_est", "syn_est", "syn_se"] as const;

/**
 * Reads a tasks table (.csv, .parquet, .sav or .zsav) and validates it: required
 * columns, numbers where numbers belong, SEs ≥ 0, weights in [0, 1], roles,
 * one row per task, model and coordinate, and history for every target's
 * model. Every problem is an InputError naming file, row (line) and column.
 */
export async function readTasksTable(path: string): Promise<TasksTable> {
  return tasksFromDataTable(await readTable(path));
}

export function tasksFromDataTable(table: DataTable): TasksTable {
  requireColumns(table, REQUIRED_TASK_COLUMNS, "a tasks table needs task, role, real_est, syn_est and syn_se");
  if (table.numRows === 0) throw new InputError({ file: table.source }, "no tasks: the table has a header but no rows");
  const text = (name: string) => (name in table.columns ? stringColumn(table, name) : undefined);
  const numbers = (name: string, rules: NumberRules) =>
    name in table.columns ? numberColumn(table, name, { allowMissing: true, ...rules }) : undefined;

  const task = text("task")!;
  const role = text("role")!;
  const model = text("model");
  const group = text("group");
  const coord = text("coord");
  const item = text("item");
  const subgroup = text("subgroup");
  const realEst = numbers("real_est", { expected: "a number (the real estimate)" })!;
  const synEst = numberColumn(table, "syn_est", { expected: "a number (the synthetic estimate)" });
  const synSe = numberColumn(table, "syn_se", { min: 0, expected: "a standard error ≥ 0" });
  const realSe = numbers("real_se", { min: 0, expected: "a standard error ≥ 0" });
  const gapSe = numbers("gap_se", { min: 0, expected: "a standard error ≥ 0" });
  const realN = numbers("real_n", { min: 0, expected: "a sample size ≥ 0" });
  const synN = numbers("syn_n", { min: 0, expected: "a sample size ≥ 0" });
  const weight = numbers("weight", { min: 0, max: 1, expected: "a weight in [0, 1]" });
  const known = new Set<string>(TASK_COLUMNS);
  const extras = table.columnNames.filter((name) => !known.has(name)).map((name) => [name, stringColumn(table, name)] as const);

  const optional = (values: Float64Array | undefined, i: number) => {
    const v = values?.[i];
    return v === undefined || Number.isNaN(v) ? undefined : v;
  };
  const present = (values: (string | null)[] | undefined, i: number) => {
    const v = values?.[i]?.trim();
    return v === undefined || v === "" ? undefined : v;
  };

  const rows: TaskRow[] = [];
  const index = new Map<TaskRow, number>();
  const firstByKey = new Map<string, number>();
  const firstByTask = new Map<string, number>();
  for (let i = 0; i < table.numRows; i++) {
    const at = (field: string) => cellLocation(table, i, field);
    const id = present(task, i);
    if (id === undefined) throw new InputError(at("task"), "missing value: expected a task id");
    const roleText = present(role, i)?.toLowerCase();
    if (roleText !== "history" && roleText !== "target") {
      throw new InputError(at("role"), `expected "history" or "target", got ${JSON.stringify(role[i] ?? "")}`);
    }
    const real = optional(realEst, i);
    if (roleText === "history" && real === undefined) {
      throw new InputError(at("real_est"), "missing value: a history row needs its real estimate (use role target for a task without real data)");
    }
    const row: TaskRow = {
      task: id,
      model: present(model, i) ?? "",
      role: roleText,
      syn_est: synEst[i]!,
      syn_se: synSe[i]!,
      extra: {},
    };
    const assign = <K extends keyof TaskRow>(key: K, value: TaskRow[K] | undefined) => {
      if (value !== undefined) row[key] = value;
    };
    assign("group", present(group, i));
    assign("coord", present(coord, i));
    assign("item", present(item, i));
    assign("subgroup", present(subgroup, i));
    assign("real_est", real);
    assign("real_se", optional(realSe, i));
    assign("real_n", optional(realN, i));
    assign("syn_n", optional(synN, i));
    assign("gap_se", optional(gapSe, i));
    assign("weight", optional(weight, i));
    for (const [name, values] of extras) {
      const value = present(values, i);
      if (value !== undefined) row.extra[name] = value;
    }

    const key = `${row.model}\u001f${row.task}\u001f${row.coord ?? ""}`;
    const duplicate = firstByKey.get(key);
    if (duplicate !== undefined) {
      const what = `task ${JSON.stringify(row.task)}${row.model === "" ? "" : ` of model ${JSON.stringify(row.model)}`}${row.coord === undefined ? "" : ` with coord ${JSON.stringify(row.coord)}`}`;
      throw new InputError(at("task"), `duplicate ${what} (first at ${describeRow(table, duplicate)})`);
    }
    firstByKey.set(key, i);
    const taskKey = `${row.model}\u001f${row.task}`;
    const sibling = firstByTask.get(taskKey);
    if (sibling !== undefined) {
      const other = rows[sibling]!;
      const where = `the other coordinates of task ${JSON.stringify(row.task)} (${describeRow(table, sibling)})`;
      if ((other.coord === undefined) !== (row.coord === undefined)) {
        throw new InputError(at("coord"), `task ${JSON.stringify(row.task)} has rows with and without a coord; a vector task names every coordinate`);
      }
      if (other.role !== row.role) throw new InputError(at("role"), `role ${row.role} differs from ${where}: ${other.role}`);
      if (other.group !== row.group) throw new InputError(at("group"), `group ${JSON.stringify(row.group ?? "")} differs from ${where}: ${JSON.stringify(other.group ?? "")}`);
    } else {
      firstByTask.set(taskKey, rows.length);
    }
    index.set(row, i);
    rows.push(row);
  }

  const historyModels = new Set(rows.filter((r) => r.role === "history").map((r) => r.model));
  rows.forEach((row, i) => {
    if (row.role === "target" && !historyModels.has(row.model)) {
      const known = [...historyModels].filter((m) => m !== "");
      throw new InputError(
        cellLocation(table, i, model === undefined ? "role" : "model"),
        historyModels.size === 0
          ? "no history rows: a target needs historical tasks of its model to be calibrated against"
          : `no history rows for model ${JSON.stringify(row.model)}${known.length > 0 ? ` (models with history: ${known.join(", ")})` : ""}`,
      );
    }
  });

  return {
    source: table.source,
    rows,
    locate(row, field) {
      const i = index.get(row);
      return i === undefined ? { file: table.source, ...(field === undefined ? {} : { field }) } : cellLocation(table, i, field);
    },
  };
}

function describeRow(table: DataTable, i: number): string {
  const line = table.lines?.[i];
  return line !== undefined && line !== i + 1 ? `row ${i + 1} (line ${line})` : `row ${i + 1}`;
}

/** A tasks table as CSV text: TASK_COLUMNS (those any row uses, plus the required ones), then extra columns. */
export function tasksTableCsv(rows: readonly TaskRow[]): string {
  const required = new Set<string>(REQUIRED_TASK_COLUMNS);
  const used = TASK_COLUMNS.filter((c) => required.has(c) || c === "model" || rows.some((r) => r[c] !== undefined && r[c] !== ""));
  const extras = [...new Set(rows.flatMap((r) => Object.keys(r.extra)))];
  const cell = (value: unknown) => {
    if (value === undefined || value === null) return "";
    const text = typeof value === "number" ? String(Number(value.toPrecision(12))) : String(value);
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const lines = [[...used, ...extras].join(",")];
  for (const row of rows) {
    lines.push([...used.map((c) => cell(row[c])), ...extras.map((c) => cell(row.extra[c]))].join(","));
  }
  return lines.join("\n") + "\n";
}
