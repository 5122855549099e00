/**
 * PPI++ for a mean: the estimator against hand-computed values, and a seeded
 * simulation of paper section 4.4's setting comparing it with the interval
 * intersection (calibrated interval at (1 − λ)α ∩ real interval at λα,
 * λ = 0.5) and with the real sample alone.
 *
 * Simulation: T = 100 historical tasks as in section 5.4 (θ_j ~ U(0.2, 0.8),
 * bias N(0, 0.1²)), one target. The target has n = 100 real respondents, each
 * with a silicon twin whose answer equals the respondent's with probability
 * 0.6 and is otherwise a draw from the biased synthetic share θ̃; N = 2000
 * synthetic respondents come from the same process (their real answers
 * unseen). Coverage of θ; MC SE sqrt(α(1 − α)/R).
 */
import { describe, expect, it } from "vitest";
import { calibrateSample } from "../../src/inference/algorithm.ts";
import { applyBounds } from "../../src/inference/bounds.ts";
import { intersectWithReal } from "../../src/inference/intersect.ts";
import { METHODS } from "../../src/inference/methods.ts";
import { ppiLambda, ppiMean, ppiSummary } from "../../src/inference/ppi.ts";
import { zCritical } from "../../src/inference/quantiles.ts";
import { createRng, type Rng } from "../../src/simulation/random.ts";

describe("PPI++ for a mean", () => {
  it("matches hand computation, and λ = 0 is the real sample's own Wald interval", () => {
    // y = [1, 0, 1, 1], f = [1, 0, 0, 1], unlabeled f̃ = [1, 1, 0, 1, 0, 1]:
    // ȳ = 0.75, f̄ = 0.5, f̃̄ = 2/3; var y = 0.25, var f = 1/3, cov = 1/6, var f̃ = 4/15.
    const s = ppiSummary([1, 0, 1, 1], [1, 0, 0, 1], [1, 1, 0, 1, 0, 1]);
    expect(s.covYF).toBeCloseTo(1 / 6, 12);
    expect(s.varFUnlabeled).toBeCloseTo(4 / 15, 12);
    // λ̂ = (1/6) / ((1 + 4/6)·(1/3)) = 0.3
    expect(ppiLambda(s)).toBeCloseTo(0.3, 12);
    const out = ppiMean(s, 0.1);
    expect(out.estimate).toBeCloseTo(0.75 + 0.3 * (2 / 3 - 0.5), 12);
    const variance = (0.25 - 2 * 0.3 * (1 / 6) + 0.09 * (1 / 3)) / 4 + (0.09 * (4 / 15)) / 6;
    expect(out.se).toBeCloseTo(Math.sqrt(variance), 12);
    const plain = ppiMean(s, 0.1, 0);
    expect(plain.estimate).toBe(0.75);
    expect(plain.upper - plain.estimate).toBeCloseTo(zCritical(0.1) * Math.sqrt(0.25 / 4), 12);
    expect(ppiLambda(ppiSummary([1, 0], [1, 1], [1, 1]))).toBe(0);
  });

  it("covers ≥ 1 − α in a seeded simulation, beside the interval intersection and the real sample alone", () => {
    const R = 2000;
    const T = 100;
    const alpha = 0.1;
    const rng = createRng(2023);
    const binomialMean = (r: Rng, n: number, p: number) => r.binomial(n, p) / n;
    const tallies = { ppi: { c: 0, w: 0 }, intersection: { c: 0, w: 0 }, real: { c: 0, w: 0 } };
    for (let rep = 0; rep < R; rep++) {
      const gaps = new Float64Array(T);
      const ses = new Float64Array(T);
      for (let j = 0; j < T; j++) {
        const theta = rng.uniform(0.2, 0.8);
        const synTheta = Math.min(Math.max(theta + 0.1 * rng.normal(), 0.01), 0.99);
        const synShare = 0.6 * theta + 0.4 * synTheta;
        const real = binomialMean(rng, 500, theta);
        const syn = binomialMean(rng, 2000, synShare);
        gaps[j] = real - syn;
        ses[j] = Math.hypot(Math.sqrt((real * (1 - real)) / 500), Math.sqrt((syn * (1 - syn)) / 2000));
      }
      const theta = rng.uniform(0.2, 0.8);
      const synTheta = Math.min(Math.max(theta + 0.1 * rng.normal(), 0.01), 0.99);
      const twin = (answer: number) => (rng.next() < 0.6 ? answer : rng.next() < synTheta ? 1 : 0);
      const y = Array.from({ length: 100 }, () => (rng.next() < theta ? 1 : 0));
      const f = y.map(twin);
      const unlabeled = Array.from({ length: 2000 }, () => twin(rng.next() < theta ? 1 : 0));
      const summary = ppiSummary(y, f, unlabeled);

      const ppi = ppiMean(summary, alpha);
      const realSe = Math.sqrt(summary.varY / summary.n);
      const realHalf = zCritical(alpha) * realSe;
      const bounds = calibrateSample(METHODS.alg1, { size: T, dims: 1, gap: [gaps], se: [ses] }, alpha / 2);
      const calibrated = applyBounds({ estimate: summary.fMeanUnlabeled, se: Math.sqrt(summary.varFUnlabeled / summary.N) }, bounds, 0, 0, [0, 1]);
      const both = intersectWithReal(calibrated, { estimate: summary.yMean, se: realSe }, alpha, 0.5);
      const score = (t: { c: number; w: number }, lower: number, upper: number) => {
        if (theta >= lower && theta <= upper) t.c += 1;
        t.w += (Number.isNaN(upper - lower) ? 0 : upper - lower) / R;
      };
      score(tallies.ppi, ppi.lower, ppi.upper);
      score(tallies.intersection, both.lower, both.upper);
      score(tallies.real, summary.yMean - realHalf, summary.yMean + realHalf);
    }
    const se = Math.sqrt((alpha * (1 - alpha)) / R);
    console.log(
      Object.entries(tallies)
        .map(([name, t]) => `${name.padEnd(13)} α=0.10  coverage ${(t.c / R).toFixed(3)}  width ${t.w.toFixed(3)}  (R = ${R}, MC SE ${se.toFixed(4)})`)
        .join("\n"),
    );
    expect(tallies.ppi.c / R).toBeGreaterThanOrEqual(1 - alpha - 3 * se);
    expect(tallies.intersection.c / R).toBeGreaterThanOrEqual(1 - alpha - 3 * se);
    expect(tallies.ppi.w).toBeLessThan(tallies.real.w);
  });
});
