/** Where a command's table goes: it is built only when --out asks for it. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tableOutput } from "../../../src/cli/actions/table-output.ts";
import { OutputSet } from "../../../src/util/atomic-write.ts";
import { useTempDir } from "../../helpers/tmp.ts";

const tempDir = useTempDir("silicon-table-output-");

function recordingIo() {
  const written = { stdout: "", stderr: "" };
  return { written, io: { stdout: (text: string) => void (written.stdout += text), stderr: (text: string) => void (written.stderr += text) } };
}

describe("tableOutput", () => {
  it("never builds the table without --out", async () => {
    const { io, written } = recordingIo();
    let built = 0;
    await OutputSet.write((set) => tableOutput(undefined, io).emit(set, () => (built++, "a\n1\n")));
    expect(built).toBe(0);
    expect(written).toEqual({ stdout: "", stderr: "" });
  });

  it("builds it once for a file, once for standard output", async () => {
    const { io, written } = recordingIo();
    const path = join(tempDir(), "out.csv");
    let built = 0;
    await OutputSet.write((set) => tableOutput(path, io).emit(set, () => (built++, "a\n1\n")));
    await OutputSet.write((set) => tableOutput("-", io).emit(set, () => (built++, "b\n2\n")));
    expect(built).toBe(2);
    expect(readFileSync(path, "utf8")).toBe("a\n1\n");
    expect(written.stdout).toBe("b\n2\n");
  });
});
