/**
 * The estimands on ../fixtures/r-survey (R survey 4.1, quoted in that
 * folder's README): every number of expected.json, to 1e-6 relative, from
 * the core API the pipeline will call.
 */
import { describe, expect, it } from "vitest";
import { surveyDesign } from "../../src/estimands/design.ts";
import { parseSubgroupSpecs } from "../../src/estimands/domains.ts";
import { estimateTasks } from "../../src/estimands/estimate.ts";
import type { SyntheticAnswers } from "../../src/estimands/answers.ts";
import { pairedGap, clusterAverages } from "../../src/inference/survey.ts";
import { loadExpected, loadGenerations, loadRespondents, relativeError } from "../helpers/r-survey-fixture.ts";

const respondents = loadRespondents();
const generations = loadGenerations();
const expected = loadExpected();

function expectClose(actual: number | undefined, wanted: number): void {
  expect(actual).toBeDefined();
  expect(relativeError(actual!, wanted), `${actual} vs R ${wanted}`).toBeLessThan(1e-6);
}

const design = surveyDesign({
  source: "respondents.csv",
  id: respondents.map((r) => r.id),
  weight: respondents.map((r) => r.weight),
  attributes: { party: respondents.map((r) => r.party), region: respondents.map((r) => r.region) },
  answers: { therm: respondents.map((r) => r.therm), approve: respondents.map((r) => r.approve) },
});

const long: SyntheticAnswers = {
  source: "synthetic.csv",
  id: generations.flatMap((g) => [g.id, g.id]),
  item: generations.flatMap(() => ["therm", "approve"]),
  value: generations.flatMap((g) => [g.therm, g.approve]),
  generation: generations.flatMap((g) => [g.generation, g.generation]),
};

const { tasks, warnings } = estimateTasks(design, long, { items: ["therm", "approve"], by: parseSubgroupSpecs("all,party,party+region") });
const byId = new Map(tasks.map((t) => [t.task, t]));

describe("estimateTasks on the R survey fixture", () => {
  it("makes one task per item and level, none dropped", () => {
    // 2 items × (1 + 3 + 12) levels
    expect(tasks).toHaveLength(32);
    expect(warnings).toEqual([]);
    expect(tasks.slice(0, 5).map((t) => t.task)).toEqual([
      "therm|all",
      "therm|party=Democrat",
      "therm|party=Independent",
      "therm|party=Republican",
      "therm|party=Democrat+region=Midwest",
    ]);
  });

  it("reproduces svymean over everyone", () => {
    const row = byId.get("therm|all")!;
    expectClose(row.real_est, expected.real_therm_overall.est);
    expectClose(row.real_se, expected.real_therm_overall.se);
    expect(row.real_n).toBe(1500);
  });

  it("reproduces svyby real estimates by party and by party+region", () => {
    for (const [party, want] of Object.entries(expected.real_therm_by_party)) {
      const row = byId.get(`therm|party=${party}`)!;
      expectClose(row.real_est, want.est);
      expectClose(row.real_se, want.se);
    }
    for (const [key, want] of Object.entries(expected.real_approve_by_party_region)) {
      const [party, region] = key.split("|");
      const row = byId.get(`approve|party=${party}+region=${region}`)!;
      expectClose(row.real_est, want.est);
      expectClose(row.real_se, want.se);
    }
  });

  it("reproduces the clustered synthetic estimates (ids = ~id, weights w/k)", () => {
    for (const [party, want] of Object.entries(expected.syn_therm_by_party_clustered)) {
      const row = byId.get(`therm|party=${party}`)!;
      expectClose(row.syn_est, want.est);
      expectClose(row.syn_se, want.se);
      expect(row.syn_n).toBe(respondents.filter((r) => r.party === party).length);
    }
  });

  it("reproduces the paired gap SEs (svycontrast on twins)", () => {
    for (const [party, want] of Object.entries(expected.paired_gap_therm_by_party)) {
      const row = byId.get(`therm|party=${party}`)!;
      expectClose(row.real_est! - row.syn_est, want.est);
      expectClose(row.gap_se, want.se);
    }
  });

  it("gives the same paired SE as pairedGap on every task of the fixture", () => {
    const index = new Map(respondents.map((r, i) => [r.id, i]));
    const cluster = generations.map((g) => index.get(g.id)!);
    for (const item of ["therm", "approve"] as const) {
      const syn = clusterAverages(cluster, generations.map((g) => g[item]), respondents.length).mean;
      const real = respondents.map((r) => r[item]);
      for (const region of ["Midwest", "South"]) {
        const domain = respondents.map((r) => r.party === "Independent" && r.region === region);
        const want = pairedGap(real, syn, respondents.map((r) => r.weight), domain);
        const row = byId.get(`${item}|party=Independent+region=${region}`)!;
        expect(relativeError(row.gap_se!, want.se)).toBeLessThan(1e-9);
      }
    }
  });
});
