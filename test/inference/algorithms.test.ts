import { describe, expect, it } from "vitest";
import { calibrateSample } from "../../src/inference/algorithm.ts";
import { algorithm1, gapIntervals } from "../../src/inference/algorithm1.ts";
import { algorithm2, WeightedRanked } from "../../src/inference/algorithm2.ts";
import { algorithm4 } from "../../src/inference/algorithm4.ts";
import { algorithm5 } from "../../src/inference/algorithm5.ts";
import { applyBounds, naiveInterval, scalarSample, withoutTask, type GapSample } from "../../src/inference/bounds.ts";
import { intersectWithReal } from "../../src/inference/intersect.ts";
import { METHODS } from "../../src/inference/methods.ts";
import { kHi, kLo } from "../../src/inference/order-stats.ts";
import { biasCorrectedEstimate } from "../../src/inference/point-estimate.ts";
import { algorithm3, algorithm3Bonferroni, rectangleScores } from "../../src/inference/rectangles.ts";
import { createRng } from "../../src/simulation/random.ts";

/** qnorm(0.995) in R. */
const Z_995 = 2.5758293035489;
/** qnorm(0.9975) in R: z for a = 0.005 (α_g = 0.01 over d = 2). */
const Z_9975 = 2.807033768343811;

/** Gaps 0.01, 0.02, …, 0.24 (T = 24), every SE 0.01. */
const ladder = scalarSample(
  Array.from({ length: 24 }, (_, j) => (j + 1) / 100),
  new Array(24).fill(0.01),
);

describe("Algorithm 1", () => {
  it("computes a hand-checked interval: T = 24, α = 0.1 (α_e = 0.08 → k_lo = 1, k_hi = 24; α_g = α_s = 0.01)", () => {
    const bounds = calibrateSample(algorithm1, ladder, 0.1);
    expect(bounds.tasks).toBe(24);
    expect(bounds.lower[0]).toBeCloseTo(0.01 - Z_995 * 0.01, 12);
    expect(bounds.upper[0]).toBeCloseTo(0.24 + Z_995 * 0.01, 12);
    const out = applyBounds({ estimate: 0.5, se: 0.02 }, bounds);
    expect(out.lower).toBeCloseTo(0.5 - Z_995 * 0.02 + 0.01 - Z_995 * 0.01, 10);
    expect(out.upper).toBeCloseTo(0.5 + Z_995 * 0.02 + 0.24 + Z_995 * 0.01, 10);
    // Bias-corrected point estimate: 0.5 + mean(0.01..0.24) = 0.5 + 0.125.
    expect(out.estimate).toBeCloseTo(0.625, 14);
    expect(biasCorrectedEstimate(0.5, ladder.gap[0]!)).toBeCloseTo(0.625, 14);
  });

  it("uses interior order statistics once T is large: T = 59, α = 0.1 → k_lo = 2, k_hi = 58 at α_e = 0.08 (60·0.04 = 2.4)", () => {
    const gaps = Array.from({ length: 59 }, (_, j) => j);
    const bounds = calibrateSample(algorithm1, scalarSample(gaps), 0.1);
    expect(kLo(59, 0.08)).toBe(2);
    expect(kHi(59, 0.08)).toBe(58);
    expect([bounds.lower[0], bounds.upper[0]]).toEqual([1, 57]);
  });

  it("clips the output to the scale's range", () => {
    const bounds = calibrateSample(algorithm1, ladder, 0.1);
    const out = applyBounds({ estimate: 0.9, se: 0.02 }, bounds, 0, 0, [0, 1]);
    expect(out.upper).toBe(1);
    expect(out.estimate).toBe(1);
  });
});

describe("Algorithm 4", () => {
  it("takes Δ̂_(k_lo(α)) and Δ̂_(k_hi(α)) of the observed gaps with the point θ̃̂", () => {
    const gaps = [0.3, -0.1, 0.2, 0.05, -0.3, 0.1, 0.0, 0.15, -0.05, 0.25, 0.12, -0.2, 0.08, 0.02, -0.15, 0.18, 0.22, -0.08, 0.04];
    // T = 19, α = 0.1: (T+1)α/2 = 1 exactly → the extremes.
    const b19 = calibrateSample(algorithm4, scalarSample(gaps, new Array(19).fill(0.5)), 0.1);
    expect([b19.lower[0], b19.upper[0]]).toEqual([-0.3, 0.3]);
    expect(b19.syntheticLevel).toBeNull();
    // The synthetic SE plays no part.
    expect(applyBounds({ estimate: 0.4, se: 0.2 }, b19)).toMatchObject({ lower: 0.4 - 0.3, upper: 0.4 + 0.3 });
    // α = 0.2 on the same 19: k_lo = 2, k_hi = 18 → second smallest and second largest.
    const b = calibrateSample(algorithm4, scalarSample(gaps), 0.2);
    expect([b.lower[0], b.upper[0]]).toEqual([-0.2, 0.25]);
  });

  it("refuses fewer tasks than 2/α − 1 (T = 18 at α = 0.1)", () => {
    expect(() => calibrateSample(algorithm4, scalarSample(new Array(18).fill(0)), 0.1)).toThrow(/at least 19 historical tasks/);
  });

  it("covers exactly (k_hi − k_lo)/(T+1) of T+1 distinct tasks when each in turn is the target (Theorem 4 in finite form)", () => {
    const rng = createRng(5);
    for (const [n, alpha] of [
      [20, 0.1],
      [101, 0.1],
      [57, 0.05],
      [33, 0.2],
    ] as const) {
      const gaps = Array.from({ length: n }, () => rng.normal());
      const boundsFor = algorithm4.prepare(scalarSample(gaps), alpha, true);
      let covered = 0;
      for (let j = 0; j < n; j++) {
        const b = boundsFor(j);
        if (gaps[j]! >= b.lower[0]! && gaps[j]! <= b.upper[0]!) covered += 1;
      }
      const T = n - 1;
      expect(covered).toBe(kHi(T, alpha) - kLo(T, alpha));
    }
  });
});

describe("Algorithm 5", () => {
  it("is Algorithm 1 with the gap intervals at α_g/T", () => {
    const bounds = calibrateSample(algorithm5, ladder, 0.1);
    const { lower, upper } = gapIntervals(ladder.gap[0]!, ladder.se[0]!, 0.01 / 24);
    expect(bounds.lower[0]).toBeCloseTo(Math.min(...lower), 14);
    expect(bounds.upper[0]).toBeCloseTo(Math.max(...upper), 14);
    expect(bounds.upper[0]! - bounds.lower[0]!).toBeGreaterThan(calibrateSample(algorithm1, ladder, 0.1).upper[0]! - calibrateSample(algorithm1, ladder, 0.1).lower[0]!);
  });
});

/** The weighted quantiles straight from their definitions, scanning candidate points. */
function bruteWeightedQuantiles(values: number[], weights: number[], a: number): [number, number] {
  const W = weights.reduce((s, w) => s + w, 0);
  const p = weights.map((w) => w / (W + 1));
  const pInf = 1 / (W + 1);
  const candidates = [-Infinity, ...values, Infinity];
  const strictlyBelow = (x: number) => pInf * (x === -Infinity ? 0 : 1) + values.reduce((s, v, j) => s + (v < x ? p[j]! : 0), 0);
  const atOrBelow = (x: number) => values.reduce((s, v, j) => s + (v <= x ? p[j]! : 0), 0) + (x === Infinity ? pInf : 0);
  // The set {x : mass strictly below x ≤ a/2} is (−∞, x*]: x* is its largest candidate.
  const lower = Math.max(...candidates.filter((x) => strictlyBelow(x) <= a / 2 + 1e-12));
  const upper = Math.min(...candidates.filter((x) => atOrBelow(x) >= 1 - a / 2 - 1e-12));
  return [lower, upper];
}

describe("Algorithm 2", () => {
  it("equals Algorithm 1 exactly with unit weights, on whole-number boundaries and off them, and under leave-one-out", () => {
    const rng = createRng(8);
    for (const [T, alpha] of [
      [19, 0.2],
      [24, 0.1],
      [39, 0.1],
      [99, 0.1],
      [100, 0.1],
      [60, 0.05],
      [37, 0.3],
    ] as const) {
      const gaps = Array.from({ length: T }, () => rng.normal() * 0.1);
      const se = Array.from({ length: T }, () => 0.01 + 0.03 * rng.next());
      const plain = scalarSample(gaps, se);
      const weighted = scalarSample(gaps, se, new Array(T).fill(1));
      const a = calibrateSample(algorithm1, plain, alpha);
      const b = calibrateSample(algorithm2, weighted, alpha);
      expect([b.lower[0], b.upper[0], b.budget]).toEqual([a.lower[0], a.upper[0], a.budget]);
      expect(b.meanGap[0]).toBeCloseTo(a.meanGap[0]!, 14);
      const looA = algorithm1.prepare(plain, alpha, true);
      const looB = algorithm2.prepare(weighted, alpha, true);
      for (let j = 0; j < T; j++) {
        expect([looB(j).lower[0], looB(j).upper[0]]).toEqual([looA(j).lower[0], looA(j).upper[0]]);
      }
    }
  });

  it("finds the largest lower and the smallest upper weighted quantile, as their definitions do", () => {
    const rng = createRng(9);
    for (let trial = 0; trial < 200; trial++) {
      const n = 2 + rng.integer(25);
      const values = Array.from({ length: n }, () => Math.round(rng.normal() * 3) + 0);
      const weights = Array.from({ length: n }, () => (rng.next() < 0.2 ? 0 : rng.next() < 0.3 ? 1 : rng.next()));
      const a = 0.05 + 0.6 * rng.next();
      const ranked = new WeightedRanked(values, weights);
      const [lower, upper] = bruteWeightedQuantiles(values, weights, a);
      expect(ranked.lowerQuantile(a), `lower, trial ${trial}`).toBe(lower);
      expect(ranked.upperQuantile(a), `upper, trial ${trial}`).toBe(upper);
      const j = rng.integer(n);
      const rest = values.filter((_, i) => i !== j);
      const restW = weights.filter((_, i) => i !== j);
      const [lowerOut, upperOut] = bruteWeightedQuantiles(rest, restW, a);
      expect(ranked.lowerQuantile(a, j), `lower without ${j}, trial ${trial}`).toBe(lowerOut);
      expect(ranked.upperQuantile(a, j), `upper without ${j}, trial ${trial}`).toBe(upperOut);
    }
  });

  it("lets weights shift the bounds towards the heavily weighted tasks, but not the bias correction (SPEC: the plain mean gap)", () => {
    const gaps = Array.from({ length: 40 }, (_, j) => (j < 20 ? -0.1 : 0.1) + j / 1000);
    const favourRecent = gaps.map((_, j) => (j < 20 ? 0.2 : 1));
    const b = calibrateSample(algorithm2, scalarSample(gaps, undefined, favourRecent), 0.2);
    const flat = calibrateSample(algorithm1, scalarSample(gaps), 0.2);
    expect(b.lower[0]).toBeGreaterThan(flat.lower[0]!);
    expect(b.meanGap[0]).toBeCloseTo(gaps.reduce((s, g) => s + g, 0) / 40, 12);
  });

  it("refuses weights whose sum is too small, naming the sum", () => {
    const sample = scalarSample(new Array(40).fill(0), undefined, new Array(40).fill(0.25));
    expect(() => calibrateSample(algorithm2, sample, 0.1)).toThrow(/weights of the historical tasks sum to 10.*at least 20/);
  });
});

function vectorSample(gaps: number[][], se: number[][]): GapSample {
  return {
    size: gaps[0]!.length,
    dims: gaps.length,
    gap: gaps.map((g) => Float64Array.from(g)),
    se: se.map((s) => Float64Array.from(s)),
  };
}

describe("Algorithm 3 and its per-coordinate variant", () => {
  // 12 tasks, 2 coordinates: co-partisan gap positive, opposition negative.
  const co = [0.05, 0.08, 0.1, 0.12, 0.03, 0.07, 0.09, 0.11, 0.06, 0.04, 0.13, 0.02];
  const opp = [-0.04, -0.06, -0.02, -0.09, -0.05, -0.03, -0.07, -0.01, -0.08, -0.1, -0.05, -0.06];
  const se = [new Array(12).fill(0.01), new Array(12).fill(0.02)];
  const sample = vectorSample([co, opp], se);

  it("scores each task by the smallest rectangle holding its gap rectangle", () => {
    // α_g = 0.01 over d = 2 coordinates → z_{1 − 0.0025}.
    const scores = rectangleScores(sample, 0.01);
    expect(scores[0]).toBeCloseTo(Math.max(0.05 + Z_9975 * 0.01, 0.04 + Z_9975 * 0.02), 12);
    const scaled = rectangleScores(sample, 0.01, [1, 2]);
    expect(scaled[0]).toBeCloseTo(Math.max(0.05 + Z_9975 * 0.01, (0.04 + Z_9975 * 0.02) / 2), 12);
  });

  it("takes t̂ = r_(ceil((T+1)(1 − α_e))) and adds the synthetic rectangle at α_s/d per coordinate", () => {
    // T = 12, α = 0.1: α_e = 0.08 ≥ 1/13, index ceil(13·0.92) = 12 → the largest score.
    const bounds = calibrateSample(algorithm3, sample, 0.1);
    const scores = rectangleScores(sample, 0.01);
    expect(bounds.score).toBe(Math.max(...scores));
    expect(Array.from(bounds.lower)).toEqual([-bounds.score!, -bounds.score!]);
    expect(bounds.syntheticLevel).toBeCloseTo(0.005, 15);
    const out = applyBounds({ estimate: 0.8, se: 0.01 }, bounds, 0);
    expect(out.upper).toBeCloseTo(0.8 + Z_9975 * 0.01 + bounds.score!, 12);
  });

  it("offers the per-coordinate variant: Algorithm 1 on each coordinate at α/d", () => {
    const rect = calibrateSample(algorithm3Bonferroni, sample, 0.4);
    for (const k of [0, 1]) {
      const single = calibrateSample(algorithm1, vectorSample([[co, opp][k]!], [se[k]!]), 0.2);
      expect([rect.lower[k], rect.upper[k]]).toEqual([single.lower[0], single.upper[0]]);
    }
    // The variant follows each coordinate's own sign; the c = 0 rectangle is symmetric, so wider here.
    const joint = calibrateSample(algorithm3, sample, 0.4);
    const width = (b: typeof rect, k: number) => b.upper[k]! - b.lower[k]!;
    expect(width(joint, 1)).toBeGreaterThan(width(rect, 1));
  });
});

describe("leave-one-out without re-sorting", () => {
  it("gives, for every method and every held-out task, the bounds of calibrating on the others", () => {
    const rng = createRng(12);
    const T = 45;
    for (const method of Object.values(METHODS)) {
      const dims = method.joint ? 2 : 1;
      const sample: GapSample = {
        size: T,
        dims,
        gap: Array.from({ length: dims }, () => Float64Array.from({ length: T }, () => Math.round(rng.normal() * 20) / 100)),
        se: Array.from({ length: dims }, () => Float64Array.from({ length: T }, () => 0.01 + 0.02 * rng.next())),
        weight: Float64Array.from({ length: T }, () => 0.5 + 0.5 * rng.next()),
      };
      const fast = method.prepare(sample, 0.2, true);
      for (let j = 0; j < T; j++) {
        const slow = calibrateSample(method, withoutTask(sample, j), 0.2);
        const b = fast(j);
        expect(Array.from(b.lower), `${method.name} lower, held out ${j}`).toEqual(Array.from(slow.lower));
        expect(Array.from(b.upper), `${method.name} upper, held out ${j}`).toEqual(Array.from(slow.upper));
        for (let k = 0; k < dims; k++) expect(b.meanGap[k]).toBeCloseTo(slow.meanGap[k]!, 12);
        expect(b.budget).toEqual(slow.budget);
      }
    }
  });
});

describe("naive baseline and the section 4.4 intersection", () => {
  it("treats the synthetic estimate as real: θ̃̂ ± z·se", () => {
    expect(naiveInterval({ estimate: 0.4, se: 0.01 }, 0.01)).toEqual({ lower: 0.4 - Z_995 * 0.01, upper: 0.4 + Z_995 * 0.01 });
    expect(naiveInterval({ estimate: 0.4, se: 0 }, 0.1)).toEqual({ lower: 0.4, upper: 0.4 });
  });

  it("intersects the calibrated interval at (1 − λ)α with the real one at λα, and flags an empty intersection", () => {
    // λ = 0.5, α = 0.02: real at 0.01 → ± Z_995·se.
    const out = intersectWithReal({ lower: 0.3, upper: 0.7 }, { estimate: 0.62, se: 0.05 }, 0.02, 0.5);
    expect(out.lower).toBeCloseTo(0.62 - Z_995 * 0.05, 12);
    expect(out.upper).toBe(0.7);
    const disjoint = intersectWithReal({ lower: 0.3, upper: 0.4 }, { estimate: 0.9, se: 0.01 }, 0.02, 0.5);
    expect(disjoint.empty).toBe(true);
    expect(disjoint.lower).toBeNaN();
  });
});
