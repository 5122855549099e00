import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, basename } from "node:path";
import { randomBytes } from "node:crypto";
import { crashPoint } from "./crash-points.ts";

/**
 * Writes a file so that readers see either the old content or the new, never
 * a half-written file: write a sibling temporary file, then rename over.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  removeOrphanedTemporaries(path);
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
 * Removes temporaries of `path` left by a process that died between writing
 * and renaming them (killed, power cut). A temporary names its writer's pid;
 * one whose writer is still alive is left alone.
 */
export function removeOrphanedTemporaries(path: string): void {
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const match = /^(\d+)\.[0-9a-f]{8}\.tmp$/.exec(name.slice(prefix.length));
    if (match === null || isAlive(Number(match[1]))) continue;
    rmSync(join(dirname(path), name), { force: true });
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
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
    removeOrphanedTemporaries(path);
    const tmp = temporarySibling(path);
    writeFileSync(tmp, data);
    this.staged.push({ tmp, path });
  }

  /** Paths staged so far, in order. */
  get paths(): string[] {
    return this.staged.map((s) => s.path);
  }

  commit(): void {
    for (const { tmp, path } of this.staged) {
      renameSync(tmp, path);
      crashPoint("output-rename");
    }
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
