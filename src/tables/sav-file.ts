/**
 * Reading an SPSS file in pieces: its dictionary from a head that grows until
 * the dictionary fits, then its data a chunk at a time, so that memory holds
 * one chunk, never the file.
 */
import { readSync } from "node:fs";
import { MoreBytesNeeded } from "./sav-bytes.ts";
import { readDictionary, type SavDictionary } from "./sav-dictionary.ts";

/**
 * The file's bytes from `position`, `length` of them or fewer where the file
 * ends. Read synchronously: a chunk is read in about a millisecond, and a
 * round trip through libuv's thread pool per chunk would cost more than that
 * at small chunk sizes.
 */
export function readAt(file: number, position: number, length: number): Buffer {
  return readInto(file, Buffer.allocUnsafe(Math.max(0, length)), position);
}

/** Fills `buffer` from the file at `position`; returns the part filled (less where the file ends). */
function readInto(file: number, buffer: Buffer, position: number): Buffer {
  let filled = 0;
  while (filled < buffer.length) {
    const bytesRead = readSync(file, buffer, filled, buffer.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/** The dictionary, read from the first `firstBytes` of the file, then twice as many, … until it fits. */
export function readDictionaryOf(file: number, size: number, firstBytes: number): SavDictionary {
  let length = Math.min(size, Math.max(firstBytes, 1));
  for (;;) {
    const head = readAt(file, 0, length);
    try {
      return readDictionary(head, head.length < length || length >= size);
    } catch (error) {
      if (!(error instanceof MoreBytesNeeded)) throw error;
      length = Math.min(size, length * 2);
    }
  }
}

/**
 * The bytes from `start` to `end`, `chunkBytes` at a time. Each chunk is a
 * fresh buffer its reader may keep, unless `reuse`: then every chunk is read
 * into the same buffer, which a reader that decodes each chunk before asking
 * for the next can take, so that reading the file leaves no garbage behind
 * (a megabyte a read would otherwise pile up faster than the collector runs).
 */
export function* fileChunks(file: number, start: number, end: number, chunkBytes: number, reuse = false): Generator<Buffer> {
  const shared = reuse ? Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(0, end - start))) : undefined;
  for (let position = start; position < end; ) {
    const length = Math.min(chunkBytes, end - position);
    const chunk = shared === undefined ? readAt(file, position, length) : readInto(file, shared.subarray(0, length), position);
    if (chunk.length === 0) return;
    position += chunk.length;
    yield chunk;
  }
}
