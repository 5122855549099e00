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
  const buffer = Buffer.allocUnsafe(Math.max(0, length));
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

/** The bytes from `start` to `end`, `chunkBytes` at a time (each a fresh buffer, which its reader may keep). */
export function* fileChunks(file: number, start: number, end: number, chunkBytes: number): Generator<Buffer> {
  for (let position = start; position < end; ) {
    const chunk = readAt(file, position, Math.min(chunkBytes, end - position));
    if (chunk.length === 0) return;
    position += chunk.length;
    yield chunk;
  }
}
