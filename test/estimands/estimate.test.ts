import { describe, expect, it } from "vitest";
import { surveyDesign } from "../../src/estimands/design.ts";
import { parseSubgroupSpecs } from "../../src/estimands/domains.ts";
import { estimateTasks, taskId } from "../../src/estimands/estimate.ts";
import { weightedMean } from "../../src/inference/survey.ts";

// Two waves of four respondents; "weight" as a subgroup column must not clash with the tasks table's column.
const design = surveyDesign({
  source: "real.csv",
  id: ["a", "b", "c", "d", "a", "b", "c", "d"],
  weight: [1, 2, 1, 2, 1, 1, 1, 1],
  wave: ["w1", "w1", "w1", "w1", "w2", "w2", "w2", "w2"],
  attributes: { party: ["D", "R", "D", "R", "D", "R", "D", "I"], weight: ["lo", "hi", "lo", "hi", "lo", "lo", "lo", "lo"] },
  answers: { vote: [1, 2, 1, NaN, 1, 2, 2, 1] },
  optionLabels: { vote: new Map([[1, "Yes"], [2, "No"]]) },
});

const answers = {
  source: "syn.csv",
  id: ["a", "b", "c", "d", "a", "b", "c", "d", "a", "b"],
  wave: ["w1", "w1", "w1", "w1", "w2", "w2", "w2", "w2", "w1", "w1"],
  model: ["m2", "m2", "m2", "m2", "m2", "m2", "m2", "m2", "m1", "m1"],
  item: Array(10).fill("vote") as string[],
  value: [1, 1, 2, 2, 1, 2, 1, 3, 2, 2],
};

describe("estimateTasks", () => {
  it("orders rows by model, wave, item, spec, level, coordinate; names tasks with the wave", () => {
    const { tasks } = estimateTasks(design, answers, { items: [{ item: "vote", perOption: true }], targetWave: "w2" });
    expect(tasks.map((t) => `${t.model} ${t.task} ${t.coord} ${t.role}`)).toEqual([
      "m2 vote|all@w1 Yes history",
      "m2 vote|all@w1 No history",
      "m2 vote|all@w1 3 history",
      "m2 vote|all@w2 Yes target",
      "m2 vote|all@w2 No target",
      "m2 vote|all@w2 3 target",
      "m1 vote|all@w1 Yes history",
      "m1 vote|all@w1 No history",
      "m1 vote|all@w1 3 history",
    ]);
    expect(taskId("vote", "all", "w1")).toBe("vote|all@w1");
    expect(taskId("vote", "party=D")).toBe("vote|party=D");
  });

  it("estimates proportions per option as means of indicators, over each model's own design", () => {
    const { tasks } = estimateTasks(design, answers, { items: [{ item: "vote", perOption: true, options: [2] }] });
    const m1 = tasks.find((t) => t.model === "m1" && t.group === "w1")!;
    expect(m1.coord).toBe("No");
    // m1 asked only a and b in w1: its design has n = 2.
    expect(m1.syn_est).toBe(1);
    expect(m1.syn_n).toBe(2);
    const real = weightedMean([0, 1, 0, NaN], [1, 2, 1, 2]);
    expect([m1.real_est, m1.real_se, m1.real_n]).toEqual([real.estimate, real.se, 3]);
  });

  it("leaves out rows without synthetic answers or, for history, real ones, and says so", () => {
    const { tasks, warnings } = estimateTasks(design, answers, { items: ["vote"], by: parseSubgroupSpecs("party") });
    const names = tasks.map((t) => `${t.model} ${t.task}`);
    // Levels in natural order; m1 answered only in w1.
    expect(names).toEqual(["m2 vote|party=D@w1", "m2 vote|party=R@w1", "m2 vote|party=D@w2", "m2 vote|party=I@w2", "m2 vote|party=R@w2", "m1 vote|party=D@w1", "m1 vote|party=R@w1"]);
    expect(warnings).toEqual([
      "left out 3 task rows with no synthetic answer of positive weight in the subgroup (vote|party=D@w2, vote|party=I@w2, vote|party=R@w2)",
      "5 task rows rest on a single respondent (SE 0), which calibration would treat as exact; consider coarser subgroups (vote|party=R@w1, vote|party=I@w2, vote|party=R@w2, …)",
    ]);
    const noReal = estimateTasks(design, { ...answers, item: Array(10).fill("other") as string[] }, {});
    expect(noReal.tasks).toEqual([]);
    expect(noReal.warnings).toEqual([
      "left out 1 task row with no synthetic answer of positive weight in the subgroup (other|all@w2)",
      "left out 3 task rows of history tasks with no real answer of positive weight in the subgroup (other|all@w1, other|all@w2)",
    ]);
  });

  it("leaves out a subgroup whose respondents all have weight 0, instead of writing NaN", () => {
    const zero = surveyDesign({
      source: "real.csv",
      id: ["a", "b", "c", "d", "e"],
      weight: [1, 1, 1, 0, 0],
      attributes: { party: ["D", "D", "R", "I", "I"] },
      answers: { q: [1, 0, 1, 1, 0] },
    });
    const syn = { source: "syn.csv", id: ["a", "b", "c", "d", "e"], item: Array(5).fill("q") as string[], value: [1, 1, 0, 1, 1] };
    const { tasks, warnings } = estimateTasks(zero, syn, { by: parseSubgroupSpecs("party") });
    expect(tasks.map((t) => t.task)).toEqual(["q|party=D", "q|party=R"]);
    for (const t of tasks) expect(Number.isFinite(t.syn_est) && Number.isFinite(t.real_est!)).toBe(true);
    expect(warnings[0]).toBe("left out 1 task row with no synthetic answer of positive weight in the subgroup (q|party=I)");
    // party=R is one respondent: SE 0, as R's svyby, and a warning says calibration will treat it as exact.
    expect(tasks[1]!.syn_se).toBe(0);
    expect(warnings[1]).toMatch(/^1 task row rest on a single respondent \(SE 0\), which calibration would treat as exact; .*\(q\|party=R\)$/);
  });

  it("gives the synthetic design the n of the respondents the model was asked, not the frame's", () => {
    const frame = surveyDesign({ source: "real.csv", id: ["a", "b", "c", "d", "e", "f"], weight: [1, 2, 1, 1, 3, 1], answers: { q: [10, 20, 30, 40, 50, 60] } });
    // Only a, b, c were asked; d–f have no synthetic row at all.
    const asked = { source: "syn.csv", id: ["a", "b", "c"], item: ["q", "q", "q"], value: [12, 25, 31] };
    const [row] = estimateTasks(frame, asked, {}).tasks;
    const subset = weightedMean([12, 25, 31], [1, 2, 1]);
    expect(row!.syn_est).toBeCloseTo(subset.estimate, 12);
    expect(row!.syn_se).toBeCloseTo(subset.se, 12);
    // With the frame's n = 6, n/(n−1) would be 1.2 instead of 1.5.
    const framed = weightedMean([12, 25, 31, NaN, NaN, NaN], [1, 2, 1, 1, 3, 1]);
    expect(Math.abs(row!.syn_se - framed.se)).toBeGreaterThan(1e-3);
  });

  it("puts subgroup values in extra columns, but never over a tasks-table column", () => {
    const { tasks } = estimateTasks(design, answers, { items: ["vote"], by: parseSubgroupSpecs("all,party+weight") });
    expect(tasks[0]!.extra).toEqual({ by: "all", party: "" });
    expect(tasks[1]!.extra).toEqual({ by: "party+weight", party: "D" });
    expect(tasks[1]!.subgroup).toBe("party=D+weight=lo");
  });

  it("rejects an unknown target wave or item, naming what exists", () => {
    expect(() => estimateTasks(design, answers, { targetWave: "w3" })).toThrow('target wave "w3" is not a wave of real.csv; its waves are w1, w2');
    expect(() => estimateTasks(design, answers, { items: ["vote", "turnout"] })).toThrow('syn.csv: field "turnout": no synthetic answers to item "turnout"');
    const noWaves = surveyDesign({ id: ["a"] });
    expect(() => estimateTasks(noWaves, { id: ["a"], item: ["q"], value: [1] }, { targetWave: "w1" })).toThrow(/needs waves/);
  });
});
