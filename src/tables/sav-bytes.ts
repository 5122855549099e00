/**
 * Byte-level reading of SPSS system files: a cursor that knows the file's
 * byte order and says, when the bytes run out, what it was reading (or, over
 * the head of a file, that more of it is needed).
 */

/** A structural fault of an SPSS file, in words for the user; readSav adds the file name. */
export class SavFormatError extends Error {}

export const TRUNCATED = "(truncated or incompletely copied?)";

/**
 * Thrown by a cursor over the head of a file when it reads past it: the
 * reader reads more of the file and starts again. Never reaches the user.
 */
export class MoreBytesNeeded extends Error {}

export class ByteCursor {
  position = 0;
  littleEndian = true;
  readonly bytes: Buffer;
  /** Whether `bytes` runs to the end of the file, or is only its head (reading past it asks for more). */
  readonly whole: boolean;
  /** Where `bytes` begins in the file: messages give positions in the file. */
  readonly base: number;
  constructor(bytes: Buffer, whole = true, base = 0) {
    this.bytes = bytes;
    this.whole = whole;
    this.base = base;
  }

  /** Asks for more of the file unless `count` more bytes are here or the file has no more. */
  ensure(count: number): void {
    if (!this.whole && this.position + count > this.bytes.length) throw new MoreBytesNeeded();
  }

  /** Throws unless `count` more bytes exist, naming `what` was being read. */
  need(count: number, what: string): void {
    if (count < 0) throw new SavFormatError(`${what} at byte ${this.base + this.position} has a negative length (${count}): the file is damaged`);
    this.ensure(count);
    if (this.position + count > this.bytes.length) {
      throw new SavFormatError(`the file ends early, inside ${what} at byte ${this.base + this.position} ${TRUNCATED}`);
    }
  }

  take(count: number, what: string): Buffer {
    this.need(count, what);
    const slice = this.bytes.subarray(this.position, this.position + count);
    this.position += count;
    return slice;
  }

  int32(what: string): number {
    this.need(4, what);
    const value = this.littleEndian ? this.bytes.readInt32LE(this.position) : this.bytes.readInt32BE(this.position);
    this.position += 4;
    return value;
  }

  /** A 64-bit integer that must fit a double exactly (file offsets and sizes). */
  int64(what: string): number {
    this.need(8, what);
    const value = this.littleEndian ? this.bytes.readBigInt64LE(this.position) : this.bytes.readBigInt64BE(this.position);
    this.position += 8;
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new SavFormatError(`${what} holds an impossible size or offset (${value})`);
    }
    return Number(value);
  }

  float64(what: string): number {
    this.need(8, what);
    const value = readDouble(this.bytes, this.position, this.littleEndian);
    this.position += 8;
    return value;
  }
}

export function readDouble(bytes: Buffer, offset: number, littleEndian: boolean): number {
  return littleEndian ? bytes.readDoubleLE(offset) : bytes.readDoubleBE(offset);
}
