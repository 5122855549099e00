/**
 * CSV files into column-major tables. A file is streamed: decoded as UTF-8
 * chunk by chunk (refusing bytes that are not, naming the line), parsed by
 * papaparse, and only the columns asked for are kept, so memory follows the
 * columns a command needs rather than the file. Cells stay strings (the
 * schema of each consumer decides what is numeric); empty cells are missing
 * (null).
 */
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import Papa from "papaparse";
import { InputError } from "../errors.ts";
import { readTextFile } from "../util/text-file.ts";
import { CsvColumns } from "./csv-columns.ts";
import type { DataTable } from "./types.ts";

export interface CsvReadOptions {
  /** Columns to keep (others are parsed and dropped); all when omitted. */
  columns?: readonly string[];
  /** Bytes per read; small values exercise chunk boundaries in tests. */
  chunkBytes?: number;
}

/** Reads a CSV file with a header row, streaming. */
export async function readCsvFile(path: string, options: CsvReadOptions = {}): Promise<DataTable> {
  const table = new CsvColumns(path, options.columns);
  const text = Readable.from(utf8Chunks(path, options.chunkBytes ?? 1 << 20, table));
  await new Promise<void>((resolve, reject) => {
    let failure: unknown;
    Papa.parse<string[]>(text as never, {
      delimiter: ",",
      skipEmptyLines: false,
      chunk: (results, parser) => {
        try {
          table.addRows(results.data, results.errors);
        } catch (error) {
          failure = error;
          parser.abort();
        }
      },
      complete: () => (failure === undefined ? resolve() : reject(failure)),
      error: (error: unknown) => reject(error),
    });
  });
  return table.finish();
}

/** Reads CSV text (already in memory) as `readCsvFile` reads a file; `path` names it in messages. */
export function readCsv(path: string, text?: string, options: Pick<CsvReadOptions, "columns"> = {}): DataTable {
  const table = new CsvColumns(path, options.columns);
  const content = text ?? readTextFile(path);
  table.sawText(content);
  const results = Papa.parse<string[]>(content, { delimiter: ",", skipEmptyLines: false });
  table.addRows(results.data, results.errors);
  return table.finish();
}

const decoderOptions = { fatal: true, ignoreBOM: false } as const;

/**
 * The file's text in chunks, refusing bytes that are not UTF-8 with the line
 * they are on: a Latin-1 "é" silently decoded as "\uFFFD" would reach
 * personas and estimates garbled.
 */
async function* utf8Chunks(path: string, chunkBytes: number, table: CsvColumns): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8", decoderOptions);
  let newlines = 0;
  // The bytes of a character split across reads, which the decoder holds back.
  let carried: Uint8Array = new Uint8Array(0);
  for await (const bytes of createReadStream(path, { highWaterMark: chunkBytes }) as AsyncIterable<Buffer>) {
    let text: string;
    try {
      text = decoder.decode(bytes, { stream: true });
    } catch {
      throw notUtf8(path, newlines, Buffer.concat([carried, bytes]));
    }
    newlines += countNewlines(bytes);
    carried = bytes.subarray(bytes.length - incompleteTail(bytes));
    if (text.length === 0) continue;
    table.sawText(text);
    yield text;
  }
  try {
    const rest = decoder.decode();
    if (rest.length > 0) yield rest;
  } catch {
    throw notUtf8(path, newlines, carried);
  }
}

/** How many bytes at the end of `bytes` begin a UTF-8 character that continues past them. */
function incompleteTail(bytes: Uint8Array): number {
  for (let k = 1; k <= Math.min(3, bytes.length); k++) {
    const byte = bytes[bytes.length - k]!;
    if (byte < 0x80) return 0;
    if (byte >= 0xc0) return (byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2) > k ? k : 0;
  }
  return 0;
}

function notUtf8(path: string, newlinesBefore: number, bytes: Uint8Array): InputError {
  return new InputError(
    { file: path, line: newlinesBefore + firstInvalidLine(bytes) },
    "the file is not UTF-8 text; save it as UTF-8 (e.g. from Excel: CSV UTF-8; from R: write.csv(..., fileEncoding = \"UTF-8\"))",
  );
}

function countNewlines(bytes: Uint8Array): number {
  let count = 0;
  for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) count += 1;
  return count;
}

/** The line (1-based, within `bytes`) holding the first byte sequence that is not UTF-8. */
function firstInvalidLine(bytes: Uint8Array): number {
  const decoder = new TextDecoder("utf-8", decoderOptions);
  let line = 1;
  let start = 0;
  for (let end = bytes.indexOf(0x0a); ; end = bytes.indexOf(0x0a, start)) {
    const last = end === -1;
    try {
      // A line ends on "\n", never inside a character; only the last may be cut off by the read.
      decoder.decode(bytes.subarray(start, last ? bytes.length : end), { stream: last });
    } catch {
      return line;
    }
    if (last) return line;
    line += 1;
    start = end + 1;
  }
}
