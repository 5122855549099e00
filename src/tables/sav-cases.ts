/**
 * The cases of an SPSS system file, in any of its three layouts: plain 8-byte
 * slots, bytecode compression (blocks of 8 command bytes, each followed by the
 * raw slots its 253 codes announce), or zlib (.zsav: a zlib header, blocks of
 * zlib-compressed bytecode, a trailer indexing them).
 */
import { inflateSync } from "node:zlib";
import { ByteCursor, SavFormatError, TRUNCATED } from "./sav-bytes.ts";
import type { SavDictionary } from "./sav-dictionary.ts";

/** Called with each case's slots (8 bytes each, in the file's byte order); the buffer is reused. */
export type CaseVisitor = (slots: Buffer) => void;

/** Visits every case and returns how many there were. */
export function visitCases(bytes: Buffer, dictionary: SavDictionary, visit: CaseVisitor): number {
  const data = bytes.subarray(dictionary.dataOffset);
  switch (dictionary.compression) {
    case "none":
      return visitPlain(data, dictionary.slotsPerCase, visit);
    case "bytecode":
      return visitBytecode(data, dictionary, visit);
    case "zlib":
      return visitBytecode(inflateBlocks(bytes, dictionary), dictionary, visit);
  }
}

function visitPlain(data: Buffer, slotsPerCase: number, visit: CaseVisitor): number {
  const caseBytes = slotsPerCase * 8;
  if (caseBytes === 0) return 0;
  const cases = Math.floor(data.length / caseBytes);
  if (data.length % caseBytes !== 0) {
    throw new SavFormatError(`the data ends in the middle of case ${cases + 1} ${TRUNCATED}`);
  }
  for (let i = 0; i < cases; i++) visit(data.subarray(i * caseBytes, (i + 1) * caseBytes));
  return cases;
}

const SPACES = Buffer.alloc(8, 0x20);
const END_OF_DATA = 252;
const RAW_SLOT = 253;
const ALL_SPACES = 254;
const SYSTEM_MISSING = 255;

/** Decodes bytecode compression: code 0 is padding, 1-251 the number code − bias, 252 the end. */
function visitBytecode(data: Buffer, dictionary: SavDictionary, visit: CaseVisitor): number {
  const { slotsPerCase, bias, sysmis, littleEndian } = dictionary;
  if (slotsPerCase === 0) return 0;
  const slots = Buffer.alloc(slotsPerCase * 8);
  const write = (value: number, offset: number) => (littleEndian ? slots.writeDoubleLE(value, offset) : slots.writeDoubleBE(value, offset));
  let cases = 0;
  let slot = 0;
  let position = 0;
  while (position + 8 <= data.length) {
    const commands = position;
    position += 8;
    for (let i = 0; i < 8; i++) {
      const code = data[commands + i]!;
      if (code === 0) continue;
      if (code === END_OF_DATA) return finish(cases, slot);
      const offset = slot * 8;
      if (code === RAW_SLOT) {
        if (position + 8 > data.length) throw new SavFormatError(`the data ends in the middle of case ${cases + 1} ${TRUNCATED}`);
        data.copy(slots, offset, position, position + 8);
        position += 8;
      } else if (code === ALL_SPACES) {
        SPACES.copy(slots, offset);
      } else if (code === SYSTEM_MISSING) {
        write(sysmis, offset);
      } else {
        write(code - bias, offset);
      }
      slot += 1;
      if (slot === slotsPerCase) {
        visit(slots);
        cases += 1;
        slot = 0;
      }
    }
  }
  if (position !== data.length) throw new SavFormatError(`the data ends in the middle of a block of compression codes, in case ${cases + 1} ${TRUNCATED}`);
  return finish(cases, slot);
}

function finish(cases: number, slot: number): number {
  if (slot !== 0) throw new SavFormatError(`the data ends in the middle of case ${cases + 1} ${TRUNCATED}`);
  return cases;
}

/** The bytecode stream of a .zsav: its zlib blocks, found through the trailer, inflated in order. */
function inflateBlocks(bytes: Buffer, dictionary: SavDictionary): Buffer {
  const cursor = new ByteCursor(bytes);
  cursor.littleEndian = dictionary.littleEndian;
  cursor.position = dictionary.dataOffset;
  const headerOffset = cursor.int64("the zlib header");
  const trailerOffset = cursor.int64("the zlib header");
  const trailerLength = cursor.int64("the zlib header");
  if (headerOffset !== dictionary.dataOffset) throw new SavFormatError(`the zlib header is damaged (it says it is at byte ${headerOffset}, not ${dictionary.dataOffset})`);
  if (trailerOffset + trailerLength > bytes.length || trailerOffset < cursor.position) {
    throw new SavFormatError(`the file ends early: its zlib trailer should be at bytes ${trailerOffset}-${trailerOffset + trailerLength} but the file has ${bytes.length} ${TRUNCATED}`);
  }
  cursor.position = trailerOffset + 20;
  const blockCount = cursor.int32("the zlib trailer");
  if (trailerLength !== 24 + 24 * blockCount) throw new SavFormatError(`the zlib trailer is damaged (${blockCount} blocks in ${trailerLength} bytes)`);
  const blocks: Buffer[] = [];
  for (let block = 1; block <= blockCount; block++) {
    cursor.int64("the zlib trailer"); // offset in the uncompressed stream: implied by the order
    const compressedOffset = cursor.int64("the zlib trailer");
    const uncompressedSize = cursor.int32("the zlib trailer");
    const compressedSize = cursor.int32("the zlib trailer");
    if (compressedOffset < dictionary.dataOffset + 24 || compressedOffset + compressedSize > trailerOffset) {
      throw new SavFormatError(`the zlib trailer is damaged: block ${block} of ${blockCount} lies outside the data`);
    }
    blocks.push(inflateBlock(bytes.subarray(compressedOffset, compressedOffset + compressedSize), uncompressedSize, `${block} of ${blockCount}`));
  }
  return Buffer.concat(blocks);
}

function inflateBlock(compressed: Buffer, expectedSize: number, which: string): Buffer {
  let inflated: Buffer;
  try {
    inflated = inflateSync(compressed);
  } catch (error) {
    throw new SavFormatError(`zlib block ${which} is damaged (${(error as Error).message})`);
  }
  if (inflated.length !== expectedSize) {
    throw new SavFormatError(`zlib block ${which} inflates to ${inflated.length} bytes, not the ${expectedSize} its trailer says`);
  }
  return inflated;
}
