/**
 * The dictionary of an SPSS system file (.sav, .zsav): the file header, the
 * variable records (type 2), value labels (3 and 4), documents (6) and the
 * extension records (7) that matter for reading data: machine info (3, 4),
 * long variable names (13), very long strings (14) and the character
 * encoding (20). Layout as documented in the PSPP developers' guide,
 * "System File Format".
 */
import { ByteCursor, readDouble, SavFormatError } from "./sav-bytes.ts";

export type Compression = "none" | "bytecode" | "zlib";

/** A stretch of a case's bytes that holds part of a string: its first slot and how many bytes count. */
export interface StringSegment {
  slot: number;
  bytes: number;
}

export interface SavVariable {
  /** The long name (record 7.13) if there is one, else the 8-byte short name. */
  name: string;
  /** 0 for numeric, the width in bytes for a string. */
  width: number;
  /** First 8-byte slot of the variable in a case. */
  slot: number;
  /** Where a string's bytes lie (one segment, or several for a very long string). */
  segments: StringSegment[];
  /** User-missing values: discrete numbers or strings, and a numeric range. */
  missingValues: (number | string)[];
  missingRange?: [number, number];
}

export interface SavDictionary {
  littleEndian: boolean;
  compression: Compression;
  /** Cases the header declares; -1 when the writer did not know. */
  declaredCases: number;
  bias: number;
  /** The value that marks a system-missing number. */
  sysmis: number;
  /** 8-byte slots per case. */
  slotsPerCase: number;
  variables: SavVariable[];
  /** Labels of numeric codes, by variable name. */
  valueLabels: Record<string, Map<number, string>>;
  /** Byte offset where the data (or, for zlib, the zlib header) begins. */
  dataOffset: number;
  /** Decodes the file's strings (record 7.20, else 7.3, else windows-1252). */
  decoder: TextDecoder;
}

/** A variable record as read, before names and very long strings are resolved. */
interface RawVariable {
  shortName: Buffer;
  /** 0 numeric, 1-255 string width. */
  type: number;
  slot: number;
  missingCount: number;
  missing: Buffer[];
}

interface RawLabels {
  labels: { value: Buffer; label: Buffer }[];
  /** 1-based slot indexes the labels apply to. */
  slots: number[];
}

interface Extensions {
  characterCode?: number;
  sysmis?: number;
  encoding?: string;
  longNames?: Buffer;
  veryLongStrings?: Buffer;
}

const HEADER_BYTES = 176;
/** -DBL_MAX, the system-missing value of every file that does not say otherwise. */
const DEFAULT_SYSMIS = -Number.MAX_VALUE;

/**
 * Reads the dictionary from the file's first bytes. When `bytes` is only the
 * head of the file (`whole` false) and the dictionary runs past it, throws
 * MoreBytesNeeded: the caller reads a longer head and calls again.
 */
export function readDictionary(bytes: Buffer, whole = true): SavDictionary {
  if (bytes.length === 0 && whole) throw new SavFormatError("the file is empty");
  const cursor = new ByteCursor(bytes, whole);
  const header = readHeader(cursor);
  const variables: RawVariable[] = [];
  const labels: RawLabels[] = [];
  const extensions: Extensions = {};
  let slots = 0;
  for (;;) {
    const recordStart = cursor.position;
    const type = cursor.int32("the dictionary");
    if (type === 2) {
      const variable = readVariableRecord(cursor, slots);
      slots += 1;
      if (variable !== undefined) variables.push(variable);
      else if (variables.length === 0) throw new SavFormatError(`a string continuation record at byte ${recordStart} follows no string variable`);
    } else if (type === 3) {
      labels.push(readValueLabels(cursor));
    } else if (type === 6) {
      const lines = cursor.int32("a document record");
      cursor.take(lines * 80, "a document record");
    } else if (type === 7) {
      readExtension(cursor, extensions);
    } else if (type === 999) {
      cursor.int32("the dictionary termination record");
      break;
    } else {
      throw new SavFormatError(`unknown record type ${type} at byte ${recordStart}: the dictionary is damaged`);
    }
  }
  if (header.slotsPerCase !== -1 && header.slotsPerCase !== slots) {
    throw new SavFormatError(`the header says a case has ${header.slotsPerCase} 8-byte slots but the variable records make ${slots}: the dictionary is damaged`);
  }
  const decoder = textDecoder(extensions);
  const sysmis = extensions.sysmis ?? DEFAULT_SYSMIS;
  const resolved = resolveVariables(variables, extensions, decoder, cursor.littleEndian);
  return {
    littleEndian: cursor.littleEndian,
    compression: header.compression,
    declaredCases: header.declaredCases,
    bias: header.bias,
    sysmis,
    slotsPerCase: slots,
    variables: resolved.variables,
    valueLabels: numericLabels(labels, resolved.bySlot, decoder, cursor.littleEndian),
    dataOffset: cursor.position,
    decoder,
  };
}

function readHeader(cursor: ByteCursor): { compression: Compression; declaredCases: number; bias: number; slotsPerCase: number } {
  cursor.ensure(4);
  const magic = cursor.bytes.subarray(0, 4).toString("latin1");
  if (magic !== "$FL2" && magic !== "$FL3") {
    const shown = JSON.stringify(cursor.bytes.subarray(0, 4).toString("latin1"));
    throw new SavFormatError(`it does not start as an SPSS system file does ($FL2 or $FL3) but with ${shown}; is it another format renamed?`);
  }
  cursor.need(HEADER_BYTES, "the file header");
  cursor.position = 64;
  const layout = cursor.bytes.readInt32LE(64);
  if (layout !== 2 && layout !== 3) {
    cursor.littleEndian = false;
    const bigEndianLayout = cursor.bytes.readInt32BE(64);
    if (bigEndianLayout !== 2 && bigEndianLayout !== 3) throw new SavFormatError(`the file header is damaged (layout code ${layout}, expected 2 or 3)`);
  }
  cursor.position = 68;
  const slotsPerCase = cursor.int32("the file header");
  const compressionCode = cursor.int32("the file header");
  cursor.int32("the file header"); // weight variable: silicon takes weights from a named column
  const declaredCases = cursor.int32("the file header");
  const bias = cursor.float64("the file header");
  cursor.position = HEADER_BYTES;
  const compression = compressionCode === 0 ? "none" : compressionCode === 1 ? "bytecode" : compressionCode === 2 ? "zlib" : undefined;
  if (compression === undefined) throw new SavFormatError(`the file header names an unknown compression (${compressionCode})`);
  if ((compression === "zlib") !== (magic === "$FL3")) {
    throw new SavFormatError(`the file header is damaged: ${magic} with compression code ${compressionCode}`);
  }
  if (declaredCases < -1) throw new SavFormatError(`the file header declares ${declaredCases} cases`);
  return { compression, declaredCases, bias, slotsPerCase };
}

/** One type-2 record; undefined for a string continuation record. */
function readVariableRecord(cursor: ByteCursor, slot: number): RawVariable | undefined {
  const what = "a variable record";
  const type = cursor.int32(what);
  const hasLabel = cursor.int32(what);
  const missingCount = cursor.int32(what);
  cursor.take(8, what); // print and write formats
  const shortName = cursor.take(8, what);
  if (hasLabel !== 0) {
    const length = cursor.int32(what);
    cursor.take(Math.ceil(length / 4) * 4, "a variable label");
  }
  if (![0, 1, 2, 3, -2, -3].includes(missingCount)) {
    throw new SavFormatError(`a variable record at byte ${cursor.position} declares ${missingCount} missing values: the dictionary is damaged`);
  }
  const missing: Buffer[] = [];
  for (let i = 0; i < Math.abs(missingCount); i++) missing.push(cursor.take(8, "a variable's missing values"));
  if (type === -1) return undefined;
  if (type < 0 || type > 255) throw new SavFormatError(`a variable record at byte ${cursor.position} has width ${type}: the dictionary is damaged`);
  return { shortName, type, slot, missingCount, missing };
}

function readValueLabels(cursor: ByteCursor): RawLabels {
  const count = cursor.int32("a value label record");
  if (count < 0) throw new SavFormatError(`a value label record declares ${count} labels`);
  const labels: RawLabels["labels"] = [];
  for (let i = 0; i < count; i++) {
    const value = cursor.take(8, "a value label record");
    const length = cursor.take(1, "a value label record")[0]!;
    const label = cursor.take(length, "a value label record");
    cursor.take((8 - ((length + 1) % 8)) % 8, "a value label record");
    labels.push({ value, label });
  }
  const next = cursor.int32("a value label record");
  if (next !== 4) throw new SavFormatError(`value labels at byte ${cursor.position - 4} are followed by record type ${next}, not by the variables they label (4)`);
  const variableCount = cursor.int32("a value label variables record");
  if (variableCount < 0) throw new SavFormatError(`a value label variables record lists ${variableCount} variables`);
  const slots: number[] = [];
  for (let i = 0; i < variableCount; i++) slots.push(cursor.int32("a value label variables record"));
  return { labels, slots };
}

function readExtension(cursor: ByteCursor, extensions: Extensions): void {
  const what = "an extension record";
  const subtype = cursor.int32(what);
  const size = cursor.int32(what);
  const count = cursor.int32(what);
  if (size < 0 || count < 0) throw new SavFormatError(`extension record ${subtype} at byte ${cursor.position} has a negative size: the dictionary is damaged`);
  const data = cursor.take(size * count, `extension record ${subtype}`);
  const littleEndian = cursor.littleEndian;
  if (subtype === 3 && size === 4 && count >= 8) {
    extensions.characterCode = littleEndian ? data.readInt32LE(28) : data.readInt32BE(28);
  } else if (subtype === 4 && size === 8 && count >= 1) {
    extensions.sysmis = readDouble(data, 0, littleEndian);
  } else if (subtype === 13) {
    extensions.longNames = data;
  } else if (subtype === 14) {
    extensions.veryLongStrings = data;
  } else if (subtype === 20) {
    extensions.encoding = data.toString("latin1").trim();
  }
}

/** Character code numbers of record 7.3 that name an encoding TextDecoder knows. */
const CODE_PAGES: Record<number, string> = {
  2: "windows-1252", 3: "windows-1252", 874: "windows-874", 932: "shift_jis", 936: "gbk", 949: "euc-kr", 950: "big5",
  20127: "windows-1252", 28591: "iso-8859-1", 65001: "utf-8",
};

function textDecoder(extensions: Extensions): TextDecoder {
  const code = extensions.characterCode;
  const name =
    extensions.encoding ??
    (code === undefined ? "windows-1252" : CODE_PAGES[code] ?? (code >= 1250 && code <= 1258 ? `windows-${code}` : code >= 28592 && code <= 28605 ? `iso-8859-${code - 28590}` : undefined));
  if (name === undefined) throw new SavFormatError(`its text is in character code ${code}, which silicon cannot decode; re-save it as UTF-8`);
  try {
    return new TextDecoder(name);
  } catch {
    throw new SavFormatError(`its text is in the character encoding "${name}", which silicon cannot decode; re-save it as UTF-8`);
  }
}

/** `KEY=value` pairs of records 7.13 and 7.14, separated by tabs (7.14 also ends each with NUL). */
function pairs(data: Buffer | undefined, decoder: TextDecoder): Map<string, string> {
  const map = new Map<string, string>();
  if (data === undefined) return map;
  for (const entry of decoder.decode(data).split("\t")) {
    const clean = entry.replace(/\0/g, "");
    const equals = clean.indexOf("=");
    if (equals > 0) map.set(clean.slice(0, equals).trim(), clean.slice(equals + 1));
  }
  return map;
}

function resolveVariables(
  raw: RawVariable[], extensions: Extensions, decoder: TextDecoder, littleEndian: boolean,
): { variables: SavVariable[]; bySlot: Map<number, SavVariable> } {
  const longNames = pairs(extensions.longNames, decoder);
  const veryLong = pairs(extensions.veryLongStrings, decoder);
  const variables: SavVariable[] = [];
  const bySlot = new Map<number, SavVariable>();
  for (let i = 0; i < raw.length; i++) {
    const record = raw[i]!;
    const shortName = decoder.decode(record.shortName).trim();
    const name = longNames.get(shortName) ?? shortName;
    const declaredWidth = veryLong.get(shortName);
    const variable: SavVariable = { name, width: record.type, slot: record.slot, segments: [], missingValues: [] };
    if (record.type > 0) {
      const width = declaredWidth === undefined ? record.type : Number(declaredWidth);
      if (!Number.isInteger(width) || width < record.type) throw new SavFormatError(`variable ${name} has a damaged very long string width (${declaredWidth})`);
      const segmentCount = width > 255 ? Math.ceil(width / 252) : 1;
      if (i + segmentCount > raw.length) throw new SavFormatError(`variable ${name} of width ${width} needs ${segmentCount} string segments but the dictionary ends first`);
      variable.width = width;
      // Each segment but the last holds 255 bytes of the string (PSPP guide, "Very Long String Record").
      for (let s = 0; s < segmentCount; s++) {
        const segment = raw[i + s]!;
        variable.segments.push({ slot: segment.slot, bytes: s < segmentCount - 1 ? 255 : segment.type });
      }
      i += segmentCount - 1;
    }
    readMissing(record, variable, decoder, littleEndian);
    variables.push(variable);
    bySlot.set(record.slot + 1, variable);
  }
  return { variables, bySlot };
}

function readMissing(record: RawVariable, variable: SavVariable, decoder: TextDecoder, littleEndian: boolean): void {
  if (record.type > 0) {
    variable.missingValues = record.missing.map((value) => decoder.decode(value).trimEnd());
    return;
  }
  const numbers = record.missing.map((value) => readDouble(value, 0, littleEndian));
  if (record.missingCount < 0) {
    variable.missingRange = [numbers[0]!, numbers[1]!];
    variable.missingValues = numbers.slice(2);
  } else {
    variable.missingValues = numbers;
  }
}

function numericLabels(
  records: RawLabels[], bySlot: Map<number, SavVariable>, decoder: TextDecoder, littleEndian: boolean,
): Record<string, Map<number, string>> {
  const result: Record<string, Map<number, string>> = {};
  for (const record of records) {
    for (const slot of record.slots) {
      const variable = bySlot.get(slot);
      if (variable === undefined) throw new SavFormatError(`value labels apply to variable position ${slot}, which is no variable's first position`);
      if (variable.width !== 0) continue; // silicon uses labels of numeric codes only
      const labels = (result[variable.name] ??= new Map());
      for (const { value, label } of record.labels) labels.set(readDouble(value, 0, littleEndian), decoder.decode(label));
    }
  }
  return result;
}
