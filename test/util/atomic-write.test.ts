/**
 * Atomic outputs: a set of files appears together or not at all, and the
 * temporaries a killed writer left behind are cleared by the next write.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SiliconError, UsageError } from "../../src/errors.ts";
import { makeFolder, OutputSet, removeOrphanedTemporaries, writeError, writeFileAtomic } from "../../src/util/atomic-write.ts";
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

describe("paths that cannot be written", () => {
  it("are one-line usage errors naming the path, before anything is written", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "file"), "x");
    const attempts: [() => unknown, string][] = [
      [() => writeFileAtomic(join(dir, "file", "out.csv"), "a"), `cannot write ${join(dir, "file", "out.csv")}: part of the path is a file, not a folder`],
      [() => writeFileAtomic(dir, "a"), `cannot write ${dir}: it is a folder; give a file name`],
      [() => makeFolder(join(dir, "file", "sub")), `cannot write ${join(dir, "file", "sub")}: part of the path is a file, not a folder`],
    ];
    for (const [attempt, message] of attempts) {
      const error = (() => {
        try {
          attempt();
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toBe(message);
      expect((error as UsageError).exitCode).toBe(2);
    }
    await expect(
      OutputSet.write((out) => {
        out.stage(join(dir, "ok.csv"), "a\n");
        out.stage(dir, "b\n");
      }),
    ).rejects.toThrow(`cannot write ${dir}: it is a folder; give a file name`);
    expect(readdirSync(dir).sort()).toEqual(["file"]);
  });

  it("a full disk or an unknown failure is exit 1 with the path, never an internal error", () => {
    const full = writeError("out.csv", Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }));
    expect(full).toBeInstanceOf(SiliconError);
    expect(full).not.toBeInstanceOf(UsageError);
    expect(full.message).toBe("cannot write out.csv: no space left on the device");
    expect(writeError("out.csv", new Error("EIO: i/o error")).message).toBe("cannot write out.csv: EIO: i/o error");
  });
});
