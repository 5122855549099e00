import normalCdf from "@stdlib/stats-base-dists-normal-cdf";
import { describe, expect, it } from "vitest";
import {
  discrete,
  distributionMean,
  heapedScale,
  logistic,
  orderedLogit,
  sample,
  softmax,
  temper,
} from "../../src/simulation/distribution.ts";

const Phi = (x: number) => normalCdf(x, 0, 1);

function probs(d: ReturnType<typeof discrete>): number[] {
  if (d.kind !== "discrete") throw new Error("expected discrete");
  return Array.from(d.probs);
}

describe("answer distributions", () => {
  it("heapedScale: rounded, clipped normal mixed with rounding to the heaping grid", () => {
    const d = heapedScale(50, 10, 0, 100, 5, 0.6);
    const p = probs(d);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // P(50) = 0.4·[Φ(0.05) − Φ(−0.05)] + 0.6·[Φ(0.25) − Φ(−0.25)]
    expect(p[50]).toBeCloseTo(0.4 * (Phi(0.05) - Phi(-0.05)) + 0.6 * (Phi(0.25) - Phi(-0.25)), 12);
    // A value off the grid only gets the unheaped share: P(51) = 0.4·[Φ(0.15) − Φ(0.05)]
    expect(p[51]).toBeCloseTo(0.4 * (Phi(0.15) - Phi(0.05)), 12);
    // The ends collect the censored tails: P(100) = 0.4·[1 − Φ(4.95)] + 0.6·[1 − Φ(4.75)]
    expect(p[100]).toBeCloseTo(0.4 * (1 - Phi(4.95)) + 0.6 * (1 - Phi(4.75)), 15);
    expect(distributionMean(d)).toBeCloseTo(50, 9);
  });

  it("heapedScale near a bound piles mass at the bound", () => {
    const d = heapedScale(-5, 10, 0, 100, 5, 0);
    expect(probs(d)[0]).toBeCloseTo(Phi(0.55), 12);
  });

  it("orderedLogit: cumulative logits with a dispersion scale", () => {
    const d = orderedLogit([1, 2, 3], 0.5, [-1, 1], 0.5);
    const p = probs(d);
    expect(p[0]).toBeCloseTo(logistic((-1 - 0.5) / 0.5), 14);
    expect(p[1]).toBeCloseTo(logistic((1 - 0.5) / 0.5) - logistic(-3), 14);
    expect(p[2]).toBeCloseTo(1 - logistic(1), 14);
  });

  it("softmax over options", () => {
    const p = probs(softmax([1, 2, 3], [0, Math.log(2), Math.log(3)], 1));
    expect(p[0]).toBeCloseTo(1 / 6, 14);
    expect(p[2]).toBeCloseTo(3 / 6, 14);
    expect(probs(softmax([1, 2], [0, Math.log(2)], 0.5))[1]).toBeCloseTo(4 / 5, 14);
  });

  it("temperature: p^(1/T), the mode at T = 0, unchanged at T = 1", () => {
    const d = discrete([1, 2, 3], [0.2, 0.5, 0.3]);
    expect(temper(d, 1)).toBe(d);
    expect(probs(temper(d, 0.5))).toEqual([0.04 / 0.38, 0.25 / 0.38, 0.09 / 0.38].map((x) => expect.closeTo(x, 14)));
    expect(probs(temper(d, 0))).toEqual([0, 1, 0]);
    const c = temper({ kind: "continuous", mean: 0, sd: 2, min: -10, max: 10, decimals: 1 }, 0.25);
    expect(c).toMatchObject({ sd: 1 });
  });

  it("sample inverts the CDF", () => {
    const d = discrete([10, 20, 30], [0.25, 0.5, 0.25]);
    expect(sample(d, 0.2499)).toBe(10);
    expect(sample(d, 0.25)).toBe(20);
    expect(sample(d, 0.7499)).toBe(20);
    expect(sample(d, 0.9999)).toBe(30);
    const c = { kind: "continuous" as const, mean: 5, sd: 1, min: 0, max: 6, decimals: 2 };
    expect(sample(c, 0.5)).toBe(5);
    expect(sample(c, 0.999999)).toBe(6); // clipped
  });

  it("the mean of a censored normal matches numerical integration", () => {
    const c = { kind: "continuous" as const, mean: 1, sd: 2, min: 0, max: 3, decimals: 3 };
    let integral = 0;
    const steps = 200_000;
    for (let i = 0; i < steps; i++) {
      const u = (i + 0.5) / steps;
      integral += sample({ ...c, decimals: 12 }, u);
    }
    expect(distributionMean(c)).toBeCloseTo(integral / steps, 4);
  });
});
