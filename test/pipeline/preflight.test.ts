/**
 * Pre-flight: the small study (3 items, 50 respondents a wave, two
 * historical waves, by: [all, party]) cannot be calibrated at α = 0.1, and
 * `run` and `generate --dry-run` must say so before any answer exists.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadStudy } from "../../src/config/load.ts";
import { infeasibleMessage, neededTasks, preflight } from "../../src/pipeline/preflight.ts";
import { analysisSettings } from "../../src/pipeline/settings.ts";
import { METHODS } from "../../src/inference/methods.ts";
import { runCli } from "../helpers/run-cli.ts";
import { studyDir } from "../helpers/study-files.ts";
import { SMALL_STUDY } from "../helpers/small-study.ts";

describe("pre-flight feasibility", () => {
  it("counts the tasks each kind will have from the study alone, and what α needs", async () => {
    const dir = studyDir(SMALL_STUDY);
    const study = await loadStudy(join(dir, "study.yaml"));
    const check = preflight(study, analysisSettings(study.study.calibration));
    expect(check.cells.map((c) => [c.kind, c.tasks, c.makeup, c.needed, c.feasible])).toEqual([
      ["proportion", 16, "2 items × 4 subgroups × 2 historical waves", 20, false],
      ["thermometer", 8, "1 item × 4 subgroups × 2 historical waves", 20, false],
    ]);
    // 50 respondents a wave, a third of them per party: every party subgroup is under 30.
    expect(check.smallSubgroups).toContain("wave h1: party=Democrat (17 respondents)");
    const message = infeasibleMessage(study, check)!;
    expect(message).toMatch(/calibration at α = 0\.1 is infeasible, so nothing was generated: proportions \(0–1\) will have 16 historical tasks per model \(2 items × 4 subgroups × 2 historical waves\) and alg1 needs at least 20/);
    expect(message).toMatch(/Remedies: more subgroups \(estimands by:\), items or historical waves; a larger calibration\.alpha \(with 8 tasks: 0\.23 or more\); method: alg4 \(needs 19\)/);
  });

  it("finds the fewest tasks each method needs, as calibration itself decides", () => {
    expect(neededTasks(METHODS.alg1, 0.1)).toBe(20);
    expect(neededTasks(METHODS.alg4, 0.1)).toBe(19);
    expect(neededTasks(METHODS.alg3, 0.1, 2)).toBe(10);
    expect(neededTasks(METHODS.alg1, 0.05)).toBe(40);
  });

  it("refuses the small study in generate --dry-run and in run before any answer: the store stays empty", async () => {
    const dir = studyDir(SMALL_STUDY);
    const results = join(dir, "results");
    const dry = await runCli(["generate", join(dir, "study.yaml"), "--dry-run", "--results", results]);
    expect(dry.code).toBe(2);
    expect(dry.stdout).toMatch(/Calibration at α = 0\.1, from the study alone/);
    expect(dry.stdout).toMatch(/thermometer ratings \(0–100\)\s+alg1\s+8\s+1 item × 4 subgroups × 2 historical waves\s+20\s+NO/);
    expect(dry.stderr).toMatch(/warning: 9 subgroups have fewer than 30 respondents in a wave/);
    expect(dry.stderr).toMatch(/silicon: .*calibration at α = 0\.1 is infeasible, so nothing was generated/);
    const run = await runCli(["run", join(dir, "study.yaml"), "--results", results, "--quiet"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/thermometer ratings \(0–100\) will have 8 historical tasks per model .* alg1 needs at least 20/);
    const stored = join(results, "small");
    expect(existsSync(stored) ? readdirSync(stored).filter((f) => !f.startsWith(".")) : []).toEqual([]);
  });

  it("lets a feasible α through: at α = 0.25 the study runs and prints a non-empty table", async () => {
    const dir = studyDir({ ...SMALL_STUDY, "study.yaml": SMALL_STUDY["study.yaml"]! + "calibration:\n  alpha: 0.25\n" });
    const run = await runCli(["run", join(dir, "study.yaml"), "--results", join(dir, "results"), "--quiet"]);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/proportions \(0–1\)\s+alg1\s+/);
  });

  it("never exits 0 with an empty coverage table: calibration feasible, but no check can run", async () => {
    // One item: 8 thermometer tasks calibrate at α = 0.25, but leave-one-out (7), chronological (4)
    // and leave-one-item-out (none left) cannot, and the target wave has no real answers to score.
    const study = SMALL_STUDY["study.yaml"]!.replace("  by: [all, party]", "  items: [therm]\n  by: [all, party]") + "calibration:\n  alpha: 0.25\n";
    const dir = studyDir({ ...SMALL_STUDY, "study.yaml": study });
    const run = await runCli(["run", join(dir, "study.yaml"), "--results", join(dir, "results"), "--quiet"]);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no coverage could be computed for any kind of task/);
  });
});
