import { describe, expect, it } from "vitest";
import { leaveOneOut } from "../../src/evaluation/loo.ts";
import { calibrate, type CalibrationOptions } from "../../src/inference/calibrate.ts";
import type { TaskRecord } from "../../src/inference/task-record.ts";
import { createRng } from "../../src/simulation/random.ts";

const rng = createRng(41);
/** 80 tasks: 2 models, 4 subgroups, 10 items of 2 tasks each per model; gaps depend on syn_est and subgroup. */
const rows: TaskRecord[] = [];
for (const model of ["m1", "m2"]) {
  for (let i = 0; i < 40; i++) {
    const syn = rng.uniform(0.1, 0.9);
    const subgroup = `s${i % 4}`;
    const gap = 0.1 - 0.3 * syn + (i % 4) * 0.02 + 0.05 * rng.normal();
    rows.push({
      task: `t${i}`,
      model,
      subgroup,
      item: `q${Math.floor(i / 2) % 10}`,
      real_est: syn + gap,
      real_se: 0.01 + 0.01 * rng.next(),
      syn_est: syn,
      syn_se: 0.01,
      weight: 0.5 + 0.5 * rng.next(),
      extra: { mode: i % 2 === 0 ? "web" : "phone" },
    });
  }
}

/** Leave-one-out the slow way: calibrate each task on all the others of its model. */
function bruteForce(options: CalibrationOptions) {
  return rows.map((held, j) => {
    const others = rows.filter((r, k) => k !== j && r.model === held.model);
    return calibrate(others, [held], options).intervals[0]!;
  });
}

describe("leave-one-out", () => {
  for (const options of [
    { method: "alg1", alpha: 0.2 },
    { method: "alg2", alpha: 0.2 },
    { method: "alg4", alpha: 0.1, range: [0, 1] },
    { method: "alg5", alpha: 0.2 },
    { method: "alg4", alpha: 0.5, strata: ["subgroup"] },
    { method: "alg4", alpha: 0.3, adjust: { mode: "split", splitBy: "item", features: ["syn_est", "subgroup"], ridge: 1, seed: 2 } },
    { method: "alg1", alpha: 0.4, adjust: { mode: "split", splitBy: "item", features: ["syn_est"], ridge: 0.5, seed: 5 }, strata: ["mode"] },
  ] as CalibrationOptions[]) {
    it(`equals calibrating each held-out task on the others: ${JSON.stringify(options)}`, () => {
      const fast = leaveOneOut(rows, options).tasks;
      const slow = bruteForce(options);
      const key = (t: { model: string; task: string }) => `${t.model}/${t.task}`;
      const byKey = new Map(fast.map((t) => [key(t), t]));
      expect(fast).toHaveLength(rows.length);
      for (const [j, want] of slow.entries()) {
        const got = byKey.get(key(rows[j]!))!;
        expect(got.rows[0]!.lower, key(rows[j]!)).toBeCloseTo(want.lower, 12);
        expect(got.rows[0]!.upper).toBeCloseTo(want.upper, 12);
        expect(got.rows[0]!.estimate).toBeCloseTo(want.estimate, 12);
        expect(got.covered).toBe(rows[j]!.real_est! >= want.lower && rows[j]!.real_est! <= want.upper);
      }
    });
  }
});
