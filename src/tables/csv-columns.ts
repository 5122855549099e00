/**
 * Parsed CSV records into columns: checks the header, keeps the wanted
 * columns, checks every record's field count, turns the parser's quote errors
 * into located messages, and remembers the physical line of every row (quoted
 * newlines make it differ from row + 1) for later messages.
 */
import { InputError } from "../errors.ts";
import { ColumnCells } from "./column-cells.ts";
import type { DataTable } from "./types.ts";

/** A parser's complaint about a record (papaparse's ParseError, as far as it is used here). */
export interface RecordError {
  /** Index of the record in the chunk. */
  row?: number | undefined;
  code: string;
  message: string;
}

export class CsvColumns {
  private header: string[] | undefined;
  /** Index in the record of each kept column, and its cells. */
  private kept: { index: number; cells: ColumnCells }[] = [];
  private rows = 0;
  /** The physical line the next record starts on. */
  private line = 1;
  private lines = new Int32Array(1024);
  /** Until the text has a quote, no field can hold a newline. */
  private quoted = false;

  private readonly source: string;
  private readonly wanted: readonly string[] | undefined;

  constructor(source: string, wanted?: readonly string[]) {
    this.source = source;
    this.wanted = wanted;
  }

  /** Notes text before it reaches the parser. */
  sawText(text: string): void {
    if (!this.quoted && text.includes('"')) this.quoted = true;
  }

  /** Adds one parsed chunk: its records and the parser's errors (row = index in `records`). */
  addRows(records: readonly string[][], errors: readonly RecordError[]): void {
    const problems = errors.length === 0 ? undefined : errors;
    for (let k = 0; k < records.length; k++) {
      const record = records[k]!;
      const line = this.line;
      this.line += 1 + (this.quoted ? newlinesIn(record) : 0);
      if (problems !== undefined) this.refuseQuoteErrors(problems, k, record, line);
      if (record.length === 1 && record[0] === "") continue; // an empty line
      if (this.header === undefined) this.readHeader(record);
      else this.addRecord(record, line);
    }
  }

  finish(): DataTable {
    if (this.header === undefined) throw new InputError({ file: this.source }, "empty file: expected a header row");
    const columns: DataTable["columns"] = {};
    const columnNames: string[] = [];
    for (const { index, cells } of this.kept) {
      const name = this.header[index]!;
      columnNames.push(name);
      columns[name] = cells.values;
    }
    return {
      source: this.source,
      format: "csv",
      columnNames,
      ...(columnNames.length === this.header.length ? {} : { fileColumnNames: this.header }),
      numRows: this.rows,
      columns,
      lines: this.lines.slice(0, this.rows),
      valueLabels: {},
    };
  }

  private readHeader(record: string[]): void {
    const names = record.map((name) => name.trim());
    const seen = new Set<string>();
    for (const name of names) {
      if (name === "") throw new InputError({ file: this.source }, "the header has an empty column name");
      if (seen.has(name)) throw new InputError({ file: this.source, field: name }, "the header names this column twice");
      seen.add(name);
    }
    const wanted = this.wanted === undefined ? undefined : new Set(this.wanted);
    names.forEach((name, index) => {
      if (wanted === undefined || wanted.has(name)) this.kept.push({ index, cells: new ColumnCells() });
    });
    this.header = names;
  }

  private addRecord(record: string[], line: number): void {
    const row = this.rows;
    if (record.length !== this.header!.length) {
      throw new InputError(
        { file: this.source, row: row + 1, line },
        `not valid CSV: expected ${this.header!.length} fields, as the header has, got ${record.length}`,
      );
    }
    for (const { index, cells } of this.kept) cells.push(record[index]!);
    if (row === this.lines.length) {
      const grown = new Int32Array(row * 2);
      grown.set(this.lines);
      this.lines = grown;
    }
    this.lines[row] = line;
    this.rows = row + 1;
  }

  /** The parser's complaint about record `k` of the chunk, located. */
  private refuseQuoteErrors(errors: readonly RecordError[], k: number, record: string[], line: number): void {
    const mine = errors.filter((error) => error.row === k);
    if (mine.length === 0) return;
    const where = this.header === undefined ? { file: this.source, line } : { file: this.source, row: this.rows + 1, line };
    if (mine.some((error) => error.code === "InvalidQuotes")) {
      throw new InputError(where, `not valid CSV: a quoted field is followed by text before the next comma (a stray " ?)`);
    }
    if (mine.some((error) => error.code === "MissingQuotes")) {
      // The unclosed field swallowed the rest of the file: it is the record's last.
      const opened = line + newlinesIn(record.slice(0, -1));
      throw new InputError(where, `not valid CSV: a quoted field opened on line ${opened} is never closed (a stray " ?)`);
    }
    throw new InputError(where, `not valid CSV: ${mine[0]!.message}`);
  }
}

function newlinesIn(record: readonly string[]): number {
  let count = 0;
  for (const field of record) {
    for (let at = field.indexOf("\n"); at !== -1; at = field.indexOf("\n", at + 1)) count += 1;
  }
  return count;
}
