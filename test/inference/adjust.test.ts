import { describe, expect, it } from "vitest";
import { defaultFeatures, defaultSplitBy, fitGapModel, splitHalves } from "../../src/inference/adjust.ts";
import { ridgeSolve, sparseRows } from "../../src/inference/ridge.ts";
import type { TaskRecord } from "../../src/inference/task-record.ts";
import { createRng } from "../../src/simulation/random.ts";

function row(task: string, real: number, syn: number, extra: Partial<TaskRecord> = {}): TaskRecord {
  return { task, model: "m", real_est: real, syn_est: syn, syn_se: 0, extra: {}, ...extra };
}

describe("ridge least squares", () => {
  it("solves the normal equations with an unpenalized intercept (hand-checked 3×2 case)", () => {
    // X = [1 0; 1 1; 1 2], y = [1, 2, 4], λ = 1 on the slope:
    // XᵀX + Λ = [3 3; 3 6], Xᵀy = [7, 10] → β = [4/3, 1].
    const x = sparseRows(2, [
      { index: [0], value: [1] },
      { index: [0, 1], value: [1, 1] },
      { index: [0, 1], value: [1, 2] },
    ]);
    const beta = ridgeSolve(x, [1, 2, 4], 1);
    expect(beta[0]).toBeCloseTo(4 / 3, 10);
    expect(beta[1]).toBeCloseTo(1, 10);
    // λ = 0: ordinary least squares, slope 1.5, intercept 5/6.
    const ols = ridgeSolve(x, [1, 2, 4], 0);
    expect(ols[0]).toBeCloseTo(5 / 6, 10);
    expect(ols[1]).toBeCloseTo(1.5, 10);
  });
});

describe("the gap model", () => {
  it("recovers a linear gap in syn_est and subgroup effects from noiseless tasks", () => {
    const rng = createRng(21);
    const rows = Array.from({ length: 200 }, (_, j) => {
      const syn = rng.uniform(0.1, 0.9);
      const sub = ["a", "b", "c"][j % 3]!;
      const gap = 0.2 - 0.4 * syn + (sub === "b" ? 0.05 : sub === "c" ? -0.03 : 0);
      return row(`t${j}`, syn + gap, syn, { subgroup: sub });
    });
    const model = fitGapModel(rows, ["syn_est", "subgroup"], 1e-8);
    for (const r of rows.slice(0, 20)) expect(model.predict(r)).toBeCloseTo(r.real_est! - r.syn_est, 6);
    expect(model.residualSd).toBeLessThan(1e-6);
    // A level never seen in the fit contributes nothing beyond the intercept.
    expect(Number.isFinite(model.predict(row("new", 0, 0.5, { subgroup: "z" })))).toBe(true);
  });

  it("encodes interactions a:b as one-hot of the value pairs and squares numeric columns", () => {
    const rows = [
      row("1", 0.6, 0.5, { item: "q", extra: { option: "yes" } }),
      row("2", 0.3, 0.5, { item: "q", extra: { option: "no" } }),
      row("3", 0.5, 0.5, { item: "r", extra: { option: "yes" } }),
      row("4", 0.5, 0.5, { item: "r", extra: { option: "no" } }),
    ];
    const model = fitGapModel(rows, ["item:option"], 1e-9);
    expect(model.columns).toBe(5);
    expect(model.predict(rows[0]!)).toBeCloseTo(0.1, 6);
    expect(model.predict(rows[1]!)).toBeCloseTo(-0.2, 6);
    expect(() => fitGapModel(rows, ["item^2"], 1)).toThrow(/squares a column that is not numeric/);
    // Subgroups coded as numbers (SPSS codes) are still categories: one column per code.
    const coded = rows.map((r, i) => ({ ...r, subgroup: String(1 + (i % 2)), extra: { ...r.extra, size: String(10 * i) } }));
    expect(fitGapModel(coded, ["subgroup"], 1).columns).toBe(3);
    expect(fitGapModel(coded, ["size"], 1).columns).toBe(2);
    expect(() => fitGapModel(rows, ["nope"], 1)).toThrow(/no task has a value in column "nope"/);
  });

  it("defaults to a split by item and features syn_est, syn_est², subgroup (and item when not the split)", () => {
    const rows = [row("1", 0.5, 0.4, { item: "q", subgroup: "s" })];
    expect(defaultSplitBy(rows)).toBe("item");
    expect(defaultFeatures(rows, "item")).toEqual(["syn_est", "syn_est^2", "subgroup"]);
    expect(defaultFeatures(rows, "subgroup")).toEqual(["syn_est", "syn_est^2", "item"]);
    expect(defaultSplitBy([row("1", 0.5, 0.4)])).toBe("task");
  });
});

describe("seeded halves", () => {
  it("splits distinct values into halves of equal size, reproducibly and independent of order", () => {
    const values = Array.from({ length: 101 }, (_, i) => `item${i}`);
    const a = splitHalves(values, 1);
    const b = splitHalves([...values].reverse().concat(values), 1);
    expect([...a]).toEqual([...a].map(([k]) => [k, b.get(k)]));
    const ones = [...a.values()].filter((h) => h === 1).length;
    expect(ones).toBe(50);
    const other = splitHalves(values, 2);
    expect([...a].some(([k, h]) => other.get(k) !== h)).toBe(true);
  });
});
