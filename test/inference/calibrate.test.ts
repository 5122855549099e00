import { describe, expect, it } from "vitest";
import { InfeasibleError, InputError, UsageError } from "../../src/errors.ts";
import { calibrateSample } from "../../src/inference/algorithm.ts";
import { algorithm1 } from "../../src/inference/algorithm1.ts";
import { algorithm4 } from "../../src/inference/algorithm4.ts";
import { applyBounds, scalarSample } from "../../src/inference/bounds.ts";
import { calibrate, detectRange } from "../../src/inference/calibrate.ts";
import { planCalibration } from "../../src/inference/plan.ts";
import { METHODS } from "../../src/inference/methods.ts";
import { gapOf, gapSeOf, type TaskRecord } from "../../src/inference/task-record.ts";
import { zCritical } from "../../src/inference/quantiles.ts";
import { createRng } from "../../src/simulation/random.ts";

const rng = createRng(31);

function task(i: number, extra: Partial<TaskRecord> = {}): TaskRecord {
  const syn = rng.uniform(0.2, 0.8);
  return {
    task: `t${i}`,
    model: "m",
    real_est: Math.min(Math.max(syn + 0.1 * rng.normal() + 0.05, 0), 1),
    real_se: 0.02,
    syn_est: syn,
    syn_se: 0.01,
    extra: {},
    ...extra,
  };
}

const history = Array.from({ length: 60 }, (_, i) => task(i, { subgroup: i % 2 === 0 ? "a" : "b", item: `q${i % 10}` }));
const targets = [task(100, { subgroup: "a", item: "q1" }), task(101, { subgroup: "b", item: "q99" })];

describe("calibrate (the facade)", () => {
  it("gives each target its synthetic estimate plus the bounds of its model's history", () => {
    const result = calibrate(history, targets, { method: "alg1", alpha: 0.1 });
    const bounds = calibrateSample(algorithm1, scalarSample(history.map(gapOf), history.map(gapSeOf)), 0.1);
    for (const [k, t] of targets.entries()) {
      const want = applyBounds({ estimate: t.syn_est, se: t.syn_se }, bounds);
      expect(result.intervals[k]).toMatchObject({ task: t.task, model: "m", coord: "", method: "alg1", alpha: 0.1, lower: want.lower, upper: want.upper });
      expect(result.intervals[k]!.estimate).toBeCloseTo(want.estimate, 14);
    }
    expect(result.cells).toHaveLength(1);
    expect(result.cells[0]).toMatchObject({ tasks: 60, targets: 2, label: 'model "m"' });
  });

  it("calibrates each model on its own", () => {
    const other = history.map((h) => ({ ...h, model: "m2", real_est: h.real_est! - 0.3 }));
    const both = calibrate([...history, ...other], [targets[0]!, { ...targets[0]!, model: "m2" }], { method: "alg4", alpha: 0.1 });
    const alone = calibrate(history, [targets[0]!], { method: "alg4", alpha: 0.1 });
    expect(both.intervals[0]).toEqual(alone.intervals[0]);
    expect(both.intervals[1]!.upper).toBeCloseTo(alone.intervals[0]!.upper - 0.3, 12);
  });

  it("Mondrian: each stratum calibrates on its own history only", () => {
    const result = calibrate(history, targets, { method: "alg4", alpha: 0.2, strata: ["subgroup"] });
    for (const [k, sub] of ["a", "b"].entries()) {
      const own = history.filter((h) => h.subgroup === sub);
      const bounds = calibrateSample(algorithm4, scalarSample(own.map(gapOf)), 0.2);
      expect(result.intervals[k]!.lower).toBeCloseTo(targets[k]!.syn_est + bounds.lower[0]!, 14);
    }
    expect(result.cells.map((c) => c.label)).toEqual(['model "m", stratum subgroup=a', 'model "m", stratum subgroup=b']);
    expect(() => calibrate(history, [task(200, { subgroup: "c" })], { method: "alg4", alpha: 0.2, strata: ["subgroup"] })).toThrow(/shares this target's stratum/);
  });

  it("names the cell when a stratum has too few tasks for α", () => {
    const error = (() => {
      try {
        calibrate(history, targets, { method: "alg1", alpha: 0.1, strata: ["item"] });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InfeasibleError);
    expect((error as Error).message).toMatch(/^model "m", stratum item=q1: α = 0\.1 needs at least 20 historical tasks .* there are 6/);
  });

  it("regression adjustment: the gap model of the other half, calibration on the target's half", () => {
    const options = { method: "alg4" as const, alpha: 0.2, adjust: { mode: "split" as const, splitBy: "item", features: ["syn_est", "subgroup"], ridge: 1, seed: 3 } };
    const plan = planCalibration(history, targets, { algorithm: METHODS.alg4, adjust: options.adjust });
    const pool = plan.pools[0]!;
    expect([...pool.cells.values()].map((c) => c.fold).sort()).toEqual([0, 1]);
    // Targets whose item is known use their item's half; a new item uses half 1.
    const placed = targets.map((t) => pool.place({ task: t.task, model: "m", rows: [t] }));
    const halfOf = (item: string) => [...pool.cells.values()].find((c) => c.members.some((u) => u.rows[0]!.item === item))!.fold;
    expect(placed[0]!.cell!.fold).toBe(halfOf("q1"));
    expect(placed[1]!.cell!.fold).toBe(0);
    // Validity by construction: changing the real data of the calibration half
    // (or the target's own item) changes no shift, only the calibrated residuals.
    const fold = placed[0]!.cell!.fold;
    const perturbed = history.map((h) => (halfOf(h.item!) === fold ? { ...h, real_est: h.real_est! + 0.2 * rng.normal() } : h));
    const again = planCalibration(perturbed, targets, { algorithm: METHODS.alg4, adjust: options.adjust }).pools[0]!;
    expect(Array.from(again.place({ task: "x", model: "m", rows: [targets[0]!] }).shift)).toEqual(Array.from(placed[0]!.shift));
    // And the interval is the shifted synthetic estimate plus the residual order statistics.
    const cell = placed[0]!.cell!;
    const result = calibrate(history, targets, options);
    const bounds = calibrateSample(algorithm4, cell.sample, 0.2);
    expect(result.intervals[0]!.lower).toBeCloseTo(targets[0]!.syn_est + placed[0]!.shift[0]! + bounds.lower[0]!, 14);
  });

  it("refuses regression adjustment when the split has one value", () => {
    const adjust = { mode: "split" as const, splitBy: "model", features: [], ridge: 1, seed: 1 };
    expect(() => calibrate(history, targets, { method: "alg4", alpha: 0.2, adjust })).toThrow(UsageError);
    const fallback = calibrate(history, targets, { method: "alg4", alpha: 0.2, adjust: { ...adjust, splitByFallback: "task" } });
    expect(fallback.notes[0]).toMatch(/a single model in its history, so regression adjustment splits it by task/);
  });

  it("Algorithm 2 reads the weight column or weighs by recency", () => {
    const weighted = history.map((h, i) => ({ ...h, weight: i < 30 ? 0.5 : 1, group: i < 30 ? "W1" : "W2" }));
    const byColumn = calibrate(weighted, [targets[0]!], { method: "alg2", alpha: 0.2 });
    const byDecay = calibrate(weighted, [targets[0]!], { method: "alg2", alpha: 0.2, weights: { decay: 0.5 } });
    expect(byColumn.intervals[0]).toEqual(byDecay.intervals[0]);
    expect(() => calibrate(history, [targets[0]!], { method: "alg2", alpha: 0.2 })).toThrow(/missing value: alg2 needs a weight/);
  });

  it("intersects with a small real sample (section 4.4) and says when the two disagree", () => {
    const withReal = { ...targets[0]!, real_est: targets[0]!.syn_est + 0.05, real_se: 0.03 };
    const far = { ...targets[1]!, real_est: 5, real_se: 0.001 };
    const out = calibrate(history, [withReal, far], { method: "alg1", alpha: 0.1, intersectReal: { lambda: 0.5 } });
    const plain = calibrate(history, [withReal], { method: "alg1", alpha: 0.05 });
    expect(out.intervals[0]!.upper).toBeLessThanOrEqual(plain.intervals[0]!.upper);
    expect(out.intervals[0]!.lower).toBeGreaterThanOrEqual(plain.intervals[0]!.lower);
    expect(out.intervals[1]!.lower).toBeNaN();
    expect(out.notes.some((n) => /do not overlap/.test(n))).toBe(true);
    expect(() => calibrate(history, [withReal], { method: "alg4", alpha: 0.1, intersectReal: { lambda: 0.5 } })).toThrow(/scalar population method/);
  });

  it("calibrates vector tasks per coordinate with scalar methods (saying so) and jointly with alg3", () => {
    const vec = (i: number, role: "h" | "t") =>
      (["co", "opp"] as const).map((coord) => task(i, { task: `v${role}${i}`, coord }));
    const hist = Array.from({ length: 30 }, (_, i) => vec(i, "h")).flat();
    const target = vec(0, "t");
    const scalar = calibrate(hist, target, { method: "alg4", alpha: 0.2 });
    expect(scalar.intervals.map((r) => r.coord)).toEqual(["co", "opp"]);
    expect(scalar.cells.map((c) => c.coords)).toEqual([["co"], ["opp"]]);
    expect(scalar.notes[0]).toMatch(/calibrates each coordinate of a vector task on its own/);
    const joint = calibrate(hist, target, { method: "alg3", alpha: 0.2 });
    expect(joint.cells.map((c) => c.coords)).toEqual([["co", "opp"]]);
    expect(joint.notes).toEqual([]);
    // A target with a coordinate the history lacks is an error naming it.
    expect(() => calibrate(hist, [task(5, { coord: "mid" })], { method: "alg4", alpha: 0.2 })).toThrow(InputError);
    expect(() => calibrate(hist, [task(5, { coord: "mid" })], { method: "alg4", alpha: 0.2 })).toThrow(/no historical tasks for coordinate "mid"/);
  });

  it("clips to [0, 1] when every estimate is a proportion", () => {
    expect(detectRange(history)).toEqual([0, 1]);
    expect(detectRange([...history, { ...history[0]!, syn_est: 42 }])).toBeNull();
    const out = calibrate(history, [{ ...targets[0]!, syn_est: 0.99 }], { method: "alg1", alpha: 0.1, range: [0, 1] });
    expect(out.intervals[0]!.upper).toBe(1);
  });

  it("refuses α outside (0, 1)", () => {
    for (const alpha of [0, 1, -0.1, 1.5, NaN]) expect(() => calibrate(history, targets, { method: "alg4", alpha })).toThrow(/--alpha must be a number in \(0, 1\)/);
  });
});

describe("what calibrate reports beside the interval", () => {
  it("intersects at exactly (1 − λ)α and λα (λ = 0.25), and keeps the estimate inside the intersection", () => {
    const alpha = 0.2;
    const lambda = 0.25;
    const target = targets[0]!;
    const plain = calibrate(history, [target], { method: "alg1", alpha: (1 - lambda) * alpha }).intervals[0]!;
    // A real sample whose interval cuts the calibrated one from below, well above its estimate.
    const half = zCritical(lambda * alpha) * 0.02;
    const real = { real_est: plain.upper + half / 2, real_se: 0.02 };
    const out = calibrate(history, [{ ...target, ...real }], { method: "alg1", alpha, intersectReal: { lambda } }).intervals[0]!;
    expect(out.lower).toBeCloseTo(real.real_est - half, 12);
    expect(out.upper).toBeCloseTo(plain.upper, 12);
    // λ and 1 − λ swapped would give other ends.
    const swapped = calibrate(history, [target], { method: "alg1", alpha: lambda * alpha }).intervals[0]!;
    expect(Math.abs(swapped.upper - plain.upper)).toBeGreaterThan(1e-3);
    expect(Math.abs(zCritical((1 - lambda) * alpha) * 0.02 - half)).toBeGreaterThan(1e-3);
    // The bias-corrected estimate lies below the intersection: it is moved to its lower end.
    expect(plain.estimate).toBeLessThan(out.lower);
    expect(out.estimate).toBe(out.lower);
  });

  it("gives Algorithm 3's naive rectangle each coordinate at α/d", () => {
    const vector = (i: number, name: string) => (["co", "opp"] as const).map((coord) => task(i, { task: `${name}${i}`, coord }));
    const hist = Array.from({ length: 30 }, (_, i) => vector(i, "h")).flat();
    const target = vector(0, "t");
    const out = calibrate(hist, target, { method: "alg3", alpha: 0.2 });
    for (const [k, row] of out.intervals.entries()) {
      expect(row.naive_lower).toBeCloseTo(target[k]!.syn_est - zCritical(0.1) * target[k]!.syn_se, 12);
      expect(row.naive_upper).toBeCloseTo(target[k]!.syn_est + zCritical(0.1) * target[k]!.syn_se, 12);
    }
  });

  it("bias-corrects with the plain mean gap for every method, Algorithm 2's weights included", () => {
    const weighted = history.map((h, i) => ({ ...h, weight: i < 30 ? 0.1 : 1 }));
    const meanGap = history.reduce((sum, h) => sum + (h.real_est! - h.syn_est), 0) / history.length;
    for (const method of ["alg1", "alg2", "alg4", "alg5"] as const) {
      const [row] = calibrate(weighted, [targets[0]!], { method, alpha: 0.2 }).intervals;
      expect(row!.estimate).toBeCloseTo(targets[0]!.syn_est + meanGap, 12);
    }
  });

  it("refuses a target without a synthetic estimate, naming the field", () => {
    expect(() => calibrate(history, [{ ...targets[0]!, syn_est: NaN }], { method: "alg4", alpha: 0.1 })).toThrow(/syn_est.*missing value: expected a number/);
  });
});
