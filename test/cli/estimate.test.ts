/**
 * `silicon estimate --real --synthetic` end to end: the R survey acceptance
 * (every number of expected.json in the written tasks table, to 1e-6
 * relative), and the same table from long, Parquet and SPSS inputs.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { parquetWriteFile } from "hyparquet-writer";
import { beforeAll, describe, expect, it } from "vitest";
import { TASK_COLUMNS } from "../../src/config/tasks.ts";
import { clusterAverages, logitInterval, weightedMean } from "../../src/inference/survey.ts";
import { fixtureDir, loadExpected, loadGenerations, loadRespondents, relativeError } from "../helpers/r-survey-fixture.ts";
import { runCli } from "../helpers/run-cli.ts";

const expected = loadExpected();
const respondents = loadRespondents();
const generations = loadGenerations();
const dir = mkdtempSync(join(tmpdir(), "silicon-estimate-"));
const estimateDir = new URL("../fixtures/estimate/", import.meta.url).pathname;

type Row = Record<string, string>;

function readTasks(path: string): Row[] {
  return parse(readFileSync(path, "utf8"), { columns: true });
}

function expectClose(actual: string | undefined, wanted: number): void {
  expect(actual, `no value where R has ${wanted}`).toBeDefined();
  expect(relativeError(Number(actual), wanted), `${actual} vs R ${wanted}`).toBeLessThan(1e-6);
}

const ACCEPTANCE = ["--id", "id", "--weight", "weight", "--items", "therm,approve", "--by", "party,party+region", "--generation", "generation"];

async function estimate(args: string[], out: string): Promise<{ rows: Row[]; text: string; stderr: string }> {
  const run = await runCli(["estimate", ...args, "--out", out]);
  expect(run.stderr).not.toContain("error");
  expect(run.code, run.stderr).toBe(0);
  const text = readFileSync(out, "utf8");
  return { rows: readTasks(out), text, stderr: run.stderr };
}

describe("silicon estimate on the R survey fixture (acceptance)", () => {
  let rows: Row[];
  let byTask: Map<string, Row>;
  let wideText: string;
  let stderr: string;

  beforeAll(async () => {
    const out = join(dir, "tasks.csv");
    ({ rows, text: wideText, stderr } = await estimate(
      ["--real", join(fixtureDir, "respondents.csv"), "--synthetic", join(fixtureDir, "synthetic.csv"), ...ACCEPTANCE],
      out,
    ));
    byTask = new Map(rows.map((r) => [r.task!, r]));
  });

  it("writes the tasks table columns in contract order, extras after", () => {
    const header = wideText.split("\n")[0]!.split(",");
    expect(header).toEqual([...TASK_COLUMNS, "by", "party", "region"]);
    // 2 items × (3 parties + 12 party × region cells)
    expect(rows).toHaveLength(30);
    expect(stderr).toBe("silicon: wrote 30 task rows (30 history, 0 target) to " + join(dir, "tasks.csv") + "\n");
  });

  it("has R's real estimates and SEs by party", () => {
    for (const [party, want] of Object.entries(expected.real_therm_by_party)) {
      const row = byTask.get(`therm|party=${party}`)!;
      expectClose(row.real_est, want.est);
      expectClose(row.real_se, want.se);
    }
  });

  it("has R's real proportions and SEs by party+region", () => {
    for (const [key, want] of Object.entries(expected.real_approve_by_party_region)) {
      const [party, region] = key.split("|");
      const row = byTask.get(`approve|party=${party}+region=${region}`)!;
      expectClose(row.real_est, want.est);
      expectClose(row.real_se, want.se);
      expect(row.by).toBe("party+region");
      expect([row.party, row.region]).toEqual([party, region]);
    }
  });

  it("has R's clustered synthetic estimates and SEs by party", () => {
    for (const [party, want] of Object.entries(expected.syn_therm_by_party_clustered)) {
      const row = byTask.get(`therm|party=${party}`)!;
      expectClose(row.syn_est, want.est);
      expectClose(row.syn_se, want.se);
    }
  });

  it("has R's paired gaps and their SEs by party", () => {
    for (const [party, want] of Object.entries(expected.paired_gap_therm_by_party)) {
      const row = byTask.get(`therm|party=${party}`)!;
      expectClose(String(Number(row.real_est) - Number(row.syn_est)), want.est);
      expectClose(row.gap_se, want.se);
    }
    const twins = ["Democrat", "Independent", "Republican"].reduce((n, p) => n + Number(byTask.get(`therm|party=${p}`)!.syn_n), 0);
    expect(twins).toBe(expected.n_paired);
  });

  it("carries what svyciprop's logit interval needs", () => {
    const row = byTask.get("approve|party=Independent")!;
    const want = expected.real_approve_independent_logit90;
    expectClose(row.real_est, want.est);
    const interval = logitInterval(Number(row.real_est), Number(row.real_se), 0.1, Number(row.real_n) - 1);
    expect(relativeError(interval.lower, want.lo)).toBeLessThan(1e-6);
    expect(relativeError(interval.upper, want.hi)).toBeLessThan(1e-6);
  });

  it("gives the overall svymean with --by all", async () => {
    const { rows: all } = await estimate(
      ["--real", join(fixtureDir, "respondents.csv"), "--synthetic", join(fixtureDir, "synthetic.csv"), "--id", "id", "--weight", "weight", "--items", "therm", "--by", "all"],
      join(dir, "all.csv"),
    );
    expect(all.map((r) => r.task)).toEqual(["therm|all"]);
    expectClose(all[0]!.real_est, expected.real_therm_overall.est);
    expectClose(all[0]!.real_se, expected.real_therm_overall.se);
  });

  it("prints numbers at full precision (they read back to the same doubles)", () => {
    const row = byTask.get("therm|party=Democrat")!;
    const respondentsIn = respondents.filter((r) => r.party === "Democrat");
    const direct = weightedMean(respondentsIn.map((r) => r.therm), respondentsIn.map((r) => r.weight));
    expect(Number(row.real_est)).toBe(direct.estimate);
  });

  it("writes the identical table from long files", async () => {
    const realLong = ["id,party,region,weight,item,value"];
    for (const r of respondents) {
      realLong.push(`${r.id},${r.party},${r.region},${r.weight},therm,${r.therm}`, `${r.id},${r.party},${r.region},${r.weight},approve,${r.approve}`);
    }
    const synLong = ["id,generation,item,value"];
    for (const g of generations) synLong.push(`${g.id},${g.generation},approve,${g.approve}`, `${g.id},${g.generation},therm,${g.therm}`);
    writeFileSync(join(dir, "real-long.csv"), realLong.join("\n"));
    writeFileSync(join(dir, "syn-long.csv"), synLong.join("\n"));
    const args = [...ACCEPTANCE, "--long", "item,value"];
    const { text } = await estimate(["--real", join(dir, "real-long.csv"), "--synthetic", join(dir, "syn-long.csv"), ...args], join(dir, "long.csv"));
    expect(text).toBe(wideText);
  });

  it("writes the identical table from Parquet files", async () => {
    parquetWriteFile({
      filename: join(dir, "respondents.parquet"),
      columnData: [
        { name: "id", data: respondents.map((r) => r.id), type: "STRING" },
        { name: "party", data: respondents.map((r) => r.party), type: "STRING" },
        { name: "region", data: respondents.map((r) => r.region), type: "STRING" },
        { name: "weight", data: respondents.map((r) => r.weight), type: "DOUBLE" },
        { name: "therm", data: respondents.map((r) => r.therm), type: "INT32" },
        { name: "approve", data: respondents.map((r) => r.approve === 1), type: "BOOLEAN" },
      ],
    });
    parquetWriteFile({
      filename: join(dir, "synthetic.parquet"),
      columnData: [
        { name: "id", data: generations.map((g) => g.id), type: "STRING" },
        { name: "generation", data: generations.map((g) => BigInt(g.generation)), type: "INT64" },
        { name: "therm", data: generations.map((g) => g.therm), type: "DOUBLE" },
        { name: "approve", data: generations.map((g) => g.approve), type: "INT32" },
      ],
    });
    const { text } = await estimate(
      ["--real", join(dir, "respondents.parquet"), "--synthetic", join(dir, "synthetic.parquet"), ...ACCEPTANCE],
      join(dir, "parquet.csv"),
    );
    expect(text).toBe(wideText);
  });
});

describe("silicon estimate from an SPSS file with waves, models and a choice item", () => {
  let byKey: Map<string, Row>;
  let rows: Row[];
  const realSav = join(estimateDir, "real.sav");
  const synCsv = join(estimateDir, "synthetic.csv");
  const syn: Row[] = parse(readFileSync(synCsv, "utf8"), { columns: true });
  // real.sps, as data: [id, wave code, party code, weight, therm (999 = don't know), vote]
  const real = readFileSync(join(estimateDir, "real.sps"), "utf8")
    .split("BEGIN DATA\n")[1]!
    .split("END DATA")[0]!
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/));

  beforeAll(async () => {
    ({ rows } = await estimate(
      ["--real", realSav, "--synthetic", synCsv, "--id", "id", "--weight", "weight", "--items", "therm,vote", "--per-option", "vote",
        "--group", "wave", "--model", "model", "--generation", "generation", "--role-of-target", "2024", "--by", "all,party"],
      join(dir, "sav.csv"),
    ));
    byKey = new Map(rows.map((r) => [`${r.model}/${r.task}/${r.coord}`, r]));
  });

  it("names waves and levels by their SPSS labels, in code order", () => {
    const parties = rows.filter((r) => r.model === "openai:gpt-4o-mini" && r.item === "therm" && r.group === "2020").map((r) => r.subgroup);
    expect(parties).toEqual(["all", "party=Republican", "party=Democrat", "party=Independent"]);
    const coords = rows.filter((r) => r.model === "simulated:biased" && r.task === "vote|all@2024").map((r) => r.coord);
    expect(coords).toEqual(["Trump", "Biden", "Other"]);
    expect(new Set(rows.map((r) => r.model))).toEqual(new Set(["openai:gpt-4o-mini", "simulated:biased"]));
  });

  it("makes the target wave's tasks targets, keeping their real data for scoring", () => {
    for (const row of rows) expect(row.role).toBe(row.group === "2024" ? "target" : "history");
    expect(byKey.get("simulated:biased/therm|all@2024/")!.real_est).not.toBe("");
  });

  it("matches estimates computed directly: user-missing codes left out, generations averaged, each wave its own design", () => {
    for (const [model, wave, waveCode, party] of [
      ["openai:gpt-4o-mini", "2020", "1", "1"],
      ["simulated:biased", "2024", "2", "3"],
    ] as const) {
      const units = real.filter((r) => r[1] === waveCode);
      const weights = units.map((r) => Number(r[3]));
      const domain = units.map((r) => r[2] === party);
      const therm = units.map((r) => (r[4] === "999" ? NaN : Number(r[4])));
      const answers = syn.filter((s) => s.model === model && s.wave === wave);
      const cluster = answers.map((s) => units.findIndex((u) => u[0] === s.id));
      const synTherm = clusterAverages(cluster, answers.map((s) => (s.therm === "" ? NaN : Number(s.therm))), units.length).mean;
      const synVote = clusterAverages(cluster, answers.map((s) => (s.vote === "2" ? 1 : 0)), units.length).mean;
      const label = { "1": "Republican", "3": "Independent" }[party];
      const thermRow = byKey.get(`${model}/therm|party=${label}@${wave}/`)!;
      const realWant = weightedMean(therm, weights, domain);
      expect(Number(thermRow.real_est)).toBeCloseTo(realWant.estimate, 12);
      expect(Number(thermRow.real_se)).toBeCloseTo(realWant.se, 12);
      expect(Number(thermRow.real_n)).toBe(realWant.n);
      const synWant = weightedMean(synTherm, weights, domain);
      expect(Number(thermRow.syn_est)).toBeCloseTo(synWant.estimate, 12);
      expect(Number(thermRow.syn_se)).toBeCloseTo(synWant.se, 12);
      const voteRow = byKey.get(`${model}/vote|party=${label}@${wave}/Biden`)!;
      const voteWant = weightedMean(synVote, weights, domain);
      expect(Number(voteRow.syn_est)).toBeCloseTo(voteWant.estimate, 12);
      expect(Number(voteRow.syn_se)).toBeCloseTo(voteWant.se, 12);
    }
  });
});
