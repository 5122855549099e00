/**
 * `silicon demo`, as a user runs it: offline, it writes results/demo/ with
 * the tasks, the intervals, the evaluation and report.html, prints where
 * they are and the coverage table; on its fixed seed the calibrated
 * intervals cover at least 1 − α of the held-out tasks for every kind and
 * model while the naive ones cover far fewer; a rerun reuses the store.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, type CliRun } from "../helpers/run-cli.ts";

interface Summary {
  tasks: number;
  coverage: number;
  naive_coverage: number;
  median_width: number;
}

describe("silicon demo", () => {
  const dir = mkdtempSync(join(tmpdir(), "silicon-demo-"));
  let first: CliRun;
  beforeAll(async () => {
    // As a user runs it on a terminal: with the generation's progress bar.
    first = await runCli(["demo", "--results", dir], { tty: true });
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes the study, the outputs and the report, and prints where they are", () => {
    expect(first.stderr).not.toMatch(/internal error/);
    expect(first.code).toBe(0);
    for (const name of ["study.yaml", "survey.yaml", "persona.hbs", "frames/w2024.csv", "store.sqlite", "responses.csv", "tasks.csv", "intervals.csv", "evaluation.json", "evaluation.csv", "comparison.csv", "report.html"]) {
      expect(existsSync(join(dir, "demo", name)), name).toBe(true);
    }
    expect(first.stdout).toMatch(/open .*demo\/report\.html in a browser/);
    expect(first.stderr).toMatch(/generate demo .*\/134400 cells/);
    // The headline is a check that can fail (chronological), and the table shows chronological and leave-one-item-out.
    expect(first.stdout).toMatch(/held-out waves \(chronological, all kinds and models\): calibrated coverage 0\.9\d\d, naive coverage 0\.1\d\d \(target 1 − α = 0\.9\)/);
    expect(first.stdout).toMatch(/thermometer ratings \(0–100\)\s+alg1\s+leave-one-item-out\s+simulated:biased\s+120\s/);
    expect(first.stdout).toMatch(/approval: Co-partisan × Opposition by region\s+alg3\s+target wave\s+simulated:polarized\s+4\s+1\.000\s+0\.000/);
  });

  it("covers at least 1 − α of held-out tasks for every kind and model, the naive interval far fewer", () => {
    const evaluation = JSON.parse(readFileSync(join(dir, "demo", "evaluation.json"), "utf8"));
    expect(evaluation.alpha).toBe(0.1);
    expect(evaluation.kinds.map((k: { kind: string }) => k.kind)).toEqual(["thermometer", "vector:approval"]);
    for (const kind of evaluation.kinds) {
      for (const protocol of ["loo", "chrono", "target"]) {
        const byModel = Object.entries(kind[protocol].by_model as Record<string, Summary>);
        expect(byModel.map(([model]) => model)).toEqual(["simulated:biased", "simulated:polarized"]);
        for (const [model, s] of byModel) {
          const label = `${kind.kind} ${protocol} ${model}`;
          expect(s.tasks, label).toBeGreaterThan(0);
          expect(s.coverage, label).toBeGreaterThanOrEqual(0.9);
          expect(s.naive_coverage, label).toBeLessThanOrEqual(0.25);
        }
      }
    }
    // Enough history for the chosen methods: 120 thermometer and 20 approval tasks per model held out one at a time.
    expect(evaluation.kinds[0].loo.by_model["simulated:biased"].tasks).toBe(120);
    expect(evaluation.kinds[1].loo.by_model["simulated:biased"].tasks).toBe(20);
  });

  it("evaluation.csv reproduces evaluation.json: joint coverage of vector tasks, and the target wave's scored tasks", () => {
    const evaluation = JSON.parse(readFileSync(join(dir, "demo", "evaluation.json"), "utf8"));
    const rows = parse(readFileSync(join(dir, "demo", "evaluation.csv"), "utf8"), { columns: true }) as Record<string, string>[];
    for (const kind of evaluation.kinds) {
      for (const protocol of ["loo", "chrono", "target"]) {
        for (const [model, s] of Object.entries(kind[protocol].by_model as Record<string, Summary>)) {
          const mine = rows.filter((r) => r.kind === kind.kind && r.protocol === protocol && r.model === model && r.method === kind.method);
          // One value per task (all coordinates of a vector task share it).
          const perTask = new Map(mine.map((r) => [r.task, r.task_covered === "TRUE"]));
          const label = `${kind.kind} ${protocol} ${model}`;
          expect(perTask.size, label).toBe(s.tasks);
          expect([...perTask.values()].filter(Boolean).length / perTask.size, label).toBeCloseTo(s.coverage, 12);
        }
      }
    }
  });

  it("shows chronological coverage wave by wave under each kind, as evaluation.json's by_group has it", () => {
    const html = readFileSync(join(dir, "demo", "report.html"), "utf8");
    const evaluation = JSON.parse(readFileSync(join(dir, "demo", "evaluation.json"), "utf8"));
    expect(html.match(/<summary>Wave by wave, in detail<\/summary>/g)).toHaveLength(2);
    const approval = evaluation.kinds[1].chrono.by_model["simulated:biased"].by_group;
    const early = approval.w2020;
    expect(early).toMatchObject({ tasks: 0, skipped: 4 });
    expect(html).toContain(`<tr><td>simulated:biased</td><td>w2020</td><td class="num">${early.history}</td><td class="num">0</td><td class="num">4</td>`);
    const late = approval.w2023;
    expect(html).toContain(`<tr><td>simulated:biased</td><td>w2023</td><td class="num">${late.history}</td><td class="num">${late.tasks}</td><td class="num">${late.skipped}</td>`);
  });

  it("carries the exchangeability diagnostics in evaluation.json and the report, and holds out items", () => {
    const evaluation = JSON.parse(readFileSync(join(dir, "demo", "evaluation.json"), "utf8"));
    const thermometers = evaluation.kinds[0];
    expect(thermometers.exchangeability).toMatchObject({ level: 0.05 });
    expect(thermometers.exchangeability.pools.map((p: { model: string }) => p.model)).toEqual(["simulated:biased", "simulated:polarized"]);
    // The demo's waves carry shocks the models cannot know: the diagnostics see them, the report says so first.
    const html = readFileSync(join(dir, "demo", "report.html"), "utf8");
    for (const warning of thermometers.exchangeability.warnings) expect(html).toContain(warning.slice(0, 60));
    expect(Object.keys(thermometers.group.by_model["simulated:biased"].by_group)).toHaveLength(6);
    expect(thermometers.group.group_by).toBe("item");
  });

  it("reuses the stored answers on a rerun and writes the same tables; --quiet hides the progress bar on a terminal", async () => {
    const read = (name: string) => {
      const text = readFileSync(join(dir, "demo", name), "utf8");
      // The provenance (time, command line) differs between runs; everything else must not.
      return name === "evaluation.json" ? JSON.stringify({ ...JSON.parse(text), provenance: undefined }) : text;
    };
    const before = ["tasks.csv", "intervals.csv", "evaluation.json"].map(read);
    const modified = (name: string) => statSync(join(dir, "demo", name)).mtimeMs;
    const untouched = ["frames/w2019.csv", "frames/w2024.csv", "responses.csv", "responses.parquet"];
    const times = untouched.map(modified);
    // Off a terminal there is no bar; on one, --quiet hides it.
    const again = await runCli(["demo", "--results", dir]);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toMatch(/generate demo/);
    const quiet = await runCli(["demo", "--results", dir, "--quiet"], { tty: true });
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toMatch(/generate demo/);
    expect(again.stdout).toMatch(/\(134400 already stored\); this run 0 answered; 0 calls sent/);
    expect(["tasks.csv", "intervals.csv", "evaluation.json"].map(read)).toEqual(before);
    // Only what changed is redone: the frames are not simulated again, the exports not rewritten.
    expect(untouched.map(modified)).toEqual(times);
  }, 240_000);

  it("says the other rectangle is beside the chosen one only when it ran, and writes its intervals to intervals.csv", async () => {
    // At α = 0.1 alg3-bonferroni needs more history than the approval target has: no claim, no legend entry, why in plain words.
    const html = readFileSync(join(dir, "demo", "report.html"), "utf8");
    expect(html).not.toMatch(/dashed rectangle is/);
    expect(html).not.toMatch(/other rectangle<\/text>/);
    expect(html).toMatch(
      /\(the other rectangle, shown for comparison only\): The forecast of 4 questions and subgroups for simulated:biased: not run — a range at this confidence needs at least 40 past results, and there are only 20\./,
    );
    expect(html).toMatch(/<code>approval: Co-partisan and Opposition together, by region: leave-one-out evaluation skipped 20 tasks of model simulated:biased/);
    // At α = 0.3 it runs: drawn, claimed, and in intervals.csv under its own method.
    const wider = await runCli(["report", join(dir, "demo", "study.yaml"), "--results", dir, "--alpha", "0.3"]);
    expect(wider.code).toBe(0);
    const again = readFileSync(join(dir, "demo", "report.html"), "utf8");
    expect(again).toMatch(/The dashed rectangle is alg3-bonferroni, the other way to build the joint range/);
    expect(again).toMatch(/other rectangle<\/text>/);
    const intervals = parse(readFileSync(join(dir, "demo", "intervals.csv"), "utf8"), { columns: true }) as Record<string, string>[];
    const approval = intervals.filter((r) => r.kind === "vector:approval");
    const methods = new Set(approval.map((r) => r.method));
    expect(methods).toEqual(new Set(["alg3", "alg3-bonferroni"]));
    expect(approval.filter((r) => r.method === "alg3").length).toBe(approval.filter((r) => r.method === "alg3-bonferroni").length);
  }, 120_000);
});
