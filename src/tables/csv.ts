import { parse } from "csv-parse/sync";
import { InputError } from "../errors.ts";
import { readTextFile } from "../util/text-file.ts";
import type { Cell, DataTable } from "./types.ts";

/**
 * Reads a CSV file with a header row. Cells stay strings (the schema of each
 * consumer decides what is numeric); empty cells are missing (null).
 */
export function readCsv(path: string, text?: string): DataTable {
  const content = text ?? readTextFile(path);
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(content, { bom: true, info: true, relax_column_count: false, skip_empty_lines: true }) as never;
  } catch (error) {
    throw csvError(path, content, error);
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

/** csv-parse's failure, located where the problem is rather than where the parser stopped. */
function csvError(path: string, content: string, error: unknown): InputError {
  const { code, lines, records, bytes, message } = error as { code?: string; lines?: number; records?: number; bytes?: number; message: string };
  if (code === "CSV_QUOTE_NOT_CLOSED" && records !== undefined && bytes !== undefined) {
    // The parser reads to the end of the file looking for the closing quote;
    // the field that opened it belongs to the record after the last complete one.
    const line = newlines(Buffer.from(content.replace(/^\uFEFF/, "")).subarray(0, bytes)) + 1;
    const where = records === 0 ? { file: path, line } : { file: path, row: records, line };
    return new InputError(where, `not valid CSV: a quoted field opened on line ${line} is never closed (a stray " ?)`);
  }
  const where = { file: path, ...(lines !== undefined ? { row: Math.max(lines - 1, 1), line: lines } : {}) };
  const length = /expect (\d+), got (\d+)/.exec(message);
  if (code === "CSV_RECORD_INCONSISTENT_FIELDS_LENGTH" && length !== null) {
    return new InputError(where, `not valid CSV: expected ${length[1]} fields, as the header has, got ${length[2]}`);
  }
  return new InputError(where, `not valid CSV: ${message.replace(/\s+/g, " ")}`);
}

function newlines(bytes: Uint8Array): number {
  let count = 0;
  for (const byte of bytes) if (byte === 0x0a) count += 1;
  return count;
}
