/**
 * The held-out checks in words: the verdict follows the checks that can
 * fail (a coverage below 1 − α is "Fell short" even when leave-one-out held),
 * a check fixed by arithmetic is never counted as evidence, the group
 * protocol is named by its column, and the drift check words flagged
 * diagnostics and stays quiet when none are.
 */
import { describe, expect, it } from "vitest";
import type { Evaluation } from "../../src/evaluation/evaluate.ts";
import type { KindAnalysis } from "../../src/pipeline/analyze.ts";
import { checksParagraph, checkSummary, driftParagraph } from "../../src/report/trust.ts";

const summary = (tasks: number, covered: number, extra: Record<string, unknown> = {}) => ({
  tasks,
  coverage: covered / tasks,
  mean_width: 20,
  median_width: 20,
  naive_coverage: 0.1,
  naive_median_width: 2,
  ...extra,
});

function kind(evaluations: Record<string, Record<string, ReturnType<typeof summary>>>, exchangeability?: unknown, groupBy?: string): KindAnalysis {
  const wrapped = Object.fromEntries(
    Object.entries(evaluations).map(([protocol, byModel]) => [
      protocol,
      { report: { protocol, method: "alg1", alpha: 0.1, by_model: byModel, ...(protocol === "group" && groupBy !== undefined ? { group_by: groupBy } : {}) }, tasks: [], steps: [], skipped: [], notes: [] } as unknown as Evaluation,
    ]),
  );
  return {
    method: "alg1",
    intervals: [],
    cells: [],
    evaluations: wrapped,
    target: {},
    targetTasks: [],
    problems: [],
    kind: { key: "thermometer", label: "thermometer ratings (0–100)", range: [0, 100], items: ["t"] },
    options: { method: "alg1", alpha: 0.1, range: [0, 100] },
    history: [],
    targets: [],
    comparison: [],
    pilot: [],
    notes: [],
    ...(exchangeability === undefined ? {} : { exchangeability }),
  } as unknown as KindAnalysis;
}

describe("the held-out checks in words", () => {
  it("falls short when a check that can fail is below 1 − α, whatever leave-one-out showed", () => {
    const k = kind({ loo: { m: summary(100, 100) }, chrono: { m: summary(100, 80, { coverage_lower: 0.71, coverage_upper: 0.87 }) } });
    const text = checksParagraph(k, "m", 0.9);
    expect(text).toMatch(/Fell short\.<\/span> In the “wave by wave” check the range held less often than the promised 90%/);
    expect(text).toMatch(/held 80 of 100 \(80%\) \(from this many results, the long-run rate is plausibly 71% to 87%\)/);
    // The check most like a real forecast is listed first.
    expect(text.indexOf("wave by wave")).toBeLessThan(text.indexOf("one result at a time"));
    expect(checkSummary(k, "m", 0.9)).toBe("Checked wave by wave: held 80 of 100 (80%) (promised: at least 90%) — fell short.");
  });

  it("holds as promised at exactly 1 − α, and says the naive range held far less", () => {
    const text = checksParagraph(kind({ chrono: { m: summary(50, 45) } }), "m", 0.9);
    expect(text).toMatch(/Held as promised\.<\/span> In every check that could fail the range held at least 90% of the time \(overall 90%\)\./);
    expect(text).toMatch(/The naive range held only 10% of the time/);
    expect(text).not.toMatch(/wider than needed/);
  });

  it("never counts a check fixed by arithmetic as evidence", () => {
    const text = checksParagraph(kind({ loo: { m: summary(100, 91, { arithmetic_coverage: 0.91 }) } }), "m", 0.9);
    expect(text).toMatch(/No evidence yet\./);
    expect(text).toMatch(/Here this check cannot fail/);
  });

  it("names the group protocol by its column", () => {
    const text = checksParagraph(kind({ group: { m: summary(29, 27) } }, undefined, "item"), "m", 0.9);
    expect(text).toMatch(/<strong>question by question<\/strong> \(all past results of one question held out together/);
    expect(text).toMatch(/Small checks \(29 results\) are rough: one miss moves them by 3 points\./);
  });

  it("words flagged drift, and says nothing showed when nothing did", () => {
    const pool = (flagged: boolean) => ({
      model: "m",
      coord: "",
      trend: { flagged, slope: -2.5, waves: 5 },
      heterogeneity: { group: { flagged, means: [-1, -3, -8], labels: ["w1", "w2", "w3"] } },
    });
    const flagged = driftParagraph(kind({}, { level: 0.05, tests: 2, pools: [pool(true)] }), "m");
    expect(flagged).toMatch(/Drift\.<\/span> Between past waves its error fell by about 2.5 points a wave over 5 waves and its error differed between waves more than chance allows \(on average −8.0 points in w3, −1.0 points in w1\)/);
    const quiet = driftParagraph(kind({}, { level: 0.05, tests: 2, pools: [pool(false)] }), "m");
    expect(quiet).toMatch(/nothing beyond chance showed \(at most a 5% chance of a false alarm over all 2 tests\)/);
    expect(driftParagraph(kind({}), "m")).toBe("");
  });
});
