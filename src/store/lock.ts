/**
 * One writer per study store. The lock is an exclusive transaction held on a
 * small side database (`store.lock`) for as long as the writer runs: SQLite's
 * file locks belong to the process, so the kernel drops them when the process
 * dies, even by SIGKILL, and there is never a stale lock to clean up. Who holds
 * it is written beside it (`store.lock.json`) for the message a second process
 * shows while it waits or refuses.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { DatabaseSync } from "./sqlite.ts";
import { StoreError } from "../errors.ts";
import { crashPoint } from "../util/crash-points.ts";

const SQLITE_BUSY = 5;

/**
 * A writer takes the lock, then writes who it is. A second process that finds
 * the lock busy in between would name "another silicon process"; it gives the
 * holder this long to write its name first (a holder that never does is an
 * older silicon, or gone: the kernel frees a dead holder's lock).
 */
const HOLDER_GRACE_MS = 3_000;
const HOLDER_POLL_MS = 20;

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
}

export interface StoreLock {
  release(): void;
}

export interface AcquireOptions {
  /** How long to wait for another writer to finish; 0 refuses at once. */
  waitMs?: number;
  /** Polling interval while waiting. */
  pollMs?: number;
  /** Told once when the lock is busy and we start waiting. */
  onWait?: (holder: LockHolder | undefined) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  command?: string;
}

/** Takes the writer lock of the store at `storePath`, waiting up to `waitMs`. */
export async function acquireStoreLock(storePath: string, options: AcquireOptions = {}): Promise<StoreLock> {
  const lockPath = `${storePath}.lock`;
  const infoPath = `${storePath}.lock.json`;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = now() + (options.waitMs ?? 0);
  let told = false;
  let lookedAgain = false;
  for (;;) {
    const db = new DatabaseSync(lockPath, { timeout: 0 });
    try {
      db.exec("BEGIN EXCLUSIVE");
    } catch (error) {
      db.close();
      if ((error as { errcode?: number }).errcode !== SQLITE_BUSY) {
        throw new StoreError(`${lockPath}: cannot lock the store: ${(error as Error).message}`, { cause: error });
      }
      const holder = readHolder(infoPath) ?? (lookedAgain ? undefined : await awaitHolder(infoPath, now, sleep));
      // No name after the grace period: the holder may have finished meanwhile, so try the lock once more.
      if (holder === undefined && !lookedAgain) {
        lookedAgain = true;
        continue;
      }
      if (now() >= deadline) throw busy(storePath, holder, options.waitMs ?? 0);
      if (!told) options.onWait?.(holder);
      told = true;
      await sleep(Math.min(options.pollMs ?? 500, Math.max(1, deadline - now())));
      continue;
    }
    crashPoint("lock-taken");
    const holder: LockHolder = {
      pid: process.pid,
      host: hostname(),
      startedAt: new Date(now()).toISOString(),
      command: options.command ?? "silicon generate",
    };
    // Written whole, then renamed into place: a reader never sees half of it.
    writeFileSync(`${infoPath}.${process.pid}`, JSON.stringify(holder) + "\n");
    renameSync(`${infoPath}.${process.pid}`, infoPath);
    let released = false;
    return {
      release() {
        if (released) return;
        released = true;
        rmSync(infoPath, { force: true });
        db.exec("ROLLBACK");
        db.close();
      },
    };
  }
}

/** The holder, once it has written its name (within HOLDER_GRACE_MS), else undefined. */
async function awaitHolder(infoPath: string, now: () => number, sleep: (ms: number) => Promise<void>): Promise<LockHolder | undefined> {
  const until = now() + HOLDER_GRACE_MS;
  while (now() < until) {
    await sleep(HOLDER_POLL_MS);
    const holder = readHolder(infoPath);
    if (holder !== undefined) return holder;
  }
  return undefined;
}

function readHolder(infoPath: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(infoPath, "utf8")) as LockHolder;
  } catch {
    return undefined;
  }
}

export function describeHolder(holder: LockHolder | undefined): string {
  if (holder === undefined) return "another silicon process";
  return `${holder.command} (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt})`;
}

function busy(storePath: string, holder: LockHolder | undefined, waitedMs: number): StoreError {
  const waited = waitedMs > 0 ? ` after waiting ${Math.round(waitedMs / 1000)} s` : "";
  return new StoreError(
    `${storePath} is in use by ${describeHolder(holder)}${waited}; ` +
      "wait for it to finish (or stop it), or pass --wait to queue behind it",
  );
}
