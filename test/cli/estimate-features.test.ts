/**
 * `silicon estimate --real --synthetic` features beyond the acceptance run:
 * distribution answers, text categories, subgroup columns that sit in the
 * synthetic file, the table on standard output, and --help.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { weightedMean } from "../../src/inference/survey.ts";
import { fixtureDir } from "../helpers/r-survey-fixture.ts";
import { runCli } from "../helpers/run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "silicon-estimate-features-"));
type Row = Record<string, string>;

function write(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

describe("distribution answers and text categories", () => {
  const real = write("real.csv", ["id,w,vote,therm", "r1,1,Biden,60", "r2,2,Trump,20", "r3,1,Biden,"]);
  const syn = write("syn.csv", [
    "id,item,option,p",
    "r1,vote,Biden,0.7",
    "r1,vote,Trump,0.2",
    "r2,vote,Biden,0.1",
    "r2,vote,Trump,0.9",
    "r3,vote,Trump,0.5",
    "r3,vote,Biden,0.5",
    "r1,therm,,55",
    "r2,therm,,25",
    "r3,therm,,",
  ]);

  it("estimates per-option proportions from normalized probabilities, beside a plain numeric item", async () => {
    const run = await runCli(["estimate", "--real", real, "--synthetic", syn, "--id", "id", "--weight", "w", "--long", "item,p",
      "--distribution", "option", "--per-option", "vote", "--out", "-"]);
    expect(run.code, run.stderr).toBe(0);
    const rows: Row[] = parse(run.stdout, { columns: true });
    expect(rows.map((r) => `${r.task} ${r.coord}`)).toEqual(["vote|all Biden", "vote|all Trump", "therm|all "]);
    const weights = [1, 2, 1];
    const biden = weightedMean([0.7 / 0.9, 0.1, 0.5], weights);
    expect(Number(rows[0]!.syn_est)).toBeCloseTo(biden.estimate, 14);
    expect(Number(rows[0]!.syn_se)).toBeCloseTo(biden.se, 14);
    const realBiden = weightedMean([1, 0, 1], weights);
    expect(Number(rows[0]!.real_est)).toBeCloseTo(realBiden.estimate, 14);
    // The failed therm answer of r3 leaves r3 in the design, outside the mean.
    const therm = weightedMean([55, 25, NaN], weights);
    expect(Number(rows[2]!.syn_est)).toBeCloseTo(therm.estimate, 14);
    expect(Number(rows[2]!.syn_se)).toBeCloseTo(therm.se, 14);
    expect(rows[2]!.syn_n).toBe("2");
    expect(run.stderr).toBe("silicon: wrote 3 task rows (3 history, 0 target) to standard output\n");
  });

  it("asks for --per-option when an option is text", async () => {
    const run = await runCli(["estimate", "--real", real, "--synthetic", syn, "--id", "id", "--weight", "w", "--long", "item,p",
      "--distribution", "option", "--items", "vote", "--out", join(dir, "never.csv")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`silicon: ${real}: row 1 (line 2), column "vote": expected a number (an answer to item "vote"), got "Biden"; if it is a choice item with text answers, pass --per-option vote\n`);
  });
});

describe("subgroup columns in the synthetic file", () => {
  const realLines = readFileSync(join(fixtureDir, "respondents.csv"), "utf8").trimEnd().split("\n");
  const synLines = readFileSync(join(fixtureDir, "synthetic.csv"), "utf8").trimEnd().split("\n");
  const partyOf = new Map(realLines.slice(1).map((line) => [line.split(",")[0]!, line.split(",")[1]!]));
  const base = ["--id", "id", "--weight", "weight", "--items", "therm", "--by", "party", "--generation", "generation"];

  it("carries them to the respondents by id, giving the same table", async () => {
    const real = write("real-noparty.csv", realLines.map((line) => line.split(",").filter((_, j) => j !== 1).join(",")));
    const syn = write("syn-party.csv", synLines.map((line, k) => `${line},${k === 0 ? '"party"' : partyOf.get(line.split(",")[0]!)}`));
    const moved = await runCli(["estimate", "--real", real, "--synthetic", syn, ...base, "--out", "-"]);
    const original = await runCli(["estimate", "--real", join(fixtureDir, "respondents.csv"), "--synthetic", join(fixtureDir, "synthetic.csv"), ...base, "--out", "-"]);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toBe(original.stdout);
  });

  it("rejects a respondent whose subgroup changes between rows", async () => {
    const real = write("real-noparty2.csv", realLines.map((line) => line.split(",").filter((_, j) => j !== 1).join(",")));
    const syn = write("syn-party2.csv", synLines.map((line, k) => `${line},${k === 0 ? '"party"' : k === 3 ? '"Green"' : partyOf.get(line.split(",")[0]!)}`));
    const run = await runCli(["estimate", "--real", real, "--synthetic", syn, ...base, "--out", join(dir, "never.csv")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`silicon: ${syn}: row 3 (line 4), column "party": "Green" differs from "Republican" on row 1 for respondent "r00001"; a subgroup must be constant per respondent\n`);
  });
});

describe("silicon estimate --help", () => {
  it("shows the file form with examples", async () => {
    const run = await runCli(["estimate", "--help"]);
    expect(run.code).toBe(0);
    for (const text of ["--real <file>", "--long <itemcol,valuecol>", "--by <specs>", "--role-of-target <wave>", "--allow-unmatched", "Examples:", "docs/estimate.md"]) {
      expect(run.stdout).toContain(text);
    }
  });
});

describe("text answers against SPSS value labels", () => {
  const estimateDir = new URL("../fixtures/estimate/", import.meta.url).pathname;
  const lines = readFileSync(join(estimateDir, "synthetic.csv"), "utf8").trimEnd().split("\n");
  const label: Record<string, string> = { "1": "Trump", "2": "Biden", "3": "Other" };
  const common = ["--real", join(estimateDir, "real.sav"), "--id", "id", "--weight", "weight", "--group", "wave", "--model", "model",
    "--generation", "generation", "--by", "party", "--out", "-"];

  it("codes labelled text answers like their codes, and reads NA as missing", async () => {
    const text = write("syn-text.csv", lines.map((line, k) => {
      if (k === 0) return line;
      const f = line.split(",");
      return [...f.slice(0, 4), f[4] === "" ? "NA" : f[4], label[f[5]!]].join(",");
    }));
    for (const items of [["--items", "therm,vote", "--per-option", "vote"], ["--items", "vote"]]) {
      const coded = await runCli(["estimate", "--synthetic", join(estimateDir, "synthetic.csv"), ...common, ...items]);
      const labelled = await runCli(["estimate", "--synthetic", text, ...common, ...items]);
      expect(labelled.code, labelled.stderr).toBe(0);
      expect(labelled.stdout).toBe(coded.stdout);
    }
  });
});
