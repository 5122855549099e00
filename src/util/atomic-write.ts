import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, basename } from "node:path";
import { randomBytes } from "node:crypto";

/**
 * Writes a file so that readers see either the old content or the new, never
 * a half-written file: write a sibling temporary file, then rename over.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = temporarySibling(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

function temporarySibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
}

/**
 * A set of output files that appear together or not at all. Commands stage
 * every output while they compute, and commit once nothing can fail any more;
 * on error, `discard` removes what was staged, so bad input leaves no output.
 */
export class OutputSet {
  private readonly staged: { tmp: string; path: string }[] = [];

  stage(path: string, data: string | Uint8Array): void {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = temporarySibling(path);
    writeFileSync(tmp, data);
    this.staged.push({ tmp, path });
  }

  /** Paths staged so far, in order. */
  get paths(): string[] {
    return this.staged.map((s) => s.path);
  }

  commit(): void {
    for (const { tmp, path } of this.staged) renameSync(tmp, path);
    this.staged.length = 0;
  }

  discard(): void {
    for (const { tmp } of this.staged) rmSync(tmp, { force: true });
    this.staged.length = 0;
  }

  /** Runs `build`, committing its staged files on success and discarding them on any error. */
  static async write<T>(build: (out: OutputSet) => Promise<T> | T): Promise<T> {
    const out = new OutputSet();
    try {
      const result = await build(out);
      out.commit();
      return result;
    } catch (error) {
      out.discard();
      throw error;
    }
  }
}
