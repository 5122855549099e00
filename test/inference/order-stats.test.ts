import { describe, expect, it } from "vitest";
import { kHi, kLo, kOneSided, orderStatistic, RankedSample } from "../../src/inference/order-stats.ts";
import { createRng } from "../../src/simulation/random.ts";

describe("index rules with the 1e-9 tolerance", () => {
  it("gives the exact boundaries where (T+1)·α/2 is a whole number", () => {
    expect([kLo(19, 0.1), kHi(19, 0.1)]).toEqual([1, 19]);
    expect([kLo(39, 0.1), kHi(39, 0.1)]).toEqual([2, 38]);
    expect([kLo(99, 0.1), kHi(99, 0.1)]).toEqual([5, 95]);
    expect([kLo(199, 0.05), kHi(199, 0.05)]).toEqual([5, 195]);
    expect([kLo(9, 0.2), kHi(9, 0.2)]).toEqual([1, 9]);
    expect([kLo(100, 0.1), kHi(100, 0.1)]).toEqual([5, 96]);
    expect(kOneSided(9, 0.1)).toBe(9);
  });

  it("does not let floating error move an index where the product is whole in exact arithmetic", () => {
    // In doubles 200·0.29/2 = 28.999999999999996 and 150·(1 − 0.36/2) = 123.00000000000001.
    expect((200 * 0.29) / 2).toBeLessThan(29);
    expect(kLo(199, 0.29)).toBe(29);
    expect(150 * (1 - 0.36 / 2)).toBeGreaterThan(123);
    expect(kHi(149, 0.36)).toBe(123);
    expect(kLo(99, 0.58)).toBe(29);
    expect(10 * (1 - 0.7)).toBeGreaterThan(3);
    expect(kOneSided(9, 0.7)).toBe(3);
  });

  it("uses x_(0) = −∞ and x_(T+1) = +∞", () => {
    const sorted = [1, 2, 3];
    expect(orderStatistic(sorted, 0)).toBe(-Infinity);
    expect(orderStatistic(sorted, 1)).toBe(1);
    expect(orderStatistic(sorted, 3)).toBe(3);
    expect(orderStatistic(sorted, 4)).toBe(Infinity);
  });
});

describe("RankedSample", () => {
  it("gives every order statistic of the sample without one value, as re-sorting does", () => {
    const rng = createRng(3);
    for (let trial = 0; trial < 20; trial++) {
      const n = 1 + rng.integer(30);
      // Rounded values force ties.
      const values = Array.from({ length: n }, () => Math.round(rng.normal() * 4) / 4);
      const ranked = RankedSample.from(values);
      expect(Array.from(ranked.sorted)).toEqual([...values].sort((a, b) => a - b));
      for (let i = 0; i < n; i++) {
        const rest = values.filter((_, j) => j !== i).sort((a, b) => a - b);
        for (let k = 0; k <= n; k++) expect(ranked.kthWithout(k, i)).toBe(orderStatistic(rest, k));
      }
    }
  });
});
