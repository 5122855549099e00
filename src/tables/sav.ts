import { readFileSync } from "node:fs";
import { InputError } from "../errors.ts";
import { readDouble, SavFormatError, TRUNCATED } from "./sav-bytes.ts";
import { visitCases } from "./sav-cases.ts";
import { readDictionary, type SavDictionary, type SavVariable } from "./sav-dictionary.ts";
import type { Cell, DataTable } from "./types.ts";

/**
 * Reads an SPSS system file, .sav (uncompressed or bytecode-compressed) or
 * .zsav (zlib), as SPSS, PSPP and R haven write them. Numeric columns keep
 * their codes; value labels are returned beside them so that personas can say
 * "Republican" rather than 2. User-missing codes become missing (null), as
 * haven does by default, so 998 "Don't know" never enters a mean. Every case
 * is read: a count that disagrees with the header's is an error, never a
 * shorter table.
 */
export async function readSav(path: string): Promise<DataTable> {
  try {
    return readSavBytes(path, readFileSync(path));
  } catch (error) {
    if (error instanceof SavFormatError) {
      throw new InputError({ file: path }, `not a readable SPSS file: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

function readSavBytes(path: string, bytes: Buffer): DataTable {
  const dictionary = readDictionary(bytes);
  const readers = dictionary.variables.map((variable) => cellReader(variable, dictionary));
  // Sized by the header's count when it has one (checked below), else grown.
  const columns: Cell[][] = dictionary.variables.map(() => new Array<Cell>(Math.max(dictionary.declaredCases, 0)));
  let row = 0;
  const caseCount = visitCases(bytes, dictionary, (slots) => {
    for (let j = 0; j < readers.length; j++) columns[j]![row] = readers[j]!(slots);
    row += 1;
  });
  const declared = dictionary.declaredCases;
  if (declared !== -1 && caseCount !== declared) {
    const hint = caseCount < declared ? ` ${TRUNCATED}` : "";
    throw new SavFormatError(`its header declares ${declared} cases but the data holds ${caseCount}${hint}`);
  }
  const columnNames = dictionary.variables.map((variable) => variable.name);
  return {
    source: path,
    format: "sav",
    columnNames,
    numRows: caseCount,
    columns: Object.fromEntries(columnNames.map((name, j) => [name, columns[j]!])),
    valueLabels: dictionary.valueLabels,
  };
}

/** Reads one variable's cell from a case's slots: null for system- and user-missing and empty strings. */
function cellReader(variable: SavVariable, dictionary: SavDictionary): (slots: Buffer) => Cell {
  const { sysmis, littleEndian, decoder } = dictionary;
  if (variable.width === 0) {
    const offset = variable.slot * 8;
    const missing = new Set(variable.missingValues);
    const [low, high] = variable.missingRange ?? [Infinity, -Infinity];
    return (slots) => {
      const value = readDouble(slots, offset, littleEndian);
      return value === sysmis || Number.isNaN(value) || missing.has(value) || (value >= low && value <= high) ? null : value;
    };
  }
  const missing = new Set(variable.missingValues);
  const { segments, width } = variable;
  const utf8 = decoder.encoding === "utf-8";
  // Strings are padded with blanks (or NULs) to their width; the padding is not part of the value.
  const text = (bytes: Buffer, start: number, end: number): Cell => {
    while (end > start && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0)) end -= 1;
    if (end === start) return null;
    const value = utf8 ? bytes.toString("utf8", start, end) : decoder.decode(bytes.subarray(start, end));
    return missing.has(value) ? null : value;
  };
  if (segments.length === 1) {
    const start = segments[0]!.slot * 8;
    const end = start + segments[0]!.bytes;
    return (slots) => text(slots, start, end);
  }
  return (slots) => {
    const joined = Buffer.concat(segments.map((segment) => slots.subarray(segment.slot * 8, segment.slot * 8 + segment.bytes)));
    return text(joined, 0, width);
  };
}
