import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema, type AsyncBuffer, type FileMetaData } from "hyparquet";
import { InputError } from "../errors.ts";
import type { Cell, DataTable, ReadTableOptions } from "./types.ts";

/**
 * Reads a Parquet file (as written by pandas, R arrow, DuckDB) into a
 * DataTable: one row group at a time, only the columns asked for, straight
 * into columns (no row objects). The rows read must add up to the count the
 * file declares.
 */
export async function readParquet(path: string, options: ReadTableOptions = {}): Promise<DataTable> {
  let metadata: FileMetaData;
  let fileColumnNames: string[];
  try {
    const file = await asyncBufferFromFile(path);
    metadata = await parquetMetadataAsync(file);
    fileColumnNames = parquetSchema(metadata).children.map((child) => child.element.name);
    const wanted = options.columns === undefined ? undefined : new Set(options.columns);
    const columnNames = fileColumnNames.filter((name) => wanted === undefined || wanted.has(name));
    const numRows = Number(metadata.num_rows);
    const columns = await readColumns(path, file, metadata, columnNames, numRows);
    return {
      source: path,
      format: "parquet",
      columnNames,
      ...(columnNames.length === fileColumnNames.length ? {} : { fileColumnNames }),
      numRows,
      columns,
      valueLabels: {},
    };
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError({ file: path }, `not a readable Parquet file: ${(error as Error).message}`, { cause: error });
  }
}

/** The named columns, one row group at a time; every row of each must arrive. */
async function readColumns(path: string, file: AsyncBuffer, meta: FileMetaData, names: string[], numRows: number): Promise<Record<string, Cell[]>> {
  const columns: Record<string, Cell[]> = {};
  const filled: Record<string, number> = {};
  for (const name of names) {
    columns[name] = new Array<Cell>(numRows).fill(null);
    filled[name] = 0;
  }
  let groupStart = 0;
  for (const group of meta.row_groups) {
    const groupEnd = groupStart + Number(group.num_rows);
    if (names.length > 0) {
      await parquetRead({
        file, metadata: meta, columns: names, rowStart: groupStart, rowEnd: groupEnd,
        onChunk: ({ columnName, columnData, rowStart }) => {
          const cells = columns[columnName]!;
          // A chunk may reach outside the rows asked for.
          const from = Math.max(rowStart, groupStart);
          const to = Math.min(rowStart + columnData.length, groupEnd);
          for (let r = from; r < to; r++) cells[r] = toCell(columnData[r - rowStart]);
          filled[columnName]! += Math.max(0, to - from);
        },
      });
    }
    groupStart = groupEnd;
  }
  if (groupStart !== numRows) {
    throw new InputError({ file: path }, `the row groups hold ${groupStart} rows but the file declares ${numRows}: is it truncated or damaged?`);
  }
  for (const name of names) {
    if (filled[name] !== numRows) {
      throw new InputError({ file: path, field: name }, `${filled[name]} values read where the file declares ${numRows} rows: is it truncated or damaged?`);
    }
  }
  return columns;
}

function toCell(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") return value;
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? Number(v) : v));
}
