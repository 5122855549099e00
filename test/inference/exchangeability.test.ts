/**
 * The exchangeability diagnostics' false-alarm rate and power, measured by
 * seeded simulation. Gaps (in points) = item×subgroup effect + wave shock +
 * drift × wave + task noise; tasks of a wave share its shock. Each rate over
 * R replications is asserted within 3 Monte-Carlo SEs (sqrt(p(1 − p)/R)) of
 * what it must be.
 */
import { describe, expect, it } from "vitest";
import { exchangeabilityDiagnostics } from "../../src/evaluation/diagnostics.ts";
import { heterogeneityTest, trendTest } from "../../src/inference/exchangeability.ts";
import { tCdf } from "../../src/inference/quantiles.ts";
import type { TaskRecord } from "../../src/inference/task-record.ts";
import { createRng, type Rng } from "../../src/simulation/random.ts";

interface Scenario {
  waves: number;
  /** items × subgroups per wave. */
  perWave: number;
  /** SD of the fixed item×subgroup effects, of the wave shocks, of the task noise. */
  itemSd: number;
  shockSd: number;
  noiseSd: number;
  drift: number;
}

const BASE: Scenario = { waves: 5, perWave: 50, itemSd: 4, shockSd: 0, noiseSd: 6, drift: 0 };

function simulate(rng: Rng, s: Scenario): { gaps: Float64Array; wave: Int32Array; within: Int32Array } {
  const effects = Array.from({ length: s.perWave }, () => s.itemSd * rng.normal());
  const n = s.waves * s.perWave;
  const gaps = new Float64Array(n);
  const wave = new Int32Array(n);
  const within = new Int32Array(n);
  for (let w = 0; w < s.waves; w++) {
    const shock = s.shockSd * rng.normal();
    for (let j = 0; j < s.perWave; j++) {
      const i = w * s.perWave + j;
      gaps[i] = effects[j]! + shock + s.drift * w + s.noiseSd * rng.normal();
      wave[i] = w;
      within[i] = j;
    }
  }
  return { gaps, wave, within };
}

/** The naive test this module avoids: task gaps regressed on the wave index, t on T − 2 df. */
function naiveTaskRegressionP(gaps: Float64Array, wave: Int32Array): number {
  const n = gaps.length;
  let xBar = 0;
  let yBar = 0;
  for (let i = 0; i < n; i++) {
    xBar += wave[i]! / n;
    yBar += gaps[i]! / n;
  }
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (wave[i]! - xBar) ** 2;
    sxy += (wave[i]! - xBar) * (gaps[i]! - yBar);
  }
  const slope = sxy / sxx;
  let rss = 0;
  for (let i = 0; i < n; i++) rss += (gaps[i]! - yBar - slope * (wave[i]! - xBar)) ** 2;
  const t = slope / Math.sqrt(rss / (n - 2) / sxx);
  return 2 * (1 - tCdf(Math.abs(t), n - 2));
}

function rate(replications: number, seed: number, reject: (rng: Rng) => boolean): number {
  const rng = createRng(seed);
  let count = 0;
  for (let r = 0; r < replications; r++) if (reject(rng)) count += 1;
  return count / replications;
}

const mcSe = (p: number, r: number) => Math.sqrt((p * (1 - p)) / r);

describe("trend test across waves", () => {
  it("fits the slope of the wave means exactly and tests it on W − 2 df", () => {
    // Means 1, 2, 4 over ranks 0..2: slope 1.5, residuals ±1/6, se = sqrt((1/6)/1/2).
    const result = trendTest([1, 1, 2, 2, 4], [0, 0, 1, 1, 2])!;
    expect(result.slope).toBeCloseTo(1.5, 12);
    expect(result.df).toBe(1);
    expect(result.se).toBeCloseTo(Math.sqrt(1 / 6 / 2), 12);
    expect(result.p).toBeCloseTo(2 * (1 - tCdf(1.5 / Math.sqrt(1 / 12), 1)), 12);
    expect(trendTest([1, 2], [0, 1])).toBeUndefined();
  });

  it("keeps its false-alarm rate with wave shocks, where a regression on tasks over-rejects (R = 2000)", () => {
    const R = 2000;
    const shocks = { ...BASE, shockSd: 2 };
    const ours = rate(R, 1, (rng) => trendTest(...pick(simulate(rng, shocks)))!.p <= 0.05);
    const naive = rate(R, 1, (rng) => naiveTaskRegressionP(...pick(simulate(rng, shocks))) <= 0.05);
    const few = rate(R, 2, (rng) => trendTest(...pick(simulate(rng, { ...shocks, waves: 3 })))!.p <= 0.05);
    console.log(`trend false-alarm at 0.05: wave means ${ours} (5 waves), ${few} (3 waves); regression on tasks ${naive}`);
    expect(Math.abs(ours - 0.05)).toBeLessThanOrEqual(3 * mcSe(0.05, R));
    expect(Math.abs(few - 0.05)).toBeLessThanOrEqual(3 * mcSe(0.05, R));
    expect(naive).toBeGreaterThan(0.3);
  });

  it("detects the issue's drift, +2.5 points a wave with gap SD 6, with and without wave shocks (R = 2000)", () => {
    const R = 2000;
    const drifting = { ...BASE, drift: 2.5 };
    const power = rate(R, 3, (rng) => trendTest(...pick(simulate(rng, drifting)))!.p <= 0.05);
    const powerFew = rate(R, 4, (rng) => trendTest(...pick(simulate(rng, { ...drifting, waves: 3 })))!.p <= 0.05);
    const shocked = rate(R, 5, (rng) => trendTest(...pick(simulate(rng, { ...drifting, shockSd: 2 })))!.p <= 0.05);
    console.log(`trend power at 0.05, drift 2.5 points a wave: ${power} (5 waves), ${powerFew} (3 waves); with wave shocks SD 2: ${shocked} (5 waves)`);
    expect(power).toBeGreaterThanOrEqual(0.95);
    // Three wave means leave one degree of freedom (t must pass 12.7): the price of a test that
    // stays valid when waves share shocks. The heterogeneity test catches such drift (below).
    expect(powerFew).toBeGreaterThanOrEqual(0.15);
    // Shocks the size of a third of the task noise leave 5 wave means much less to go on: the honest price of few waves.
    expect(shocked).toBeGreaterThanOrEqual(0.5);
  });
});

describe("heterogeneity test between waves", () => {
  it("keeps its false-alarm rate under exchangeability, item effects and all (R = 1000, 199 permutations)", () => {
    const R = 1000;
    const alarms = rate(R, 5, (rng) => {
      const { gaps, wave, within } = simulate(rng, BASE);
      return heterogeneityTest(gaps, wave, rng.next, { permutations: 199, within })!.p <= 0.05;
    });
    console.log(`heterogeneity false-alarm at 0.05 (no shocks): ${alarms}`);
    expect(Math.abs(alarms - 0.05)).toBeLessThanOrEqual(3 * mcSe(0.05, R));
  });

  it("detects wave shocks of a third of the task noise (R = 500)", () => {
    const R = 500;
    const power = rate(R, 6, (rng) => {
      const { gaps, wave, within } = simulate(rng, { ...BASE, shockSd: 2 });
      return heterogeneityTest(gaps, wave, rng.next, { permutations: 199, within })!.p <= 0.05;
    });
    console.log(`heterogeneity power at 0.05, shocks SD 2 vs noise SD 6: ${power}`);
    expect(power).toBeGreaterThanOrEqual(0.8);
  });

  it("counts the observed split among the permutations: p is never below 1/(R + 1)", () => {
    const rng = createRng(7);
    const gaps = [0, 0, 0, 10, 10, 10];
    const test = heterogeneityTest(gaps, [0, 0, 0, 1, 1, 1], rng.next, { permutations: 99 })!;
    expect(test.p).toBeGreaterThanOrEqual(1 / 100);
    expect(test.means).toEqual([0, 10]);
    expect(heterogeneityTest([1, 2], [0, 0], rng.next)).toBeUndefined();
  });
});

function table(rng: Rng, s: Scenario, models: string[]): TaskRecord[] {
  return models.flatMap((model) => {
    const { gaps, wave, within } = simulate(rng, s);
    return Array.from(gaps, (gap, i) => ({
      task: `t${i}`,
      model,
      group: `W${wave[i]! + 1}`,
      item: `q${within[i]! % 10}`,
      subgroup: `s${Math.floor(within[i]! / 10)}`,
      real_est: 50 + gap,
      syn_est: 50,
      syn_se: 1,
      extra: {},
    }));
  });
}

describe("diagnostics on tasks tables", () => {
  it("flags a drifting table with direction and size, and not a flat one", () => {
    const rng = createRng(8);
    const drifting = exchangeabilityDiagnostics(table(rng, { ...BASE, drift: 2.5 }, ["m"]), { range: [0, 100] });
    expect(drifting.warnings).toHaveLength(2);
    expect(drifting.warnings.some((w) => /^model m: the gap grows 2\.\d points a wave over 5 waves \(p [<=] 0\.0\d+\): history may not be exchangeable/.test(w))).toBe(true);
    expect(drifting.pools[0]!.trend!.flagged).toBe(true);
    const flat = exchangeabilityDiagnostics(table(rng, BASE, ["m"]), { range: [0, 100] });
    expect(flat.warnings).toEqual([]);
    expect(flat.tests).toBe(2);
    expect(flat.per_test_level).toBe(0.025);
  });

  it("flags drift over only three waves through the heterogeneity test (R = 200)", () => {
    const R = 200;
    const flagged = rate(R, 11, (sim) => exchangeabilityDiagnostics(table(sim, { ...BASE, waves: 3, drift: 2.5 }, ["m"]), { permutations: 199 }).warnings.length > 0);
    console.log(`diagnostics power (either test, Bonferroni at 0.05), drift 2.5 points a wave over 3 waves: ${flagged}`);
    expect(flagged).toBeGreaterThanOrEqual(0.9);
  });

  it("holds the family-wise false-alarm rate over models and tests on flat tables (R = 300)", () => {
    const R = 300;
    const rng = createRng(9);
    const alarms = rate(R, 10, (sim) => exchangeabilityDiagnostics(table(sim, BASE, ["a", "b", "c"]), { permutations: 199, seed: Math.floor(rng.next() * 1e9) }).warnings.length > 0);
    console.log(`family-wise false-alarm (3 models × 2 tests, Bonferroni at 0.05): ${alarms}`);
    expect(alarms).toBeLessThanOrEqual(0.05 + 3 * mcSe(0.05, R));
  });
});

function pick({ gaps, wave }: { gaps: Float64Array; wave: Int32Array }): [Float64Array, Int32Array] {
  return [gaps, wave];
}
