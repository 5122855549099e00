/** A cell as read from a file: CSV gives strings, Parquet and SPSS typed values; null is missing. */
export type Cell = string | number | boolean | null;

export type TableFormat = "csv" | "parquet" | "sav";

/**
 * A rectangular table read from a file, column-major. It remembers where it
 * came from so that every later error can name the file, row and line.
 */
export interface DataTable {
  /** Path as the user gave it; used in messages. */
  source: string;
  format: TableFormat;
  /** The columns read (all, unless the reader was asked for some). */
  columnNames: string[];
  /** Every column of the file, when only some were read: for messages about a missing one. */
  fileColumnNames?: string[];
  numRows: number;
  columns: Record<string, Cell[]>;
  /** Physical 1-based line of each data row (CSV only; quoted newlines make it differ from row + 1). */
  lines?: Int32Array;
  /** 1-based row in the file of each data row, when the table holds some of the file's rows (one wave of a panel). */
  rows?: Int32Array;
  /** SPSS value labels by column: code -> label. Empty for CSV and Parquet. */
  valueLabels: Record<string, Map<number, string>>;
}

/** How readTable reads a file. */
export interface ReadTableOptions {
  /**
   * Columns to keep; the others are not kept (CSV), not decoded (SPSS) or
   * not read at all (Parquet), so memory follows what a command needs. All when omitted;
   * a named column the file lacks is simply absent.
   */
  columns?: readonly string[];
}
