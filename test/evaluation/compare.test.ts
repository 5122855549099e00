import { describe, expect, it } from "vitest";
import { compareModels, gapDistribution } from "../../src/evaluation/compare.ts";
import { median, quantile, summarize } from "../../src/evaluation/metrics.ts";
import type { TaskRecord } from "../../src/inference/task-record.ts";

const row = (model: string, i: number, gap: number): TaskRecord => ({ task: `t${i}`, model, real_est: 0.5 + gap, real_se: 0.01, syn_est: 0.5, syn_se: 0.01, extra: {} });

describe("metrics", () => {
  it("uses R's type-7 quantiles", () => {
    // quantile(c(1, 2, 3, 4, 10), c(0.05, 0.5, 0.9)) in R: 1.2, 3, 7.6
    expect(quantile([4, 1, 10, 3, 2], 0.05)).toBeCloseTo(1.2, 12);
    expect(median([4, 1, 10, 3, 2])).toBe(3);
    expect(quantile([4, 1, 10, 3, 2], 0.9)).toBeCloseTo(7.6, 12);
    expect(median([1, 2, 3, 4])).toBe(2.5);
  });

  it("summarizes coverage over tasks and widths over coordinates", () => {
    const base = { task: "a", model: "m", coord: "", method: "alg4" as const, alpha: 0.1, estimate: 0, naive_lower: 0, naive_upper: 0 };
    const summary = summarize([
      { task: "a", model: "m", rows: [{ ...base, lower: 0, upper: 1, real_est: 0.5 }], covered: true, naiveCovered: false },
      { task: "b", model: "m", rows: [{ ...base, lower: 0, upper: 3, real_est: 5, naive_upper: 1 }], covered: false, naiveCovered: false },
    ]);
    expect(summary).toEqual({ tasks: 2, coverage: 0.5, mean_width: 2, median_width: 2, naive_coverage: 0, naive_median_width: 0.5 });
  });
});

describe("compare", () => {
  const gapsA = Array.from({ length: 40 }, (_, i) => (i - 20) / 400);
  const gapsB = Array.from({ length: 40 }, (_, i) => 0.1 + (i - 20) / 100);
  const rows = [...gapsA.map((g, i) => row("tight", i, g)), ...gapsB.map((g, i) => row("loose", i, g))];

  it("describes each model's gaps", () => {
    const d = gapDistribution(rows.filter((r) => r.model === "loose"));
    expect(d.mean).toBeCloseTo(0.095, 12);
    expect(d.q50).toBeCloseTo(0.095, 12);
    expect(d.mean_abs).toBeCloseTo(gapsB.reduce((s, g) => s + Math.abs(g), 0) / 40, 12);
    expect(d.q05).toBeCloseTo(quantile(gapsB, 0.05), 12);
  });

  it("ranks models by calibrated width, narrowest first", () => {
    const { models } = compareModels("loo", rows, [], { method: "alg4", alpha: 0.1 });
    // The ensemble pseudo-model (both models stacked) stands beside them.
    expect(models.map((m) => m.model).filter((m) => m !== "ensemble")).toEqual(["tight", "loose"]);
    expect(models.some((m) => m.model === "ensemble")).toBe(true);
    expect(models[0]!.evaluation.median_width).toBeLessThan(models[1]!.evaluation.median_width);
    expect(models[1]!.history).toBe(40);
  });
});
