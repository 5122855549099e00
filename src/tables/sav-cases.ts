/**
 * The cases of an SPSS system file, decoded as the data's bytes arrive, in
 * pieces of any size: plain 8-byte slots, or bytecode compression (blocks of
 * 8 command bytes, each followed by the raw slots its 253 codes announce),
 * which is also what the zlib blocks of a .zsav inflate to (sav-zlib.ts). A
 * case, or a command block and its raw slots, may straddle two pieces: the
 * few bytes left over wait for the next.
 */
import { SavFormatError, TRUNCATED } from "./sav-bytes.ts";
import type { SavDictionary } from "./sav-dictionary.ts";

/** Called with each case: its slots (8 bytes each, in the file's byte order) start at `start` of `bytes`, which is reused. */
export type CaseVisitor = (bytes: Buffer, start: number) => void;

export interface CaseDecoder {
  /** Decodes the next piece of the data, visiting every case it completes; copies what it keeps, so the piece may be reused. */
  push(bytes: Buffer): void;
  /** After the last piece: how many cases there were; throws if the data stops inside one. */
  end(): number;
}

/**
 * A decoder for the dictionary's layout. Only slots marked in `wantedSlots`
 * are written to the case a visitor sees (bytecode compression); every case
 * is still decoded and counted.
 */
export function caseDecoder(dictionary: SavDictionary, wantedSlots: Uint8Array, visit: CaseVisitor): CaseDecoder {
  return dictionary.compression === "none" ? new PlainCases(dictionary.slotsPerCase, visit) : new BytecodeCases(dictionary, wantedSlots, visit);
}

const EMPTY: Buffer = Buffer.alloc(0);

/** What is left of a piece, copied so that the piece itself can go. */
function leftOver(data: Buffer, position: number): Buffer {
  return position === data.length ? EMPTY : Buffer.from(data.subarray(position));
}

class PlainCases implements CaseDecoder {
  private carry: Buffer = EMPTY;
  private cases = 0;
  private readonly caseBytes: number;
  private readonly visit: CaseVisitor;

  constructor(slotsPerCase: number, visit: CaseVisitor) {
    this.caseBytes = slotsPerCase * 8;
    this.visit = visit;
  }

  push(bytes: Buffer): void {
    if (this.caseBytes === 0) return;
    let position = 0;
    if (this.carry.length !== 0) {
      // Completes the case begun in the last piece (without copying the whole of this one).
      position = Math.min(this.caseBytes - this.carry.length, bytes.length);
      this.carry = Buffer.concat([this.carry, bytes.subarray(0, position)]);
      if (this.carry.length < this.caseBytes) return;
      this.visit(this.carry, 0);
      this.cases += 1;
    }
    for (; position + this.caseBytes <= bytes.length; position += this.caseBytes) {
      this.visit(bytes, position);
      this.cases += 1;
    }
    this.carry = leftOver(bytes, position);
  }

  end(): number {
    if (this.carry.length !== 0) throw new SavFormatError(`the data ends in the middle of case ${this.cases + 1} ${TRUNCATED}`);
    return this.cases;
  }
}

const SPACES = Buffer.alloc(8, 0x20);
const END_OF_DATA = 252;
const RAW_SLOT = 253;
const ALL_SPACES = 254;
const SYSTEM_MISSING = 255;
/** 8 commands, each announcing a raw 8-byte slot. */
const LARGEST_BLOCK = 8 + 8 * 8;

/** Bytecode compression: code 0 is padding, 1-251 the number code − bias, 252 the end. */
class BytecodeCases implements CaseDecoder {
  private carry: Buffer = EMPTY;
  private cases = 0;
  /** The next slot of the case being decoded. */
  private slot = 0;
  /** Set by code 252: whatever follows is not data. */
  private ended = false;
  private readonly slots: Buffer;
  private readonly slotsPerCase: number;
  private readonly bias: number;
  private readonly sysmis: number;
  private readonly littleEndian: boolean;
  private readonly wantedSlots: Uint8Array;
  private readonly visit: CaseVisitor;

  constructor(dictionary: SavDictionary, wantedSlots: Uint8Array, visit: CaseVisitor) {
    this.slotsPerCase = dictionary.slotsPerCase;
    this.slots = Buffer.alloc(this.slotsPerCase * 8);
    this.bias = dictionary.bias;
    this.sysmis = dictionary.sysmis;
    this.littleEndian = dictionary.littleEndian;
    this.wantedSlots = wantedSlots;
    this.visit = visit;
    if (this.slotsPerCase === 0) this.ended = true;
  }

  push(bytes: Buffer): void {
    if (this.ended) return;
    let start = 0;
    if (this.carry.length !== 0) {
      // The block begun in the last piece, completed from the start of this one (without copying the whole of it).
      const head = Buffer.concat([this.carry, bytes.subarray(0, LARGEST_BLOCK)]);
      const used = this.decodeBlocks(head, 0);
      if (used < this.carry.length) {
        // Only when this piece is shorter than a block, and so wholly in `head`.
        this.carry = this.ended ? EMPTY : leftOver(head, used);
        return;
      }
      start = used - this.carry.length;
    }
    this.carry = this.ended ? EMPTY : leftOver(bytes, this.decodeBlocks(bytes, start));
  }

  end(): number {
    if (!this.ended) {
      // A block whose raw slots never came: decoding it names the case they belonged to.
      if (this.carry.length >= 8) this.decodeBlock(this.carry, 0);
      if (!this.ended && this.carry.length !== 0) {
        throw new SavFormatError(`the data ends in the middle of a block of compression codes, in case ${this.cases + 1} ${TRUNCATED}`);
      }
    }
    if (this.slot !== 0) throw new SavFormatError(`the data ends in the middle of case ${this.cases + 1} ${TRUNCATED}`);
    return this.cases;
  }

  /** Decodes the whole blocks (8 commands and every raw slot they announce) from `position`; returns where the rest begins. */
  private decodeBlocks(data: Buffer, position: number): number {
    while (!this.ended && position + 8 <= data.length && position + blockBytes(data, position) <= data.length) {
      position = this.decodeBlock(data, position);
    }
    return position;
  }

  /** Decodes the block of commands at `commands`; returns where the next block begins. */
  private decodeBlock(data: Buffer, commands: number): number {
    const { slots, wantedSlots, littleEndian } = this;
    let position = commands + 8;
    for (let i = 0; i < 8; i++) {
      const code = data[commands + i]!;
      if (code === 0) continue;
      if (code === END_OF_DATA) {
        this.ended = true;
        return data.length;
      }
      const offset = this.slot * 8;
      const wanted = wantedSlots[this.slot] === 1;
      if (code === RAW_SLOT) {
        if (position + 8 > data.length) throw new SavFormatError(`the data ends in the middle of case ${this.cases + 1} ${TRUNCATED}`);
        if (wanted) data.copy(slots, offset, position, position + 8);
        position += 8;
      } else if (wanted) {
        if (code === ALL_SPACES) SPACES.copy(slots, offset);
        else {
          const value = code === SYSTEM_MISSING ? this.sysmis : code - this.bias;
          if (littleEndian) slots.writeDoubleLE(value, offset);
          else slots.writeDoubleBE(value, offset);
        }
      }
      this.slot += 1;
      if (this.slot === this.slotsPerCase) {
        this.visit(slots, 0);
        this.cases += 1;
        this.slot = 0;
      }
    }
    return position;
  }
}

/** The bytes of the block at `commands`: its 8 commands and the raw slots announced before any end code. */
function blockBytes(data: Buffer, commands: number): number {
  let bytes = 8;
  for (let i = 0; i < 8; i++) {
    const code = data[commands + i]!;
    if (code === END_OF_DATA) break;
    if (code === RAW_SLOT) bytes += 8;
  }
  return bytes;
}
