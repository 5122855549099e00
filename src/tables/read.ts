import { statSync } from "node:fs";
import { extname } from "node:path";
import { InputError } from "../errors.ts";
import { readCsvFile } from "./csv.ts";
import type { DataTable, ReadTableOptions, TableFormat } from "./types.ts";

export type { ReadTableOptions };

const FORMAT_BY_EXTENSION: Record<string, TableFormat> = {
  ".csv": "csv",
  ".parquet": "parquet",
  ".pq": "parquet",
  ".sav": "sav",
  ".zsav": "sav",
};

export function tableFormatOf(path: string): TableFormat {
  const format = FORMAT_BY_EXTENSION[extname(path).toLowerCase()];
  if (format === undefined) {
    throw new InputError({ file: path }, "unknown table format: expected a .csv, .parquet, .sav or .zsav file");
  }
  return format;
}

/** Reads a CSV, Parquet or SPSS .sav/.zsav file by its extension. */
export async function readTable(path: string, options: ReadTableOptions = {}): Promise<DataTable> {
  const format = tableFormatOf(path);
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined) throw new InputError({ file: path }, "file not found");
  if (stat.isDirectory()) throw new InputError({ file: path }, `is a folder: expected a ${format === "sav" ? "SPSS .sav" : format === "csv" ? "CSV" : "Parquet"} file`);
  switch (format) {
    case "csv":
      return readCsvFile(path, options);
    case "parquet": {
      const { readParquet } = await import("./parquet.ts");
      return readParquet(path, options);
    }
    case "sav": {
      const { readSav } = await import("./sav.ts");
      return readSav(path, options);
    }
  }
}
