/**
 * Every number in ../fixtures/r-survey/expected.json (R survey 4.1) to 1e-6
 * relative. The R calls are quoted in that folder's README.
 */
import { describe, expect, it } from "vitest";
import {
  clusterAverages,
  independentGap,
  logitInterval,
  pairedGap,
  waldInterval,
  weightedMean,
} from "../../src/inference/survey.ts";
import { loadExpected, loadGenerations, loadRespondents, relativeError } from "../helpers/r-survey-fixture.ts";

const respondents = loadRespondents();
const generations = loadGenerations();
const expected = loadExpected();
const weights = respondents.map((r) => r.weight);
const TOLERANCE = 1e-6;

function expectClose(actual: number, wanted: number): void {
  expect(relativeError(actual, wanted), `${actual} vs R ${wanted}`).toBeLessThan(TOLERANCE);
}

const indexOf = new Map(respondents.map((r, i) => [r.id, i]));
const cluster = generations.map((g) => indexOf.get(g.id)!);
const synTherm = clusterAverages(cluster, generations.map((g) => g.therm), respondents.length);

describe("weighted means against R survey", () => {
  it("reproduces svymean(~therm) over everyone", () => {
    const result = weightedMean(respondents.map((r) => r.therm), weights);
    expectClose(result.estimate, expected.real_therm_overall.est);
    expectClose(result.se, expected.real_therm_overall.se);
    expect(result.n).toBe(1500);
  });

  it("reproduces svyby(~therm, ~party) as domain estimates over the full n", () => {
    for (const [party, want] of Object.entries(expected.real_therm_by_party)) {
      const result = weightedMean(respondents.map((r) => r.therm), weights, respondents.map((r) => r.party === party));
      expectClose(result.estimate, want.est);
      expectClose(result.se, want.se);
    }
  });

  it("differs from plain subsetting (which would use the domain's n)", () => {
    const party = "Democrat";
    const inside = respondents.filter((r) => r.party === party);
    const subset = weightedMean(inside.map((r) => r.therm), inside.map((r) => r.weight));
    const want = expected.real_therm_by_party[party]!;
    expect(relativeError(subset.se, want.se)).toBeGreaterThan(1e-4);
  });

  it("reproduces svyby(~approve, ~party+region) proportions", () => {
    const table = expected.real_approve_by_party_region;
    expect(Object.keys(table)).toHaveLength(12);
    for (const [key, want] of Object.entries(table)) {
      const [party, region] = key.split("|");
      const domain = respondents.map((r) => r.party === party && r.region === region);
      const result = weightedMean(respondents.map((r) => r.approve), weights, domain);
      expectClose(result.estimate, want.est);
      expectClose(result.se, want.se);
    }
  });

  it("reproduces svyciprop(method = 'logit', level = 0.9) for Independents", () => {
    const domain = respondents.map((r) => r.party === "Independent");
    const result = weightedMean(respondents.map((r) => r.approve), weights, domain);
    const want = expected.real_approve_independent_logit90;
    expectClose(result.estimate, want.est);
    const interval = logitInterval(result.estimate, result.se, 0.1, result.n - 1);
    expectClose(interval.lower, want.lo);
    expectClose(interval.upper, want.hi);
  });

  it("clusters generations by respondent (svydesign(ids = ~id), weights w/k)", () => {
    for (const [party, want] of Object.entries(expected.syn_therm_by_party_clustered)) {
      const result = weightedMean(synTherm.mean, weights, respondents.map((r) => r.party === party));
      expectClose(result.estimate, want.est);
      expectClose(result.se, want.se);
    }
  });

  it("matches the explicit w_i/k_i generation weighting for the estimate", () => {
    const party = "Republican";
    let num = 0;
    let den = 0;
    for (const g of generations) {
      const i = indexOf.get(g.id)!;
      if (respondents[i]!.party !== party) continue;
      const w = respondents[i]!.weight / synTherm.count[i]!;
      num += w * g.therm;
      den += w;
    }
    expectClose(num / den, expected.syn_therm_by_party_clustered[party]!.est);
  });

  it("reproduces paired gap SEs (svycontrast on twins)", () => {
    const therm = respondents.map((r) => r.therm);
    const paired = Array.from(synTherm.count).filter((k) => k > 0).length;
    expect(paired).toBe(expected.n_paired);
    for (const [party, want] of Object.entries(expected.paired_gap_therm_by_party)) {
      const result = pairedGap(therm, synTherm.mean, weights, respondents.map((r) => r.party === party));
      expectClose(result.estimate, want.est);
      expectClose(result.se, want.se);
    }
  });

  it("gives the paired and the independent gap the same estimate (the SEs differ by the twins' covariance)", () => {
    // Their SEs are checked against R above and by simulation in test/estimands/gap.test.ts;
    // in this fixture the twins are barely correlated, so the two SEs are close.
    const party = "Democrat";
    const domain = respondents.map((r) => r.party === party);
    const real = weightedMean(respondents.map((r) => r.therm), weights, domain);
    const syn = weightedMean(synTherm.mean, weights, domain);
    const paired = pairedGap(respondents.map((r) => r.therm), synTherm.mean, weights, domain);
    expect(independentGap(real, syn).estimate).toBeCloseTo(paired.estimate, 10);
    expect(paired.estimate).toBeCloseTo(real.estimate - syn.estimate, 10);
  });
});

describe("intervals", () => {
  it("clips Wald intervals to the scale", () => {
    expect(waldInterval(0.98, 0.05, 0.05, [0, 1])).toEqual({ lower: 0.98 - 1.959963984540054 * 0.05, upper: 1 });
  });

  it("treats NaN values as missing but keeps them in the design's n", () => {
    const full = weightedMean([1, 2, 3, 4], [1, 1, 1, 1], [true, true, false, false]);
    const withMissing = weightedMean([1, 2, NaN, 4], [1, 1, 1, 1], [true, true, true, false]);
    expect(withMissing).toEqual(full);
  });
});
