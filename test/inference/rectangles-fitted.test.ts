/**
 * Algorithm 3 with centre and scales fitted on a random quarter of the
 * history (SPEC's split option) where the two coordinates' biases have
 * opposite signs: seeded simulation, T = 100 historical tasks and one target
 * per replication, gaps N(+0.1, 0.03²) and N(−0.1, 0.03²) plus sampling
 * noise (n = 500 real, N = 2000 synthetic respondents). Joint coverage of θ
 * must be ≥ 1 − α within 3 MC SE (sqrt(α(1 − α)/R)); the fitted rectangle
 * must be no wider than Bonferroni's (Algorithm 1 per coordinate at α/2),
 * and narrower than alg3 centred at 0.
 */
import { describe, expect, it } from "vitest";
import { calibrateSample } from "../../src/inference/algorithm.ts";
import { applyBounds, type GapSample } from "../../src/inference/bounds.ts";
import { METHODS } from "../../src/inference/methods.ts";
import { createRng } from "../../src/simulation/random.ts";
import { SECTION_54, simulateSection54 } from "../../src/simulation/tasks.ts";

describe("alg3-fitted: rectangles for polarized targets", () => {
  it("covers ≥ 1 − α jointly and is no wider than Bonferroni's when biases have opposite signs", () => {
    const R = 2000;
    const T = 100;
    const alpha = 0.1;
    const rng = createRng(314);
    const designs = [
      { ...SECTION_54, biasMean: 0.1, biasSd: 0.03 },
      { ...SECTION_54, biasMean: -0.1, biasSd: 0.03 },
    ];
    const names = ["alg3", "alg3-bonferroni", "alg3-fitted"] as const;
    const tally = new Map(names.map((n) => [n, { covered: 0, width: 0 }]));
    for (let r = 0; r < R; r++) {
      const coords = designs.map((design) => simulateSection54(rng, T + 1, design));
      const sample: GapSample = {
        size: T,
        dims: 2,
        gap: coords.map((c) => Float64Array.from({ length: T }, (_, j) => c.realEst[j]! - c.synEst[j]!)),
        se: coords.map((c) => Float64Array.from({ length: T }, (_, j) => Math.hypot(c.realSe[j]!, c.synSe[j]!))),
      };
      for (const name of names) {
        const bounds = calibrateSample(METHODS[name], sample, alpha);
        let covered = true;
        let width = 0;
        coords.forEach((c, k) => {
          const out = applyBounds({ estimate: c.synEst[T]!, se: c.synSe[T]! }, bounds, k, 0, null);
          covered &&= c.theta[T]! >= out.lower && c.theta[T]! <= out.upper;
          width += (out.upper - out.lower) / 2;
        });
        const t = tally.get(name)!;
        t.covered += covered ? 1 : 0;
        t.width += width / R;
      }
    }
    const se = Math.sqrt((alpha * (1 - alpha)) / R);
    console.log(names.map((n) => `${n.padEnd(16)} α=0.10  coverage ${(tally.get(n)!.covered / R).toFixed(3)}  width ${tally.get(n)!.width.toFixed(4)}  (R = ${R}, MC SE ${se.toFixed(4)})`).join("\n"));
    for (const name of names) expect(tally.get(name)!.covered / R, name).toBeGreaterThanOrEqual(1 - alpha - 3 * se);
    expect(tally.get("alg3-fitted")!.width).toBeLessThanOrEqual(tally.get("alg3-bonferroni")!.width);
    expect(tally.get("alg3-fitted")!.width).toBeLessThan(tally.get("alg3")!.width);
  });
});
