import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { evaluate } from "../../src/evaluation/evaluate.ts";
import { leaveGroupOut } from "../../src/evaluation/groups.ts";
import { leaveOneOut } from "../../src/evaluation/loo.ts";
import { clopperPearson } from "../../src/evaluation/metrics.ts";
import { calibrate } from "../../src/inference/calibrate.ts";
import type { TaskRecord } from "../../src/inference/task-record.ts";
import { createRng } from "../../src/simulation/random.ts";

/**
 * A panel table: `waves` waves of `perWave` tasks over `items` items; gap =
 * drift × wave + N(0, sd). Drift 0 is exchangeable (flat).
 */
export function panel(seed: number, { waves = 6, perWave = 50, items = 10, drift = 0, sd = 0.04 } = {}): TaskRecord[] {
  const rng = createRng(seed);
  return Array.from({ length: waves }, (_, w) =>
    Array.from({ length: perWave }, (_, i) => {
      const syn = rng.uniform(0.2, 0.8);
      const real = syn + drift * w + sd * rng.normal();
      return { task: `t${w}-${i}`, model: "m", group: `W${w + 1}`, item: `q${i % items}`, real_est: real, real_se: 0.02, syn_est: syn, syn_se: 0.01, extra: {} };
    }),
  ).flat();
}

describe("exact binomial intervals", () => {
  it("match R's binom.test (Clopper–Pearson) to 1e-9", () => {
    const cases = JSON.parse(readFileSync(new URL("../fixtures/r-binom/clopper-pearson.json", import.meta.url), "utf8")) as [number, number, number, number][];
    for (const [k, n, lower, upper] of cases) {
      const [lo, hi] = clopperPearson(k, n);
      expect(lo).toBeCloseTo(lower, 9);
      expect(hi).toBeCloseTo(upper, 9);
    }
  });
});

describe("leave-one-group-out", () => {
  it("holds out every task of a group and calibrates it on the other groups only", () => {
    const rows = panel(3);
    const { tasks, steps } = leaveGroupOut(rows, { method: "alg4", alpha: 0.1 }, "group");
    expect(steps.map((s) => [s.group, s.history, s.predicted, s.skipped])).toEqual(
      ["W1", "W2", "W3", "W4", "W5", "W6"].map((g) => [g, 250, 50, 0]),
    );
    const direct = calibrate(rows.filter((r) => r.group !== "W3"), rows.filter((r) => r.group === "W3"), { method: "alg4", alpha: 0.1 }).intervals;
    expect(tasks.filter((t) => t.group === "W3").map((t) => t.rows[0]!.lower)).toEqual(direct.map((r) => r.lower));
  });

  it("groups by any column: by item, each item's tasks of every wave together", () => {
    const { report } = evaluate("group", panel(4), [], { method: "alg4", alpha: 0.1 }, { groupBy: "item" });
    expect(report.group_by).toBe("item");
    expect(Object.keys(report.by_model.m!.by_group!)).toEqual(["q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9"]);
    expect(report.by_model.m!.by_group!.q0).toMatchObject({ tasks: 30, history: 270 });
  });

  it("names the row of a task without a value in the group column", () => {
    const rows = panel(5);
    delete (rows[7] as { item?: string }).item;
    expect(() => leaveGroupOut(rows, { method: "alg4", alpha: 0.1 }, "item")).toThrow(/task "t0-7".*missing value: --protocol group holds tasks out by their item/);
  });

  it("reports under-coverage on a drifting table and not on a flat one (seeded: 200 tables each)", () => {
    // Under exchangeability (flat) the exact interval's upper end falls below 1 − α in at most
    // 2.5% of tables (it is a one-sided 97.5% bound and held-out coverage is ≥ 1 − α); allowed:
    // 5%, a margin of 3.2 Monte-Carlo SEs (sqrt(0.025·0.975/200) = 0.011). Drift of 1.5 gap SDs a
    // wave makes the first and last waves miss most of the time: flagged in at least 95%.
    const flagged = (drift: number) => {
      let count = 0;
      for (let seed = 1; seed <= 200; seed++) {
        const { report } = evaluate("group", panel(1000 * drift + seed, { drift }), [], { method: "alg4", alpha: 0.1 }, { groupBy: "group" });
        if (report.by_model.m!.coverage_upper! < 0.9) count += 1;
      }
      return count / 200;
    };
    expect(flagged(0)).toBeLessThanOrEqual(0.05);
    expect(flagged(0.06)).toBeGreaterThanOrEqual(0.95);
  });

  it("shows what leave-one-out cannot: on a drifting table alg4's LOO coverage is the arithmetic figure", () => {
    const drifting = panel(9, { drift: 0.06 });
    const loo = evaluate("loo", drifting, [], { method: "alg4", alpha: 0.1 });
    const m = loo.report.by_model.m!;
    expect(loo.report.coverage_fixed_by_arithmetic).toBe(true);
    // One cell of 300: k_lo(299) = 15, k_hi(299) = 285, so 270/300 whatever the data.
    expect(m.arithmetic_coverage).toBe(270 / 300);
    expect(m.coverage).toBe(270 / 300);
    const group = evaluate("group", drifting, [], { method: "alg4", alpha: 0.1 });
    expect(group.report.coverage_fixed_by_arithmetic).toBe(false);
    expect(group.report.by_model.m!.coverage_upper!).toBeLessThan(0.9);
  });

  it("does not call alg1's leave-one-out coverage fixed", () => {
    const { report } = evaluate("loo", panel(10), [], { method: "alg1", alpha: 0.1 });
    expect(report.coverage_fixed_by_arithmetic).toBe(false);
    expect(report.by_model.m!.arithmetic_coverage).toBeUndefined();
  });
});

describe("recency decay under held-out protocols", () => {
  const gamma = 0.5;
  /** The same weights as a column: γ^(waves between the task's wave and `from`). */
  const weighted = (rows: TaskRecord[], from: number) =>
    rows.map((r) => ({ ...r, weight: gamma ** Math.abs(Number(r.group!.slice(1)) - from) }));

  it("leave-one-out measures each held-out task's ages from its own wave", () => {
    const rows = panel(11, { waves: 4, perWave: 30, drift: 0.02 });
    const options = { method: "alg2" as const, alpha: 0.2, weights: { decay: gamma } };
    const { tasks } = leaveOneOut(rows, options);
    const heldOut = rows.find((r) => r.task === "t0-4")!;
    const others = weighted(rows.filter((r) => r !== heldOut), 1);
    const direct = calibrate(others, [heldOut], { method: "alg2", alpha: 0.2, weights: { column: "weight" } }).intervals[0]!;
    const loo = tasks.find((t) => t.task === "t0-4")!.rows[0]!;
    expect([loo.lower, loo.upper]).toEqual([direct.lower, direct.upper]);
  });

  it("leave-one-group-out measures ages from the held-out wave", () => {
    const rows = panel(12, { waves: 4, perWave: 30, drift: 0.02 });
    const { tasks } = leaveGroupOut(rows, { method: "alg2", alpha: 0.2, weights: { decay: gamma } }, "group");
    const direct = calibrate(weighted(rows.filter((r) => r.group !== "W2"), 2), rows.filter((r) => r.group === "W2"), {
      method: "alg2",
      alpha: 0.2,
      weights: { column: "weight" },
    }).intervals;
    expect(tasks.filter((t) => t.group === "W2").map((t) => [t.rows[0]!.lower, t.rows[0]!.upper])).toEqual(direct.map((r) => [r.lower, r.upper]));
  });
});
