import { describe, expect, it } from "vitest";
import { resolveAnswers, partitionOf, type SyntheticAnswers } from "../../src/estimands/answers.ts";
import { surveyDesign } from "../../src/estimands/design.ts";
import { expectedValue, partitionAnswers, respondentValues } from "../../src/estimands/respondent-values.ts";

const design = surveyDesign({ id: ["a", "b", "c"] });

function values(answers: SyntheticAnswers, target: { kind: "mean" } | { kind: "option"; code: number }): number[] {
  const resolved = resolveAnswers(design, answers);
  return Array.from(respondentValues(design, partitionAnswers(resolved, partitionOf(resolved, 0, 0)), target));
}

function expectValues(actual: number[], wanted: number[]): void {
  expect(actual).toHaveLength(wanted.length);
  wanted.forEach((w, i) => (Number.isNaN(w) ? expect(actual[i]).toBeNaN() : expect(actual[i]).toBeCloseTo(w, 14)));
}

describe("respondent-level synthetic values", () => {
  it("averages generations, skipping failed ones", () => {
    const answers = { id: ["a", "a", "a", "b"], item: ["q", "q", "q", "q"], value: [1, 3, NaN, 2] };
    expect(values(answers, { kind: "mean" })).toEqual([2, 2, NaN]);
    expect(values(answers, { kind: "option", code: 3 })).toEqual([0.5, 0, NaN]);
    // b and a were asked (in the synthetic design); c was not.
    expect(Array.from(resolveAnswers(design, answers).askedPerWave[0]!)).toEqual([2]);
  });

  it("enters a distribution as its exact expected value, normalized, one generation among the others", () => {
    const answers: SyntheticAnswers = {
      id: ["a", "a", "a", "b", "b"],
      item: ["q", "q", "q", "q", "q"],
      generation: [1, 1, 2, 1, 1],
      option: [1, 2, NaN, 1, 2],
      value: [0.2, 0.6, 1, 0.5, 0.5],
    };
    // a: generation 1 is {1: 0.25, 2: 0.75} (mean 1.75), generation 2 answered 1.
    expectValues(values(answers, { kind: "mean" }), [(1.75 + 1) / 2, 1.5, NaN]);
    expectValues(values(answers, { kind: "option", code: 2 }), [(0.75 + 0) / 2, 0.5, NaN]);
  });

  it("pools a respondent's distributions when there is no generation column", () => {
    const answers = { id: ["a", "a", "a"], item: ["q", "q", "q"], option: [1, 2, 1], value: [0.5, 0.5, 1] };
    expect(values(answers, { kind: "mean" })).toEqual([1.25, NaN, NaN]);
    expect(expectedValue({ codes: [1, 2], probabilities: [0, 0] }, { kind: "mean" })).toBeNaN();
  });

  it("rejects a probability outside [0, 1] and a second answer in one generation", () => {
    expect(() => values({ source: "s.csv", id: ["a"], item: ["q"], option: [1], value: [1.5] }, { kind: "mean" })).toThrow(
      /s\.csv: row 1, column "value": expected a probability from 0 to 1 for option 1, got 1\.5/,
    );
    expect(() => values({ source: "s.csv", id: ["a", "a"], item: ["q", "q"], generation: ["g1", "g1"], value: [1, 2] }, { kind: "mean" })).toThrow(
      /s\.csv: row 2, column "generation": respondent "a" answers item "q" twice in this generation \(first on row 1\)/,
    );
    expect(() => values({ source: "s.csv", id: ["a", "a"], item: ["q", "q"], generation: ["g1", "g1"], option: [1, 1], value: [0.5, 0.5] }, { kind: "mean" })).toThrow(/twice in this generation/);
  });
});
