import { readFileSync } from "node:fs";
import { parquetMetadata, parquetReadObjects, parquetSchema } from "hyparquet";
import { InputError } from "../errors.ts";
import type { Cell, DataTable } from "./types.ts";

/** Reads a Parquet file (as written by pandas, R arrow, DuckDB) into a DataTable. */
export async function readParquet(path: string): Promise<DataTable> {
  const bytes = readFileSync(path);
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let rows: Record<string, unknown>[];
  let columnNames: string[];
  try {
    const metadata = parquetMetadata(file);
    columnNames = parquetSchema(metadata).children.map((child) => child.element.name);
    rows = await parquetReadObjects({ file, metadata });
  } catch (error) {
    throw new InputError({ file: path }, `not a readable Parquet file: ${(error as Error).message}`, { cause: error });
  }
  const columns: Record<string, Cell[]> = {};
  for (const name of columnNames) columns[name] = rows.map((row) => toCell(row[name]));
  return { source: path, format: "parquet", columnNames, numRows: rows.length, columns, valueLabels: {} };
}

function toCell(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") return value;
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? Number(v) : v));
}
