/**
 * The writer lock's message names its holder. A writer takes the lock and
 * then writes its name beside it, so a second process can find the lock taken
 * before the name is there; it must not then say "another silicon process"
 * (two `silicon generate` started at the same moment did, now and then).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { acquireStoreLock } from "../../src/store/lock.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir("silicon-lock-");

/** Holds the lock as a writer does, but without its name written yet. */
function holdWithoutName(storePath: string): DatabaseSync {
  const db = new DatabaseSync(`${storePath}.lock`);
  db.exec("BEGIN EXCLUSIVE");
  return db;
}

const HOLDER = { pid: 424242, host: "elsewhere", startedAt: "2026-01-01T00:00:00.000Z", command: "silicon run" };

describe("the store's writer lock", () => {
  it("names a holder that writes its name just after taking the lock", async () => {
    const storePath = join(tempDir(), "store.sqlite");
    const held = holdWithoutName(storePath);
    setTimeout(() => writeFileSync(`${storePath}.lock.json`, JSON.stringify(HOLDER)), 100);
    await expect(acquireStoreLock(storePath)).rejects.toThrow(/is in use by silicon run \(pid 424242 on elsewhere, since 2026-01-01T00:00:00\.000Z\); wait/);
    held.close();
  });

  it("says 'another silicon process' only after the holder had its grace period to write its name", async () => {
    const storePath = join(tempDir(), "store.sqlite");
    const held = holdWithoutName(storePath);
    let clock = 0;
    const slept: number[] = [];
    const attempt = acquireStoreLock(storePath, {
      now: () => clock,
      sleep: async (ms) => {
        slept.push(ms);
        clock += ms;
      },
    });
    await expect(attempt).rejects.toThrow(/is in use by another silicon process; wait/);
    // One 3 s grace period, then the lock is tried once more before refusing.
    expect(slept.reduce((a, b) => a + b, 0)).toBe(3_000);
    held.close();
  });

  it("takes the lock when its holder finished while it waited for the holder's name", async () => {
    const storePath = join(tempDir(), "store.sqlite");
    const held = holdWithoutName(storePath);
    let clock = 0;
    const lock = await acquireStoreLock(storePath, {
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
        if (clock >= 1_000 && held.isOpen) held.close();
      },
    });
    lock.release();
  });
});
