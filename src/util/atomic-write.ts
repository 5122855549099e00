import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, basename } from "node:path";
import { randomBytes } from "node:crypto";
import { SiliconError, UsageError } from "../errors.ts";
import { crashPoint } from "./crash-points.ts";

/**
 * Writes a file so that readers see either the old content or the new, never
 * a half-written file: write a sibling temporary file, then rename over.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  prepareFolder(path);
  removeOrphanedTemporaries(path);
  const tmp = temporarySibling(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw writeError(path, error);
  }
}

/**
 * A file-system failure while writing `path`, as one line: a path the user
 * gave that cannot be written (a folder, a file in the way, no permission)
 * is a usage error (exit 2); a full disk or anything else, exit 1. Never an
 * "internal error" with a stack trace.
 */
export function writeError(path: string, error: unknown): SiliconError {
  if (error instanceof SiliconError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const reason: Record<string, string> = {
    EISDIR: "it is a folder; give a file name",
    ENOTDIR: "part of the path is a file, not a folder",
    EEXIST: "part of the path is a file, not a folder",
    EACCES: "permission denied",
    EPERM: "permission denied",
    EROFS: "the file system is read-only",
    ENAMETOOLONG: "the name is too long",
    ENOENT: "that path cannot be created",
  };
  if (code !== undefined && reason[code] !== undefined) return new UsageError(`cannot write ${path}: ${reason[code]}`, { cause: error });
  if (code === "ENOSPC" || code === "EDQUOT") return new SiliconError(`cannot write ${path}: no space left on the device`, { cause: error });
  return new SiliconError(`cannot write ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

/** Creates the folder `path` goes in, and refuses a `path` that is a folder, before anything is written. */
function prepareFolder(path: string): void {
  if (path.trim() === "") throw new UsageError("cannot write an empty file name: give a file name (or - for the standard output)");
  try {
    mkdirSync(dirname(path), { recursive: true });
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
  } catch (error) {
    throw writeError(path, error);
  }
}

/** Creates the folder `dir` (and its parents), or says in one line why it cannot. */
export function makeFolder(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw writeError(dir, error);
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
    prepareFolder(path);
    removeOrphanedTemporaries(path);
    const tmp = temporarySibling(path);
    try {
      writeFileSync(tmp, data);
    } catch (error) {
      rmSync(tmp, { force: true });
      throw writeError(path, error);
    }
    this.staged.push({ tmp, path });
  }

  /** Paths staged so far, in order. */
  get paths(): string[] {
    return this.staged.map((s) => s.path);
  }

  commit(): void {
    for (const { tmp, path } of this.staged) {
      try {
        renameSync(tmp, path);
      } catch (error) {
        throw writeError(path, error);
      }
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
