/**
 * Atomic outputs: a set of files appears together or not at all, and the
 * temporaries a killed writer left behind are cleared by the next write.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OutputSet, removeOrphanedTemporaries, writeFileAtomic } from "../../src/util/atomic-write.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir("silicon-atomic-");

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
}

describe("OutputSet", () => {
  it("commits every staged file on success and none on failure", async () => {
    const dir = tempDir();
    await OutputSet.write((out) => {
      out.stage(join(dir, "a.csv"), "a\n");
      out.stage(join(dir, "b.csv"), "b\n");
    });
    expect(readdirSync(dir).sort()).toEqual(["a.csv", "b.csv"]);
    await expect(
      OutputSet.write((out) => {
        out.stage(join(dir, "a.csv"), "changed\n");
        throw new Error("bad row");
      }),
    ).rejects.toThrow("bad row");
    expect(readdirSync(dir).sort()).toEqual(["a.csv", "b.csv"]);
    expect(readFileSync(join(dir, "a.csv"), "utf8")).toBe("a\n");
  });
});

describe("temporaries of a killed writer", () => {
  it("are removed by the next write of the same file; a live writer's and other files' are kept", () => {
    const dir = tempDir();
    const dead = deadPid();
    const orphan = `.responses.csv.${dead}.0a1b2c3d.tmp`;
    const live = `.responses.csv.${process.ppid}.0a1b2c3d.tmp`;
    const otherFile = `.tasks.csv.${dead}.0a1b2c3d.tmp`;
    for (const name of [orphan, live, otherFile, "notes.txt"]) writeFileSync(join(dir, name), "x");
    writeFileAtomic(join(dir, "responses.csv"), "id\n");
    expect(existsSync(join(dir, orphan))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual([live, otherFile, "notes.txt", "responses.csv"].sort());
    removeOrphanedTemporaries(join(dir, "tasks.csv"));
    expect(existsSync(join(dir, otherFile))).toBe(false);
  });

  it("does nothing for a folder that does not exist yet", () => {
    expect(() => removeOrphanedTemporaries(join(tempDir(), "missing", "x.csv"))).not.toThrow();
  });
});
