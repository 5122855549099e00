/**
 * calibrate, evaluate and compare on tasks tables, through the real command
 * line: exit status, one-line errors naming file, row and column, and no
 * output file left behind on bad input.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { logitInterval } from "../../src/inference/survey.ts";
import { tempDir } from "../helpers/temp-files.ts";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
const example = `${root}examples/tasks.csv`;
const files = tempDir();

async function silicon(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [`${root}bin/silicon.js`, ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const HEADER = "task,model,role,real_est,real_se,syn_est,syn_se";
const history = Array.from({ length: 30 }, (_, i) => `t${i},m,history,${(0.4 + i / 100).toFixed(2)},0.02,0.5,0.01`);
const table = (...extra: string[]) => [HEADER, ...history, ...extra].join("\n") + "\n";

describe("silicon calibrate --tasks", () => {
  it("writes the intervals table of DESIGN.md and a summary", async () => {
    const out = files.path("intervals.csv");
    const { code, stdout } = await silicon("calibrate", "--tasks", example, "--out", out);
    expect(code).toBe(0);
    const lines = readFileSync(out, "utf8").trim().split("\n");
    expect(lines[0]).toBe("task,model,coord,method,alpha,lower,upper,estimate,naive_lower,naive_upper");
    expect(lines).toHaveLength(1 + 208);
    expect(stdout).toMatch(/wrote 208 intervals to/);
    expect(stdout).toMatch(/Algorithm 1/);
  });

  const bad: [string, string, RegExp][] = [
    ["a missing column", "task,role,real_est,syn_est\nt,history,0.5,0.4\n", /: field "syn_se": missing column/],
    ["a non-numeric estimate", table("x,m,history,abc,0.02,0.5,0.01"), /: row 31 \(line 32\), column "real_est": expected a number/],
    ["a negative SE", table("x,m,history,0.5,-0.02,0.5,0.01"), /: row 31 \(line 32\), column "real_se": expected a standard error ≥ 0, got "-0.02"/],
    ["a duplicate task id within a model", table("t3,m,history,0.5,0.02,0.5,0.01"), /: row 31 \(line 32\), column "task": duplicate task "t3" of model "m" \(first at row 4/],
    ["a target without history for its model", table("x,other,target,,,0.5,0.01"), /: row 31 \(line 32\), column "model": no history rows for model "other"/],
    ["a bad role", table("x,m,future,,,0.5,0.01"), /: row 31 \(line 32\), column "role": expected "history" or "target"/],
  ];
  for (const [what, text, message] of bad) {
    it(`refuses ${what}: exit 2, one line, no output file`, async () => {
      const input = files.write(`bad-${what.replace(/\W+/g, "-")}.csv`, text);
      const out = files.path(`out-${what.replace(/\W+/g, "-")}.csv`);
      const { code, stderr, stdout } = await silicon("calibrate", "--tasks", input, "--out", out);
      expect(code).toBe(2);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr).toContain(input);
      expect(stderr).toMatch(message);
      expect(stderr).not.toMatch(/\bat .*\.ts:\d+/);
      expect(stdout).toBe("");
      expect(existsSync(out)).toBe(false);
    });
  }

  it("forms the synthetic and naive intervals as svyciprop's logit interval with --interval logit", async () => {
    const out = files.path("logit.csv");
    const { code } = await silicon("calibrate", "--tasks", example, "--method", "alg1", "--interval", "logit", "--out", out);
    expect(code).toBe(0);
    const [header, ...rows] = readFileSync(out, "utf8").trim().split("\n");
    const column = (name: string) => header!.split(",").indexOf(name);
    const source = readFileSync(example, "utf8").trim().split("\n");
    const sourceColumn = (name: string) => source[0]!.split(",").indexOf(name);
    const first = rows[0]!.split(",");
    const task = source.find((line) => line.startsWith(`${first[0]},${first[1]},target`))!.split(",");
    const [est, se, n] = ["syn_est", "syn_se", "syn_n"].map((c) => Number(task[sourceColumn(c)]));
    const want = logitInterval(est!, se!, 0.1, n! - 1);
    expect(Number(first[column("naive_lower")])).toBeCloseTo(want.lower, 9);
    expect(Number(first[column("naive_upper")])).toBeCloseTo(want.upper, 9);
    // Asymmetric around the estimate, unlike Wald.
    expect(Math.abs(want.upper - est! - (est! - want.lower))).toBeGreaterThan(1e-5);

    const noN = files.write("logit-no-n.csv", table("x,m,target,,,0.5,0.01"));
    const refused = await silicon("calibrate", "--tasks", noN, "--interval", "logit", "--out", files.path("logit-no-n-out.csv"));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/row 31 \(line 32\), column "syn_n": the logit interval needs the synthetic sample size/);
    expect(existsSync(files.path("logit-no-n-out.csv"))).toBe(false);
  });

  it("refuses α outside (0, 1) naming --alpha", async () => {
    const out = files.path("alpha.csv");
    for (const alpha of ["1.5", "0", "abc"]) {
      const { code, stderr } = await silicon("calibrate", "--tasks", example, "--alpha", alpha, "--out", out);
      expect(code).toBe(2);
      expect(stderr).toMatch(/^silicon: --alpha must be a number in \(0, 1\), got/);
    }
    expect(existsSync(out)).toBe(false);
  });

  it("says how many historical tasks an α needs instead of an infinite interval", async () => {
    const input = files.write("few.csv", table("x,m,target,,,0.5,0.01"));
    const out = files.path("few-out.csv");
    const { code, stderr } = await silicon("calibrate", "--tasks", input, "--alpha", "0.05", "--out", out);
    expect(code).toBe(2);
    expect(stderr.trim()).toBe(
      'silicon: model "m": α = 0.05 needs at least 40 historical tasks for a finite interval (2/(T+1) < α; 49 for the default split α_e = 0.8α), but there are 30; with 30 the smallest feasible α is above 0.0645',
    );
    expect(existsSync(out)).toBe(false);
  });
});

describe("silicon evaluate and compare --tasks", () => {
  it("prints DESIGN.md's evaluate --json", async () => {
    const { code, stdout } = await silicon("evaluate", "--tasks", example, "--protocol", "loo", "--json");
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    // DESIGN.md's shape, plus the flag that says this coverage is fixed by arithmetic (alg4 under LOO) and the diagnostics.
    expect(Object.keys(report)).toEqual(["protocol", "method", "alpha", "coverage_fixed_by_arithmetic", "by_model", "exchangeability"]);
    expect(report.coverage_fixed_by_arithmetic).toBe(true);
    // The example's waves carry shocks the models do not know: the approval coordinates' gaps differ between waves.
    expect(report.exchangeability).toMatchObject({ level: 0.05, tests: 12 });
    expect(report.exchangeability.warnings.length).toBeGreaterThan(0);
    expect(report.exchangeability.warnings[0]).toMatch(/the gap differs between waves more than chance allows \(p = 0\.00\d; mean gap from/);
    expect(report).toMatchObject({ protocol: "loo", method: "alg4", alpha: 0.1 });
    expect(Object.keys(report.by_model)).toEqual(["simulated:steady", "simulated:caricature"]);
    expect(Object.keys(report.by_model["simulated:steady"])).toEqual(["tasks", "coverage", "mean_width", "median_width", "naive_coverage", "naive_median_width", "arithmetic_coverage"]);
    expect(report.by_model["simulated:steady"].coverage).toBe(report.by_model["simulated:steady"].arithmetic_coverage);
    expect(report.by_model["simulated:steady"].coverage).toBeGreaterThanOrEqual(0.9);
  });

  it("adds coverage per group for the chronological protocol and writes per-task rows", async () => {
    const out = files.path("chrono.csv");
    const { code, stdout } = await silicon("evaluate", "--tasks", example, "--protocol", "chrono", "--json", "--out", out);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(Object.keys(report.by_model["simulated:steady"].by_group)).toEqual(["W2", "W3", "W4"]);
    const lines = readFileSync(out, "utf8").trim().split("\n");
    expect(lines[0]).toBe("task,model,coord,group,method,alpha,lower,upper,estimate,naive_lower,naive_upper,real_est,covered,naive_covered,task_covered,task_naive_covered");
    expect(lines.length - 1).toBe(report.by_model["simulated:steady"].tasks + report.by_model["simulated:caricature"].tasks);
  });

  it("holds out whole groups with --protocol group --group-by, with exact intervals per group", async () => {
    const { code, stdout } = await silicon("evaluate", "--tasks", example, "--protocol", "group", "--group-by", "item", "--json");
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ protocol: "group", group_by: "item", coverage_fixed_by_arithmetic: false });
    const steady = report.by_model["simulated:steady"];
    expect(Object.keys(steady.by_group)).toContain("ban_tiktok");
    const group = steady.by_group.ban_tiktok;
    expect(group.coverage_lower).toBeLessThanOrEqual(group.coverage);
    expect(group.coverage_upper).toBeGreaterThanOrEqual(group.coverage);
    const text = await silicon("evaluate", "--tasks", example, "--protocol", "group");
    expect(text.stdout).toMatch(/leave-one-group-out by group evaluation/);
    expect(text.stdout).toMatch(/Clopper–Pearson/);
    expect(await silicon("evaluate", "--tasks", example, "--protocol", "group", "--group-by", "nothing")).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--group-by nothing: no history row .* has a value in a column "nothing"/),
    });
  });

  it("says in one line that alg4's leave-one-out coverage cannot fail", async () => {
    const alg4 = await silicon("evaluate", "--tasks", example, "--protocol", "loo");
    expect(alg4.stdout).toMatch(/This coverage cannot fail: .*\(k_hi − k_lo\)\/\(T\+1\) = 0\.910/);
    const alg1 = await silicon("evaluate", "--tasks", example, "--protocol", "loo", "--method", "alg1");
    expect(alg1.stdout).not.toMatch(/cannot fail/);
  });

  it("requires --protocol and a tasks table", async () => {
    expect(await silicon("evaluate", "--tasks", example)).toMatchObject({ code: 2, stderr: expect.stringMatching(/--protocol is required/) });
    expect(await silicon("evaluate", "--protocol", "loo")).toMatchObject({ code: 2, stderr: expect.stringMatching(/needs a tasks table: --tasks/) });
    expect(await silicon("evaluate", "--tasks", example, "--protocol", "kfold")).toMatchObject({ code: 2 });
  });

  it("evaluates the models with enough history and names the one without; fails in one line only when none has enough", async () => {
    const few = Array.from({ length: 5 }, (_, i) => `s${i},n,history,${(0.4 + i / 100).toFixed(2)},0.02,0.5,0.01`);
    const input = files.write("two-models.csv", table(...few));
    for (const command of ["evaluate", "compare"]) {
      const { code, stdout, stderr } = await silicon(command, "--tasks", input, "--protocol", "loo", "--alpha", "0.1");
      expect(code, command).toBe(0);
      expect(stdout).toMatch(/\bm\s+30\s/);
      expect(stdout).not.toMatch(/^n\s/m);
      expect(stderr).toMatch(/note: leave-one-out: model n skipped \(5 tasks\), the others evaluated: model "n": .*needs at least \d+ historical tasks/);
    }
    const json = JSON.parse((await silicon("evaluate", "--tasks", input, "--protocol", "loo", "--json")).stdout);
    expect(Object.keys(json.by_model)).toEqual(["m"]);
    const only = files.write("too-few.csv", [HEADER, ...few].join("\n") + "\n");
    const none = await silicon("evaluate", "--tasks", only, "--protocol", "loo", "--alpha", "0.1");
    expect(none.code).toBe(2);
    expect(none.stderr.trim().split("\n")).toHaveLength(1);
    expect(none.stderr).toMatch(/^silicon: model "n": α = 0.1 needs at least/);
  });

  it("notes a table without a kind column whose items mix proportions and a larger scale", async () => {
    const mixed = [
      "task,model,role,item,real_est,real_se,syn_est,syn_se",
      ...Array.from({ length: 30 }, (_, i) => `p${i},m,history,approve,${(0.4 + i / 100).toFixed(2)},0.02,0.5,0.01`),
      ...Array.from({ length: 30 }, (_, i) => `t${i},m,history,therm,${40 + i},2,50,1`),
    ].join("\n") + "\n";
    const { code, stderr } = await silicon("evaluate", "--tasks", files.write("mixed.csv", mixed), "--protocol", "loo");
    expect(code).toBe(0);
    expect(stderr).toMatch(/pools items whose estimates all lie in \[0, 1\] \(approve\) with items on a larger scale \(therm\); .*add a kind column or --strata/);
  });

  it("compares models, narrowest calibrated interval first", async () => {
    const { code, stdout } = await silicon("compare", "--tasks", example, "--json");
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    // The ensemble of both models (stacked, held out a fold of items at a time) stands beside them.
    expect(result.models.map((m: { model: string }) => m.model)).toEqual(["ensemble", "simulated:steady", "simulated:caricature"]);
    const widths = result.models.map((m: { evaluation: { median_width: number } }) => m.evaluation.median_width);
    expect(widths).toEqual([...widths].sort((a: number, b: number) => a - b));
    expect(result.models[0].gap).toHaveProperty("mean");
  });
});

describe("--out - sends the table to standard output", () => {
  it("calibrate, evaluate and compare print their CSV on stdout, the summary on stderr, and create no file named '-'", async () => {
    const cases: [string[], string][] = [
      [["calibrate", "--tasks", example, "--method", "alg4"], "task,model,coord,method,alpha,lower,upper,estimate,naive_lower,naive_upper"],
      [["evaluate", "--tasks", example, "--protocol", "loo"], "task,model,coord,group,method,alpha,lower,upper,estimate,naive_lower,naive_upper,real_est,covered,naive_covered,task_covered,task_naive_covered"],
      [["compare", "--tasks", example], "model,history,gap_mean,gap_sd,gap_mean_abs,gap_q05,gap_q50,gap_q95,tasks,coverage,mean_width,median_width,naive_coverage,naive_median_width"],
    ];
    for (const [args, header] of cases) {
      const { code, stdout, stderr } = await silicon(...args, "--out", "-");
      expect(code, args[0]).toBe(0);
      expect(stdout.split("\n")[0], args[0]).toBe(header);
      expect(stderr, args[0]).toMatch(/to standard output/);
      expect(existsSync(`${root}-`), args[0]).toBe(false);
    }
  });
});
