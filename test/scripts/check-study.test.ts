import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BASE_FILES, studyDir } from "../helpers/study-files.ts";
import { SMALL_STUDY } from "../helpers/small-study.ts";

function run(args: string[]) {
  return spawnSync(process.execPath, ["scripts/check-study.ts", ...args], { encoding: "utf8" });
}

describe("scripts/check-study.ts", () => {
  it("summarises a valid study and previews one respondent's prompt", () => {
    const result = run(["surveys/example-study.yaml", "--wave", "w2022", "--respondent", "P00003"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("wave w2024 (target): surveys/example-frames/w2024.csv, 300 respondents");
    expect(result.stdout).toContain("--- persona of respondent P00003, wave w2022 ---");
    expect(result.stdout).toContain("[approve] Do you approve or disapprove of the way Joe Biden is handling his job as president?");
    expect(result.stdout).toMatch(/Calibration at α = 0\.\d+, from the study alone/);
    expect(result.stdout).toMatch(/thermometer ratings \(0–100\)\s+alg1\s+64\s+4 items × 8 subgroups × 2 historical waves\s+\d+\s+yes/);
  });

  it("refuses a study whose tasks cannot be calibrated at its α, naming the kind, its tasks, what it needs and the remedies", () => {
    const dir = studyDir(SMALL_STUDY);
    const result = run([join(dir, "study.yaml")]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/warning: 9 subgroups have fewer than 30 respondents/);
    expect(result.stderr).toMatch(/thermometer ratings \(0–100\) will have 8 historical tasks per model \(1 item × 4 subgroups × 2 historical waves\) and alg1 needs at least 20.*Remedies: more subgroups/);
  });

  it("exits 2 with one line naming file, line and field, and writes nothing", () => {
    const dir = studyDir({ ...BASE_FILES, "study.yaml": BASE_FILES["study.yaml"]!.replace("role: target", "role: forecast") });
    const before = readdirSync(dir).sort();
    const result = run([join(dir, "study.yaml")]);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(`silicon: ${dir}/study.yaml: line 11, field "waves[1].role": expected "historical" or "target", got "forecast"\n`);
    expect(readdirSync(dir).sort()).toEqual(before);
  });
});
