/**
 * The data of a .zsav: a zlib header, blocks of zlib-compressed bytecode, and
 * a trailer indexing them. Each block is read from the file a chunk at a time
 * and inflated as it is read, so neither a whole block nor the whole data is
 * ever in memory.
 */
import { Readable, pipeline } from "node:stream";
import { createInflate } from "node:zlib";
import { ByteCursor, SavFormatError, TRUNCATED } from "./sav-bytes.ts";
import type { SavDictionary } from "./sav-dictionary.ts";
import { fileChunks, readAt } from "./sav-file.ts";

interface ZlibBlock {
  compressedOffset: number;
  compressedSize: number;
  uncompressedSize: number;
}

/** zlib refuses output buffers smaller than this. */
const SMALLEST_OUTPUT = 64;
/**
 * Compressed and inflated pieces are at most this long: each is a fresh
 * buffer (zlib works on them after the read moves on), and pieces of a
 * megabyte would pile up as garbage faster than the collector runs.
 */
const LARGEST_PIECE = 64 * 1024;

/** The bytecode stream of a .zsav, its blocks (found through the trailer) inflated in order, a piece at a time. */
export async function* inflatedData(file: number, dictionary: SavDictionary, size: number, chunkBytes: number): AsyncGenerator<Buffer> {
  const cursor = cursorAt(file, dictionary, dictionary.dataOffset, 24);
  const headerOffset = cursor.int64("the zlib header");
  const trailerOffset = cursor.int64("the zlib header");
  const trailerLength = cursor.int64("the zlib header");
  if (headerOffset !== dictionary.dataOffset) throw new SavFormatError(`the zlib header is damaged (it says it is at byte ${headerOffset}, not ${dictionary.dataOffset})`);
  if (trailerOffset + trailerLength > size || trailerOffset < dictionary.dataOffset + 24) {
    throw new SavFormatError(`the file ends early: its zlib trailer should be at bytes ${trailerOffset}-${trailerOffset + trailerLength} but the file has ${size} ${TRUNCATED}`);
  }
  const head = cursorAt(file, dictionary, trailerOffset, 24);
  head.position = 20;
  const blockCount = head.int32("the zlib trailer");
  if (trailerLength !== 24 + 24 * blockCount) throw new SavFormatError(`the zlib trailer is damaged (${blockCount} blocks in ${trailerLength} bytes)`);
  const entries = cursorAt(file, dictionary, trailerOffset + 24, 24 * blockCount);
  for (let block = 1; block <= blockCount; block++) {
    entries.int64("the zlib trailer"); // offset in the uncompressed stream: implied by the order
    const compressedOffset = entries.int64("the zlib trailer");
    const uncompressedSize = entries.int32("the zlib trailer");
    const compressedSize = entries.int32("the zlib trailer");
    if (compressedOffset < dictionary.dataOffset + 24 || compressedSize < 0 || compressedOffset + compressedSize > trailerOffset) {
      throw new SavFormatError(`the zlib trailer is damaged: block ${block} of ${blockCount} lies outside the data`);
    }
    yield* inflateBlock(file, { compressedOffset, compressedSize, uncompressedSize }, chunkBytes, `${block} of ${blockCount}`);
  }
}

/** A cursor over `length` bytes of the file from `position`, fewer where the file ends. */
function cursorAt(file: number, dictionary: SavDictionary, position: number, length: number): ByteCursor {
  const cursor = new ByteCursor(readAt(file, position, length), true, position);
  cursor.littleEndian = dictionary.littleEndian;
  return cursor;
}

async function* inflateBlock(file: number, block: ZlibBlock, chunkBytes: number, which: string): AsyncGenerator<Buffer> {
  const inflate = createInflate({ chunkSize: Math.max(SMALLEST_OUTPUT, Math.min(chunkBytes, LARGEST_PIECE)) });
  const compressed = Readable.from(fileChunks(file, block.compressedOffset, block.compressedOffset + block.compressedSize, Math.min(chunkBytes, LARGEST_PIECE)));
  // Errors arrive through `inflate`, which the pipeline destroys with them.
  pipeline(compressed, inflate, () => {});
  let inflated = 0;
  try {
    for await (const bytes of inflate as AsyncIterable<Buffer>) {
      inflated += bytes.length;
      yield bytes;
    }
  } catch (error) {
    if (isZlibError(error)) throw new SavFormatError(`zlib block ${which} is damaged (${error.message})`);
    throw error;
  }
  if (inflated !== block.uncompressedSize) {
    throw new SavFormatError(`zlib block ${which} inflates to ${inflated} bytes, not the ${block.uncompressedSize} its trailer says`);
  }
}

/** zlib's own complaints (Z_DATA_ERROR, Z_BUF_ERROR, …), as opposed to a failure to read the file. */
function isZlibError(error: unknown): error is Error {
  const code = error instanceof Error ? (error as Error & { code?: unknown }).code : undefined;
  return typeof code === "string" && code.startsWith("Z_");
}
