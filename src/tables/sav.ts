import { closeSync, fstatSync, openSync } from "node:fs";
import { InputError } from "../errors.ts";
import { SharedTexts } from "./column-cells.ts";
import { readDouble, SavFormatError, TRUNCATED } from "./sav-bytes.ts";
import { caseDecoder } from "./sav-cases.ts";
import type { SavDictionary, SavVariable } from "./sav-dictionary.ts";
import { fileChunks, readDictionaryOf } from "./sav-file.ts";
import { inflatedData } from "./sav-zlib.ts";
import type { Cell, DataTable, ReadTableOptions } from "./types.ts";

export interface SavReadOptions extends ReadTableOptions {
  /** Bytes per read (and per inflated piece of a .zsav); small values exercise chunk boundaries in tests. */
  chunkBytes?: number;
}

const CHUNK_BYTES = 1 << 20;

/**
 * Reads an SPSS system file, .sav (uncompressed or bytecode-compressed) or
 * .zsav (zlib), as SPSS, PSPP and R haven write them. Numeric columns keep
 * their codes; value labels are returned beside them so that personas can say
 * "Republican" rather than 2. User-missing codes become missing (null), as
 * haven does by default, so 998 "Don't know" never enters a mean.
 *
 * The file is streamed: the dictionary from its head, then the data a chunk
 * at a time, and only the columns asked for are kept, so memory follows
 * those columns, not the file. Every case is still decoded and counted: a
 * count that disagrees with the header's is an error, never a shorter table.
 */
export async function readSav(path: string, options: SavReadOptions = {}): Promise<DataTable> {
  const chunkBytes = Math.max(1, options.chunkBytes ?? CHUNK_BYTES);
  const file = openSync(path, "r");
  try {
    const size = fstatSync(file).size;
    const dictionary = readDictionaryOf(file, size, chunkBytes);
    // The case decoders copy what they keep of a chunk, so a .sav's chunks can share one buffer.
    const data = dictionary.compression === "zlib" ? inflatedData(file, dictionary, size, chunkBytes) : fileChunks(file, dictionary.dataOffset, size, chunkBytes, true);
    return await readCases(path, dictionary, data, options.columns);
  } catch (error) {
    if (error instanceof SavFormatError) {
      throw new InputError({ file: path }, `not a readable SPSS file: ${error.message}`, { cause: error });
    }
    throw error;
  } finally {
    closeSync(file);
  }
}

/** Decodes every case of `data`, keeping the cells of the wanted variables (all when `wanted` is undefined). */
async function readCases(path: string, dictionary: SavDictionary, data: Iterable<Buffer> | AsyncIterable<Buffer>, wanted: readonly string[] | undefined): Promise<DataTable> {
  const wantedNames = wanted === undefined ? undefined : new Set(wanted);
  const kept = dictionary.variables.filter((variable) => wantedNames === undefined || wantedNames.has(variable.name));
  const readers = kept.map((variable) => cellReader(variable, dictionary));
  const wantedSlots = new Uint8Array(dictionary.slotsPerCase);
  for (const variable of kept) {
    for (const slot of slotsOf(variable)) wantedSlots[slot] = 1;
  }
  // Sized by the header's count when it has one (checked below), else grown.
  const columns: Cell[][] = kept.map(() => new Array<Cell>(Math.max(dictionary.declaredCases, 0)));
  let row = 0;
  const decoder = caseDecoder(dictionary, wantedSlots, (bytes, start) => {
    for (let j = 0; j < readers.length; j++) columns[j]![row] = readers[j]!(bytes, start);
    row += 1;
  });
  for await (const bytes of data) decoder.push(bytes);
  const caseCount = decoder.end();
  const declared = dictionary.declaredCases;
  if (declared !== -1 && caseCount !== declared) {
    const hint = caseCount < declared ? ` ${TRUNCATED}` : "";
    throw new SavFormatError(`its header declares ${declared} cases but the data holds ${caseCount}${hint}`);
  }
  const fileColumnNames = dictionary.variables.map((variable) => variable.name);
  const columnNames = kept.map((variable) => variable.name);
  const keptNames = new Set(columnNames);
  return {
    source: path,
    format: "sav",
    columnNames,
    ...(columnNames.length === fileColumnNames.length ? {} : { fileColumnNames }),
    numRows: caseCount,
    columns: Object.fromEntries(columnNames.map((name, j) => [name, columns[j]!])),
    valueLabels: Object.fromEntries(Object.entries(dictionary.valueLabels).filter(([name]) => keptNames.has(name))),
  };
}

/** The 8-byte slots of a case that hold the variable. */
function slotsOf(variable: SavVariable): number[] {
  if (variable.width === 0) return [variable.slot];
  return variable.segments.flatMap((segment) => Array.from({ length: Math.ceil(segment.bytes / 8) }, (_, k) => segment.slot + k));
}

/** Reads one variable's cell from a case's slots (at `start`): null for system- and user-missing and empty strings. */
function cellReader(variable: SavVariable, dictionary: SavDictionary): (bytes: Buffer, start: number) => Cell {
  const { sysmis, littleEndian, decoder } = dictionary;
  if (variable.width === 0) {
    const offset = variable.slot * 8;
    const missing = new Set(variable.missingValues);
    const [low, high] = variable.missingRange ?? [Infinity, -Infinity];
    return (bytes, start) => {
      const value = readDouble(bytes, start + offset, littleEndian);
      return value === sysmis || Number.isNaN(value) || missing.has(value) || (value >= low && value <= high) ? null : value;
    };
  }
  const missing = new Set(variable.missingValues);
  const { segments, width } = variable;
  const utf8 = decoder.encoding === "utf-8";
  const texts = new SharedTexts();
  // Strings are padded with blanks (or NULs) to their width; the padding is not part of the value.
  const text = (bytes: Buffer, start: number, end: number): Cell => {
    while (end > start && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0)) end -= 1;
    if (end === start) return null;
    const value = utf8 ? bytes.toString("utf8", start, end) : decoder.decode(bytes.subarray(start, end));
    return missing.has(value) ? null : texts.share(value);
  };
  if (segments.length === 1) {
    const offset = segments[0]!.slot * 8;
    const length = segments[0]!.bytes;
    return (bytes, start) => text(bytes, start + offset, start + offset + length);
  }
  return (bytes, start) => {
    const joined = Buffer.concat(segments.map((segment) => bytes.subarray(start + segment.slot * 8, start + segment.slot * 8 + segment.bytes)));
    return text(joined, 0, width);
  };
}
