/**
 * Seeded coverage simulations of the paper's section 5.4 design
 * (SPEC-inference.md, last section): binary items, θ_j ~ U(0.2, 0.8),
 * b_j ~ N(0, 0.1²), θ̃_j = clip(θ_j + b_j, 0.01, 0.99), n = 500 real and
 * N = 2000 synthetic respondents, T = 100 historical tasks and one target,
 * everything redrawn in each replication.
 *
 * Asserted, for every algorithm at α ∈ {0.05, 0.1, 0.2}: coverage ≥ 1 − α
 * minus 3 Monte-Carlo standard errors, SE = sqrt(α(1 − α)/R); Algorithm 4
 * (whose target is the target's θ̂) inside [1 − α, 1 − α + 2/(T+1)] within
 * the same tolerance. The naive synthetic-only interval is reported beside
 * and must be far below nominal. Rectangles (Algorithm 3 and its
 * per-coordinate variant) on two coordinates with opposite bias means.
 */
import { describe, expect, it } from "vitest";
import { calibrateSample, type Algorithm } from "../../src/inference/algorithm.ts";
import { applyBounds, naiveInterval, type GapSample } from "../../src/inference/bounds.ts";
import { calibrate } from "../../src/inference/calibrate.ts";
import { METHODS } from "../../src/inference/methods.ts";
import type { TaskRecord } from "../../src/inference/task-record.ts";
import { createRng } from "../../src/simulation/random.ts";
import { SECTION_54, simulateSection54, type BinaryTasks } from "../../src/simulation/tasks.ts";

const T = 100;
const ALPHAS = [0.05, 0.1, 0.2];
const UNIT: [number, number] = [0, 1];

function mcSe(alpha: number, replications: number): number {
  return Math.sqrt((alpha * (1 - alpha)) / replications);
}

function gapSample(tasks: BinaryTasks, count: number, weights?: Float64Array): GapSample {
  const gap = new Float64Array(count);
  const se = new Float64Array(count);
  for (let j = 0; j < count; j++) {
    gap[j] = tasks.realEst[j]! - tasks.synEst[j]!;
    se[j] = Math.hypot(tasks.realSe[j]!, tasks.synSe[j]!);
  }
  return { size: count, dims: 1, gap: [gap], se: [se], ...(weights === undefined ? {} : { weight: weights }) };
}

interface Tally {
  covered: number;
  width: number;
}

const rows: string[] = [];
const report = (label: string, alpha: number, replications: number, t: Tally, naive?: Tally) =>
  rows.push(
    `${label.padEnd(16)} α=${alpha.toFixed(2)}  coverage ${(t.covered / replications).toFixed(3)}  width ${(t.width / replications).toFixed(3)}` +
      (naive === undefined ? "" : `   naive coverage ${(naive.covered / replications).toFixed(3)}  width ${(naive.width / replications).toFixed(3)}`) +
      `   (R = ${replications}, MC SE ${mcSe(alpha, replications).toFixed(4)})`,
  );

describe("coverage in the section 5.4 design (seeded)", () => {
  it("holds ≥ 1 − α for Algorithms 1, 2, 4, 5 and keeps Algorithm 4 in its band; naive far below", () => {
    const R = 10_000;
    const rng = createRng(54);
    const scalar: Algorithm[] = [METHODS.alg1, METHODS.alg2, METHODS.alg4, METHODS.alg5];
    const tally = new Map<string, Tally>();
    const add = (key: string, covered: boolean, width: number) => {
      const t = tally.get(key) ?? { covered: 0, width: 0 };
      t.covered += covered ? 1 : 0;
      t.width += width;
      tally.set(key, t);
    };
    for (let r = 0; r < R; r++) {
      const tasks = simulateSection54(rng, T + 1);
      // Algorithm 2's weights: fixed before looking at any outcome.
      const weights = Float64Array.from({ length: T }, () => rng.uniform(0.5, 1));
      const plain = gapSample(tasks, T);
      const weighted = gapSample(tasks, T, weights);
      const target = { estimate: tasks.synEst[T]!, se: tasks.synSe[T]! };
      const theta = tasks.theta[T]!;
      const thetaHat = tasks.realEst[T]!;
      for (const alpha of ALPHAS) {
        for (const algorithm of scalar) {
          const bounds = calibrateSample(algorithm, algorithm.weighted ? weighted : plain, alpha);
          const out = applyBounds(target, bounds, 0, 0, UNIT);
          const truth = algorithm.finiteSample ? thetaHat : theta;
          add(`${algorithm.name}/${alpha}`, truth >= out.lower && truth <= out.upper, out.upper - out.lower);
        }
        const naive = naiveInterval(target, alpha, UNIT);
        add(`naive/${alpha}`, theta >= naive.lower && theta <= naive.upper, naive.upper - naive.lower);
      }
    }
    for (const alpha of ALPHAS) {
      const tolerance = 3 * mcSe(alpha, R);
      const naive = tally.get(`naive/${alpha}`)!;
      for (const algorithm of scalar) {
        const t = tally.get(`${algorithm.name}/${alpha}`)!;
        report(algorithm.name, alpha, R, t, naive);
        const coverage = t.covered / R;
        expect(coverage, `${algorithm.name} at α = ${alpha}`).toBeGreaterThanOrEqual(1 - alpha - tolerance);
        if (algorithm.finiteSample) expect(coverage, `alg4 band at α = ${alpha}`).toBeLessThanOrEqual(1 - alpha + 2 / (T + 1) + tolerance);
      }
      expect(naive.covered / R, `naive at α = ${alpha}`).toBeLessThan(0.5);
    }
  });

  it("holds joint coverage ≥ 1 − α for rectangles (Algorithm 3, per-coordinate variant, fitted centre and scales)", () => {
    const R = 4000;
    const rng = createRng(55);
    const designs = [
      { ...SECTION_54, biasMean: 0.05 },
      { ...SECTION_54, biasMean: -0.05 },
    ];
    const tally = new Map<string, Tally>();
    for (let r = 0; r < R; r++) {
      const coords = designs.map((design) => simulateSection54(rng, T + 1, design));
      const samples = coords.map((c) => gapSample(c, T));
      const sample: GapSample = { size: T, dims: 2, gap: samples.map((s) => s.gap[0]!), se: samples.map((s) => s.se[0]!) };
      for (const alpha of ALPHAS) {
        for (const algorithm of [METHODS.alg3, METHODS["alg3-bonferroni"], METHODS["alg3-fitted"]]) {
          const bounds = calibrateSample(algorithm, sample, alpha);
          let covered = true;
          let width = 0;
          coords.forEach((c, k) => {
            const out = applyBounds({ estimate: c.synEst[T]!, se: c.synSe[T]! }, bounds, k, 0, UNIT);
            covered &&= c.theta[T]! >= out.lower && c.theta[T]! <= out.upper;
            width += (out.upper - out.lower) / 2;
          });
          const t = tally.get(`${algorithm.name}/${alpha}`) ?? { covered: 0, width: 0 };
          t.covered += covered ? 1 : 0;
          t.width += width;
          tally.set(`${algorithm.name}/${alpha}`, t);
        }
        let naiveCovered = true;
        let naiveWidth = 0;
        for (const c of coords) {
          const n = naiveInterval({ estimate: c.synEst[T]!, se: c.synSe[T]! }, alpha / 2, UNIT);
          naiveCovered &&= c.theta[T]! >= n.lower && c.theta[T]! <= n.upper;
          naiveWidth += (n.upper - n.lower) / 2;
        }
        const t = tally.get(`naive2/${alpha}`) ?? { covered: 0, width: 0 };
        t.covered += naiveCovered ? 1 : 0;
        t.width += naiveWidth;
        tally.set(`naive2/${alpha}`, t);
      }
    }
    for (const alpha of ALPHAS) {
      const naive = tally.get(`naive2/${alpha}`)!;
      for (const name of ["alg3", "alg3-bonferroni", "alg3-fitted"]) {
        const t = tally.get(`${name}/${alpha}`)!;
        report(name, alpha, R, t, naive);
        expect(t.covered / R, `${name} at α = ${alpha}`).toBeGreaterThanOrEqual(1 - alpha - 3 * mcSe(alpha, R));
      }
      expect(naive.covered / R).toBeLessThan(0.2);
    }
  });

  it("keeps coverage with regression adjustment and Mondrian strata (through calibrate), and adjustment narrows", () => {
    // Section 5.4 with a gap that depends on the synthetic estimate (the LLM exaggerates):
    // b_j = 0.1 − 0.4(θ_j − 0.5) + N(0, 0.05²), two strata with different bias means.
    const R = 2000;
    const alpha = 0.1;
    const rng = createRng(56);
    const tallies = { adjusted: { covered: 0, width: 0 }, plain: { covered: 0, width: 0 }, strata: { covered: 0, width: 0 } };
    for (let r = 0; r < R; r++) {
      const rows: TaskRecord[] = [];
      for (let j = 0; j <= 2 * T; j++) {
        const theta = rng.uniform(0.2, 0.8);
        const stratum = j % 2 === 0 ? "a" : "b";
        const bias = (stratum === "a" ? 0.1 : 0) - 0.4 * (theta - 0.5) + 0.05 * rng.normal();
        const thetaTilde = Math.min(Math.max(theta + bias, 0.01), 0.99);
        const real = rng.binomial(500, theta) / 500;
        const syn = rng.binomial(2000, thetaTilde) / 2000;
        rows.push({ task: `t${j}`, model: "m", subgroup: stratum, real_est: real, real_se: Math.sqrt((real * (1 - real)) / 500), syn_est: syn, syn_se: Math.sqrt((syn * (1 - syn)) / 2000), extra: {} });
      }
      const target = rows.pop()!;
      const check = (tally: Tally, options: Parameters<typeof calibrate>[2]) => {
        const out = calibrate(rows, [target], options).intervals[0]!;
        tally.covered += target.real_est! >= out.lower && target.real_est! <= out.upper ? 1 : 0;
        tally.width += out.upper - out.lower;
      };
      check(tallies.plain, { method: "alg4", alpha, range: UNIT });
      check(tallies.adjusted, { method: "alg4", alpha, range: UNIT, adjust: { mode: "split", splitBy: "task", features: ["syn_est", "subgroup"], ridge: 1, seed: r } });
      check(tallies.strata, { method: "alg4", alpha, range: UNIT, strata: ["subgroup"] });
    }
    for (const [name, t] of Object.entries(tallies)) {
      report(`alg4 ${name}`, alpha, R, t);
      expect(t.covered / R, name).toBeGreaterThanOrEqual(1 - alpha - 3 * mcSe(alpha, R));
    }
    expect(tallies.adjusted.width).toBeLessThan(0.8 * tallies.plain.width);
    console.log(rows.join("\n"));
  });
});
