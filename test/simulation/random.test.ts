import { describe, expect, it } from "vitest";
import { createRng, logFactorial } from "../../src/simulation/random.ts";

describe("seeded random numbers", () => {
  it("repeats a stream for the same seed and differs for another", () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });

  it("draws uniforms and normals with the right first two moments (100,000 draws, 5 MC SE)", () => {
    const rng = createRng(7);
    const n = 100_000;
    let su = 0;
    let sn = 0;
    let sn2 = 0;
    for (let i = 0; i < n; i++) {
      su += rng.next();
      const z = rng.normal();
      sn += z;
      sn2 += z * z;
    }
    expect(Math.abs(su / n - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(sn / n)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(sn2 / n - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
  });

  it("computes ln k! exactly on the table and by Stirling above it", () => {
    expect(logFactorial(0)).toBe(0);
    expect(logFactorial(5)).toBeCloseTo(Math.log(120), 12);
    let exact = 0;
    for (let k = 1; k <= 300; k++) exact += Math.log(k);
    expect(Math.abs(logFactorial(300) - exact) / exact).toBeLessThan(1e-13);
  });

  it("samples Binomial(n, p) exactly: a chi-square test against the pmf", () => {
    const rng = createRng(11);
    for (const [n, p] of [
      [500, 0.3],
      [2000, 0.97],
      [12, 0.5],
    ] as const) {
      const draws = 50_000;
      const counts = new Map<number, number>();
      for (let i = 0; i < draws; i++) {
        const x = rng.binomial(n, p);
        counts.set(x, (counts.get(x) ?? 0) + 1);
      }
      // Pool the support into cells of expected count ≥ 50 and compare.
      let chi2 = 0;
      let cells = 0;
      let expected = 0;
      let observed = 0;
      for (let k = 0; k <= n; k++) {
        const logPmf = logFactorial(n) - logFactorial(k) - logFactorial(n - k) + k * Math.log(p) + (n - k) * Math.log(1 - p);
        expected += draws * Math.exp(logPmf);
        observed += counts.get(k) ?? 0;
        if (expected >= 50 || k === n) {
          chi2 += (observed - expected) ** 2 / expected;
          cells += 1;
          expected = 0;
          observed = 0;
        }
      }
      // 99.9% quantile of chi-square with cells-1 df is below cells + 4·sqrt(2·cells) + 10 for these sizes.
      expect(chi2, `n=${n} p=${p}`).toBeLessThan(cells + 4 * Math.sqrt(2 * cells) + 10);
    }
  });
});
