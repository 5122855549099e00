/**
 * Every help text runs, and every file it names as part of silicon (docs,
 * examples, shipped studies, design documents) exists in the package.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, runCli } from "../helpers/cli.ts";

const COMMANDS = ["demo", "run", "generate", "estimate", "calibrate", "evaluate", "compare", "report"];

/** Paths into silicon's own folders, and documents named like DESIGN.md; not a user's files such as results/… or anes.sav. */
function siliconFiles(help: string): string[] {
  const inFolders = help.match(/\b(?:docs|examples|surveys|personas|scripts|src|bench)\/[\w./-]*\w/g) ?? [];
  const documents = help.match(/\b[A-Z][A-Z-]+(?:-[a-z]+)?\.md\b/g) ?? [];
  return [...new Set([...inFolders, ...documents])];
}

describe("help texts", () => {
  it("the file finder sees the files help texts have named", () => {
    expect(siliconFiles("see docs/scale.md and DESIGN.md, or SPEC-inference.md; not results/demo/study.yaml")).toEqual([
      "docs/scale.md",
      "DESIGN.md",
      "SPEC-inference.md",
    ]);
  });

  it.each(["", ...COMMANDS])("silicon %s --help names only files that exist", async (command) => {
    const { code, stdout } = await runCli([...(command === "" ? [] : [command]), "--help"], { cwd: REPO });
    expect(code).toBe(0);
    const missing = siliconFiles(stdout).filter((file) => !existsSync(join(REPO, file)));
    expect(missing).toEqual([]);
  });
});
