/**
 * Reads a text file as UTF-8, refusing bytes that are not: a Latin-1 "é"
 * silently decoded as "\uFFFD" would reach personas and prompts garbled.
 */
import { readFileSync } from "node:fs";
import { InputError } from "../errors.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });

export function readTextFile(path: string): string {
  const bytes = readFileSync(path);
  try {
    return decoder.decode(bytes);
  } catch {
    const line = firstInvalidLine(bytes);
    throw new InputError(
      { file: path, line },
      "the file is not UTF-8 text; save it as UTF-8 (e.g. from Excel: CSV UTF-8; from R: write.csv(..., fileEncoding = \"UTF-8\"))",
    );
  }
}

/** The line (1-based) holding the first byte sequence that is not UTF-8. */
function firstInvalidLine(bytes: Uint8Array): number {
  let line = 1;
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      try {
        decoder.decode(bytes.subarray(start, i));
      } catch {
        return line;
      }
      line += 1;
      start = i + 1;
    }
  }
  return line;
}
