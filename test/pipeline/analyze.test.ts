/**
 * The per-kind analysis of a study's tasks: thermometers and proportions are
 * calibrated apart, each clipped to its scale; pilot items (no history) are
 * calibrated on the gaps of the items the user named, with a warning; an
 * item without history and without a pilot set stops the run.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadStudy } from "../../src/config/load.ts";
import type { SurveyItem } from "../../src/config/schema.ts";
import { InputError } from "../../src/errors.ts";
import { studyTasks } from "../../src/estimands/from-study.ts";
import { calibrate } from "../../src/inference/calibrate.ts";
import { analyzeStudy } from "../../src/pipeline/analyze.ts";
import { analysisSettings } from "../../src/pipeline/settings.ts";
import { checkCalibratable, reportInput } from "../../src/pipeline/study-results.ts";
import { evaluate } from "../../src/evaluation/evaluate.ts";
import { renderReport } from "../../src/report/html.ts";
import { generatePopulationFrames, tableToCsv } from "../../src/simulation/frames.ts";
import { simulatedAnswers } from "../helpers/simulated-answers.ts";
import { studyDir } from "../helpers/study-files.ts";

const ITEMS: SurveyItem[] = [
  { id: "therm_democrats", type: "thermometer", text: "Rate Democrats.", min: 0, max: 100 },
  { id: "therm_police", type: "thermometer", text: "Rate the police.", min: 0, max: 100 },
  { id: "therm_scientists", type: "thermometer", text: "Rate scientists.", min: 0, max: 100 },
  { id: "approve", type: "binary", text: "Approve?", options: [{ code: 1, label: "Approve" }, { code: 0, label: "Disapprove" }] },
];

/** A three-wave study whose survey adds a new thermometer (therm_unions) no historical frame has. */
async function pilotStudy(calibration: string, emptyColumn = false) {
  const frames = generatePopulationFrames({
    seed: 3,
    items: ITEMS,
    waves: ["w1", "w2", "w3"].map((id, i) => ({ id, size: 150, role: i < 2 ? ("historical" as const) : ("target" as const), context: { president: "Joe Biden", president_party: "Democrat" } })),
  });
  const files: Record<string, string> = {
    "survey.yaml": `id: pilot\nitems:\n${ITEMS.map((i) => `  - { id: ${i.id}, type: ${i.type}, text: "${i.text}" }`).join("\n")}\n  - { id: therm_unions, type: thermometer, text: "Rate labor unions." }\n`,
    "persona.hbs": "A {{age}}-year-old {{party}} from the {{region}}.\n",
    "study.yaml": `name: pilot
survey: survey.yaml
persona: persona.hbs
waves:
  - { id: w1, frame: w1.csv, role: historical, context: { president: Joe Biden } }
  - { id: w2, frame: w2.csv, role: historical, context: { president: Joe Biden } }
  - { id: w3, frame: w3.csv, role: target, context: { president: Joe Biden } }
models: [simulated:biased, simulated:erratic]
generations: 2
estimands:
  by: [all, party, region]
calibration:
  alpha: 0.2
  method: alg4
${calibration}`,
  };
  for (const { spec, table } of frames.waves) {
    const columns = emptyColumn ? { ...table.columns, therm_unions: table.columns["id"]!.map(() => null) } : table.columns;
    const names = emptyColumn ? [...table.columnNames, "therm_unions"] : table.columnNames;
    files[`${spec.id}.csv`] = tableToCsv({ ...table, columns, columnNames: names });
  }
  return loadStudy(join(studyDir(files), "study.yaml"));
}

describe("analyzeStudy", () => {
  it("calibrates each scale apart, clipped to it, and pilot items on the gaps of the items they are like", async () => {
    const study = await pilotStudy("  pilot:\n    - items: [therm_unions]\n      like: [therm_democrats, therm_police]\n");
    checkCalibratable(study);
    const { tasks } = studyTasks(study, simulatedAnswers(study));
    const analysis = analyzeStudy(study, tasks, analysisSettings(study.study.calibration));
    expect(analysis.kinds.map((k) => [k.kind.key, k.kind.range, k.kind.items])).toEqual([
      ["thermometer", [0, 100], ["therm_democrats", "therm_police", "therm_scientists", "therm_unions"]],
      ["proportion", [0, 1], ["approve"]],
    ]);
    const thermometers = analysis.kinds[0]!;
    // History: 3 items with real answers × 8 subgroups × 2 waves per model; the pilot item has none.
    expect(thermometers.history.filter((r) => r.model === "simulated:biased").length).toBe(48);
    expect(thermometers.history.some((r) => r.item === "therm_unions")).toBe(false);

    const pilotTargets = thermometers.targets.filter((t) => t.item === "therm_unions");
    expect(pilotTargets.length).toBe(2 * 8);
    const like = thermometers.history.filter((h) => h.item === "therm_democrats" || h.item === "therm_police");
    const expected = calibrate(like, pilotTargets, { method: "alg4", alpha: 0.2, range: [0, 100] }).intervals;
    const got = thermometers.intervals.filter((i) => i.task.startsWith("therm_unions|"));
    expect(got).toEqual(expected);
    // The other targets calibrate on every thermometer's history instead.
    const others = thermometers.targets.filter((t) => t.item !== "therm_unions");
    expect(thermometers.intervals.filter((i) => !i.task.startsWith("therm_unions|"))).toEqual(
      calibrate(thermometers.history, others, { method: "alg4", alpha: 0.2, range: [0, 100] }).intervals,
    );
    expect(thermometers.pilot).toEqual([
      expect.objectContaining({ items: ["therm_unions"], like: ["therm_democrats", "therm_police"], historyTasks: { "simulated:biased": 32, "simulated:erratic": 32 }, targets: 16 }),
    ]);
    expect(analysis.warnings[0]).toBe(
      'pilot mode: item "therm_unions" has no history, so its intervals are calibrated on the gaps of "therm_democrats", "therm_police" (32 historical tasks per model). ' +
        "This assumes the model errs on the new question as it does on a random one of these: if it errs more, the intervals under-cover, and no data can show it until the new questions are fielded.",
    );
    for (const i of thermometers.intervals) expect(i.lower >= 0 && i.upper <= 100).toBe(true);
    for (const i of analysis.kinds[1]!.intervals) expect(i.lower >= 0 && i.upper <= 1).toBe(true);
  });

  it("skips only the model with too little history: the other model's intervals, evaluation and comparison stay", async () => {
    const study = await pilotStudy("  pilot:\n    - items: [therm_unions]\n      like: [therm_democrats, therm_police]\n");
    const { tasks } = studyTasks(study, simulatedAnswers(study));
    // simulated:erratic keeps 3 historical thermometer tasks: far too few for α = 0.2.
    let kept = 0;
    const few = tasks.filter((t) => t.model !== "simulated:erratic" || t.role !== "history" || !t.item?.startsWith("therm_") || kept++ < 3);
    const analysis = analyzeStudy(study, few, analysisSettings(study.study.calibration), { onInfeasible: "record" });
    const thermometers = analysis.kinds[0]!;
    expect(new Set(thermometers.intervals.map((i) => i.model))).toEqual(new Set(["simulated:biased"]));
    expect(Object.keys(thermometers.evaluations.loo!.report.by_model)).toEqual(["simulated:biased"]);
    expect(thermometers.evaluations.loo!.report.by_model["simulated:biased"]!.tasks).toBe(48);
    // The ensemble pseudo-model (stacked combination of both models) is compared beside the model that could run.
    expect(thermometers.comparison.map((c) => c.model).filter((m) => m !== "ensemble")).toEqual(["simulated:biased"]);
    expect(thermometers.problems.some((p) => /^leave-one-out evaluation skipped 3 tasks of model simulated:erratic: .*needs at least/.test(p))).toBe(true);
    expect(thermometers.problems.some((p) => /^calibration skipped \d+ tasks of model simulated:erratic/.test(p))).toBe(true);
    expect(thermometers.problems.join("\n")).not.toMatch(/simulated:biased/);
    // The other kind is untouched.
    expect(Object.keys(analysis.kinds[1]!.evaluations.loo!.report.by_model)).toEqual(["simulated:biased", "simulated:erratic"]);
  });

  it("checks pilot mode on the like items only, marks pilot intervals in the target chart, and puts its warning first in the report", async () => {
    const study = await pilotStudy("  pilot:\n    - items: [therm_unions]\n      like: [therm_democrats, therm_police]\n");
    const answers = simulatedAnswers(study);
    const tasks = studyTasks(study, answers);
    const analysis = analyzeStudy(study, tasks.tasks, analysisSettings(study.study.calibration), { onInfeasible: "record" });
    const thermometers = analysis.kinds[0]!;
    // The kind's leave-one-out holds out all 3 thermometers with history (48 tasks); the pilot check only the 2 like items (32).
    expect(thermometers.evaluations.loo!.report.by_model["simulated:biased"]!.tasks).toBe(48);
    const pilot = thermometers.pilot[0]!;
    expect(pilot.evaluations.loo!["simulated:biased"]!.tasks).toBe(32);
    const like = thermometers.history.filter((h) => h.item === "therm_democrats" || h.item === "therm_police");
    const direct = evaluate("loo", like, [], { method: "alg4", alpha: 0.2, range: [0, 100] }).report.by_model["simulated:biased"]!;
    expect(pilot.evaluations.loo!["simulated:biased"]).toEqual(direct);
    expect(pilot.evaluations.chrono!["simulated:biased"]!.tasks).toBe(16);

    const html = renderReport(reportInput(study, tasks, analysis, { answers, count: 1 }, { resultsDir: "results", command: "silicon run study.yaml" }));
    expect(html.indexOf("Read this first")).toBeGreaterThan(0);
    expect(html.indexOf("Read this first")).toBeLessThan(html.indexOf(`<section id="forecasts">`));
    expect(html).toMatch(/<h4>New questions therm_unions \(pilot\)<\/h4>/);
    expect(html).toMatch(/class="mark calibrated-bar pilot"/);
    expect(html).toMatch(/therm unions \(pilot item\)<\/text>/);
    expect(html).toMatch(/therm unions<\/span> <span class="pilot-note">\(new question: its ranges are learned from the questions it is like\)/);
  });

  it("stops an item without history that is not a pilot item, naming the study's field", async () => {
    // The frames have a column for the new item, but no answers in it.
    const study = await pilotStudy("", true);
    expect(() => checkCalibratable(study)).toThrow(InputError);
    expect(() => checkCalibratable(study)).toThrow(
      /study\.yaml: line 1\d, field "calibration": item "therm_unions" has no real answers in any historical wave, .* list it under calibration\.pilot with the items it is like/,
    );
  });
});
