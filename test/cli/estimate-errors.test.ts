/**
 * Bad input to `silicon estimate --real --synthetic`: one line naming file,
 * row and column, exit status 2, and no output file.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixtureDir } from "../helpers/r-survey-fixture.ts";
import { runCli } from "../helpers/run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "silicon-estimate-errors-"));
const realLines = readFileSync(join(fixtureDir, "respondents.csv"), "utf8").trimEnd().split("\n");
const synLines = readFileSync(join(fixtureDir, "synthetic.csv"), "utf8").trimEnd().split("\n");
let counter = 0;

/** Writes variants of the fixture files; `edit` gets the lines (header = line 1 = index 0). */
function files(editReal: (lines: string[]) => void = () => {}, editSyn: (lines: string[]) => void = () => {}) {
  const n = ++counter;
  const real = [...realLines];
  const syn = [...synLines];
  editReal(real);
  editSyn(syn);
  const paths = { real: join(dir, `real-${n}.csv`), syn: join(dir, `syn-${n}.csv`), out: join(dir, `tasks-${n}.csv`) };
  writeFileSync(paths.real, real.join("\n") + "\n");
  writeFileSync(paths.syn, syn.join("\n") + "\n");
  return paths;
}

function args(paths: { real: string; syn: string; out: string }, ...extra: string[]): string[] {
  return ["estimate", "--real", paths.real, "--synthetic", paths.syn, "--id", "id", "--weight", "weight", "--items", "therm,approve",
    "--by", "party", "--generation", "generation", "--out", paths.out, ...extra];
}

async function expectInputError(paths: { real: string; syn: string; out: string }, message: string, extra: string[] = []) {
  const run = await runCli(args(paths, ...extra));
  expect(run.code).toBe(2);
  expect(run.stderr.endsWith("\n")).toBe(true);
  expect(run.stderr.trimEnd().split("\n"), run.stderr).toHaveLength(1);
  expect(run.stderr.trimEnd()).toBe(`silicon: ${message}`);
  expect(existsSync(paths.out)).toBe(false);
  expect(run.stdout).toBe("");
}

/** Replaces field `column` (0-based) of CSV line `line` (1-based, header = 1). */
function setField(lines: string[], line: number, column: number, value: string): void {
  const fields = lines[line - 1]!.split(",");
  fields[column] = value;
  lines[line - 1] = fields.join(",");
}

describe("ids in SYN that REAL lacks", () => {
  const addStrangers = (syn: string[]) => {
    syn.splice(10, 0, `"x901",1,50,1`, `"x901",2,55,1`, `"x902",1,40,0`);
    syn.push(`"x903",1,20,0`, `"x904",1,20,0`, `"x905",1,20,0`, `"x906",1,20,0`);
  };

  it("fails with the count, the first few ids and the first row", async () => {
    const paths = files(undefined, addStrangers);
    await expectInputError(
      paths,
      `${paths.syn}: row 10 (line 11), column "id": 6 ids match no respondent of ${paths.real} (14 answers): x901, x902, x903, x904, x905, …; check the id column, or pass --allow-unmatched to skip them`,
    );
  });

  it("skips them with --allow-unmatched, saying so, and estimates as without them", async () => {
    const clean = files();
    const paths = files(undefined, addStrangers);
    const skipped = await runCli(args(paths, "--allow-unmatched"));
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stderr).toContain(`silicon: skipped 14 synthetic answers of 6 ids that match no respondent of ${paths.real}: x901, x902, x903, x904, x905, …\n`);
    expect((await runCli(args(clean))).code).toBe(0);
    expect(readFileSync(paths.out, "utf8")).toBe(readFileSync(clean.out, "utf8"));
  });
});

describe("malformed input", () => {
  it("a missing subgroup column", async () => {
    const paths = files();
    const run = await runCli(args(paths, "--by", "education"));
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `silicon: ${paths.real}: field "education": missing subgroup column (--by); neither ${paths.real} nor ${paths.syn} has it; ${paths.real} has: id, party, region, weight, therm, approve\n`,
    );
    expect(existsSync(paths.out)).toBe(false);
  });

  it("a missing item column in SYN", async () => {
    const paths = files(undefined, (syn) => (syn[0] = `"id","generation","therm","approval"`));
    await expectInputError(paths, `${paths.syn}: field "approve": missing column (an item, --items); the file has: id, generation, therm, approval`);
  });

  it("a missing weight column", async () => {
    const paths = files((real) => (real[0] = real[0]!.replace(`"weight"`, `"wt"`)));
    await expectInputError(paths, `${paths.real}: field "weight": missing column (weights, --weight); the file has: id, party, region, wt, therm, approve`);
  });

  it("a non-numeric answer in a numeric item (SYN)", async () => {
    const paths = files(undefined, (syn) => setField(syn, 8, 2, "warm"));
    await expectInputError(paths, `${paths.syn}: row 7 (line 8), column "therm": expected a number (an answer to item "therm"), got "warm"; if it is a choice item with text answers, pass --per-option therm`);
  });

  it("a non-numeric answer in a numeric item (REAL)", async () => {
    const paths = files((real) => setField(real, 41, 5, "yes"));
    await expectInputError(paths, `${paths.real}: row 40 (line 41), column "approve": expected a number (an answer to item "approve"), got "yes"; if it is a choice item with text answers, pass --per-option approve`);
  });

  it("a negative weight", async () => {
    const paths = files((real) => setField(real, 6, 3, "-0.5"));
    await expectInputError(paths, `${paths.real}: row 5 (line 6), column "weight": expected a non-negative weight, got "-0.5"`);
  });

  it("a missing weight", async () => {
    const paths = files((real) => setField(real, 12, 3, ""));
    await expectInputError(paths, `${paths.real}: row 11 (line 12), column "weight": missing value: expected a non-negative weight`);
  });

  it("a duplicate respondent id in REAL", async () => {
    const paths = files((real) => setField(real, 4, 0, `"r00001"`));
    await expectInputError(paths, `${paths.real}: row 3 (line 4), column "id": duplicate respondent id "r00001" (first on row 1); ids must be unique`);
  });

  it("two answers of one respondent in one generation", async () => {
    const paths = files(undefined, (syn) => setField(syn, 3, 1, "1"));
    await expectInputError(paths, `${paths.syn}: row 2 (line 3), column "generation": respondent "r00001" answers item "therm" twice in this generation (first on row 1); each generation must be one answer`);
  });

  it("a target wave without waves, and no items at all, are usage errors", async () => {
    const paths = files();
    const noGroup = await runCli(args(paths, "--role-of-target", "2024"));
    expect([noGroup.code, noGroup.stderr]).toEqual([2, "silicon: --role-of-target needs --group, the wave column\n"]);
    const noItems = await runCli(["estimate", "--real", paths.real, "--synthetic", paths.syn, "--id", "id", "--out", paths.out]);
    expect(noItems.code).toBe(2);
    expect(noItems.stderr).toContain("--items a,b,c");
    expect(existsSync(paths.out)).toBe(false);
  });

  it("leaves an existing output file untouched on error", async () => {
    const paths = files(undefined, (syn) => setField(syn, 8, 2, "warm"));
    writeFileSync(paths.out, "previous\n");
    expect((await runCli(args(paths))).code).toBe(2);
    expect(readFileSync(paths.out, "utf8")).toBe("previous\n");
  });
});
