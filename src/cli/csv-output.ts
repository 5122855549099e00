/** CSV text for output tables: a header and rows, numbers printed without float noise. */
import { csvText } from "../util/csv-text.ts";

/** Up to 12 significant digits (drops 0.30000000000000004 noise), "" for NaN. */
export function csvNumber(value: number): string {
  if (Number.isNaN(value)) return "";
  if (!Number.isFinite(value)) return value > 0 ? "Inf" : "-Inf";
  return String(Number(value.toPrecision(12)));
}

export function toCsv<T extends object>(columns: readonly (keyof T & string)[], rows: readonly T[]): string {
  const records = rows.map((row) =>
    columns.map((column) => {
      const value = (row as Record<string, unknown>)[column];
      if (typeof value === "number") return csvNumber(value);
      if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
      return value === undefined || value === null ? "" : String(value);
    }),
  );
  return csvText(columns, records);
}
