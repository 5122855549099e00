/**
 * Writes the tasks table (DESIGN.md) as CSV: the TASK_COLUMNS in their order,
 * then every extra column in order of first appearance (a study's `kind`
 * last). Numbers are printed
 * at full precision (the shortest text that reads back to the same double);
 * an absent or non-finite value is an empty cell.
 */
import { csvText } from "../util/csv-text.ts";
import { TASK_COLUMNS, type TaskRow } from "../config/tasks.ts";

export function formatTasksCsv(rows: readonly TaskRow[]): string {
  const extras: string[] = [];
  const seen = new Set<string>(TASK_COLUMNS);
  for (const row of rows) {
    for (const name of Object.keys(row.extra)) {
      if (!seen.has(name)) {
        seen.add(name);
        extras.push(name);
      }
    }
  }
  // A study's `kind` goes last, after the columns `silicon estimate --real --synthetic` writes too.
  if (extras.includes("kind")) extras.push(...extras.splice(extras.indexOf("kind"), 1));
  const header = [...TASK_COLUMNS, ...extras];
  const records = rows.map((row) => [
    ...TASK_COLUMNS.map((column) => formatCell(row[column])),
    ...extras.map((name) => row.extra[name] ?? ""),
  ]);
  return csvText(header, records);
}

function formatCell(value: string | number | undefined): string {
  if (value === undefined) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  return value;
}
