import { readFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import { InputError } from "../errors.ts";
import type { Cell, DataTable } from "./types.ts";

/**
 * Reads a CSV file with a header row. Cells stay strings (the schema of each
 * consumer decides what is numeric); empty cells are missing (null).
 */
export function readCsv(path: string, text?: string): DataTable {
  const content = text ?? readFileSync(path, "utf8");
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(content, { bom: true, info: true, relax_column_count: false, skip_empty_lines: true }) as never;
  } catch (error) {
    const { lines, message } = error as { lines?: number; message: string };
    throw new InputError({ file: path, ...(lines !== undefined ? { row: Math.max(lines - 1, 1), line: lines } : {}) }, `not valid CSV: ${message.replace(/\s+/g, " ")}`);
  }
  const header = records.shift();
  if (header === undefined) throw new InputError({ file: path }, "empty file: expected a header row");
  const columnNames = header.record.map((name) => name.trim());
  const seen = new Set<string>();
  for (const name of columnNames) {
    if (name === "") throw new InputError({ file: path, row: undefined, field: undefined }, "the header has an empty column name");
    if (seen.has(name)) throw new InputError({ file: path, field: name }, "the header names this column twice");
    seen.add(name);
  }
  const columns: Record<string, Cell[]> = {};
  for (const name of columnNames) columns[name] = new Array<Cell>(records.length);
  const lines = new Int32Array(records.length);
  records.forEach(({ record, info }, row) => {
    lines[row] = info.lines;
    columnNames.forEach((name, j) => {
      const cell = record[j]!;
      columns[name]![row] = cell === "" ? null : cell;
    });
  });
  return { source: path, format: "csv", columnNames, numRows: records.length, columns, lines, valueLabels: {} };
}
