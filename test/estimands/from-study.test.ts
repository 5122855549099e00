/**
 * The tasks table of a study: identical to `silicon estimate --real
 * --synthetic` on the same answers written as files, and vector targets as
 * the domain estimates of (by × coordinate) reshaped into coordinates.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { LoadedStudy } from "../../src/config/load.ts";
import { loadStudy } from "../../src/config/load.ts";
import type { SyntheticAnswers } from "../../src/estimands/answers.ts";
import { estimateTasks } from "../../src/estimands/estimate.ts";
import { estimateFromFiles } from "../../src/estimands/from-files.ts";
import { studyDesign, studyTasks } from "../../src/estimands/from-study.ts";
import { formatTasksCsv } from "../../src/estimands/tasks-writer.ts";
import { parseSubgroupSpecs } from "../../src/estimands/domains.ts";
import { writeDemoStudy } from "../../src/pipeline/demo-study.ts";
import { simulatedAnswers } from "../helpers/simulated-answers.ts";
import { studyDir } from "../helpers/study-files.ts";
import { realFileOf, syntheticFileOf } from "../helpers/response-files.ts";

describe("studyTasks", () => {
  let study: LoadedStudy;
  let answers: SyntheticAnswers;
  beforeAll(async () => {
    study = await loadStudy(await writeDemoStudy(join(studyDir({}), "demo")));
    answers = simulatedAnswers(study, 2);
  }, 60_000);

  it("gives the same item tasks as silicon estimate --real --synthetic on the same answers", async () => {
    const dir = studyDir({});
    const real = join(dir, "real.csv");
    const synthetic = join(dir, "synthetic.csv");
    writeFileSync(real, realFileOf(study));
    writeFileSync(synthetic, syntheticFileOf(answers));
    const fromFiles = await estimateFromFiles({
      real,
      synthetic,
      id: "id",
      weight: "weight",
      long: { item: "item", value: "value" },
      items: study.analysis.items.map((p) => p.item.id),
      by: parseSubgroupSpecs("all,party"),
      generation: "generation",
      model: "model",
      group: "wave",
      targetWave: "w2024",
    });
    const ours = studyTasks(study, answers).tasks.filter((t) => t.extra["vector"] === undefined);
    expect(ours.length).toBe(2 * 6 * 6 * 4);
    // All but the study's kind, which response files cannot give.
    expect(ours.every((t) => t.extra["kind"] !== undefined)).toBe(true);
    const withoutKind = ours.map(({ extra: { kind: _, ...extra }, ...row }) => ({ ...row, extra }));
    expect(formatTasksCsv(withoutKind)).toBe(formatTasksCsv(fromFiles.tasks));
  }, 60_000);

  it("makes vector targets from the domain estimates of by × coordinate, one task per (model, wave, region)", () => {
    const tasks = studyTasks(study, answers).tasks.filter((t) => t.extra["vector"] === "approval");
    expect(tasks.length).toBe(2 * 6 * 4 * 2);
    const design = studyDesign(study);
    const domains = estimateTasks(design, answers, { items: ["approve"], by: parseSubgroupSpecs("region+copartisan"), targetWave: "w2024" }).tasks;
    const first = tasks[0]!;
    expect(first).toMatchObject({ task: "approval|region=Midwest@w2019", coord: "Co-partisan", item: "approve", subgroup: "region=Midwest", role: "history", group: "w2019" });
    expect(first.extra).toEqual({ by: "region", vector: "approval", region: "Midwest", kind: "vector:approval" });
    const domain = domains.find((d) => d.model === first.model && d.task === "approve|region=Midwest+copartisan=Co-partisan@w2019")!;
    for (const field of ["real_est", "real_se", "real_n", "syn_est", "syn_se", "syn_n", "gap_se"] as const) expect(first[field]).toBe(domain[field]);
    const second = tasks[1]!;
    expect(second).toMatchObject({ task: first.task, coord: "Opposition", model: first.model });
    const target = tasks.filter((t) => t.role === "target");
    expect(target.length).toBe(2 * 4 * 2);
    expect(target.every((t) => t.group === "w2024" && t.real_est !== undefined)).toBe(true);
  });
});
