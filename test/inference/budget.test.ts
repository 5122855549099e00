import { describe, expect, it } from "vitest";
import { InfeasibleError } from "../../src/errors.ts";
import { splitBudget, tasksNeeded, tasksNeededForSplit, wholeBudget } from "../../src/inference/budget.ts";

describe("the α budget", () => {
  it("splits 0.8α / 0.1α / 0.1α by default", () => {
    const b = splitBudget(0.1, 100);
    expect(b.exchangeability).toBeCloseTo(0.08, 15);
    expect(b.synthetic).toBeCloseTo(0.01, 15);
    expect(b.gap).toBeCloseTo(0.01, 15);
    expect(b.synthetic + b.gap + b.exchangeability).toBeCloseTo(0.1, 15);
  });

  it("keeps the default at the boundary 2/(T+1) = 0.8α (T = 24, α = 0.1)", () => {
    expect(splitBudget(0.1, 24).exchangeability).toBeCloseTo(0.08, 15);
  });

  it("raises α_e to 2/(T+1) when 0.8α < 2/(T+1) < α and splits the rest equally", () => {
    const b = splitBudget(0.1, 20);
    expect(b.exchangeability).toBe(2 / 21);
    expect(b.synthetic).toBeCloseTo((0.1 - 2 / 21) / 2, 15);
    expect(b.gap).toBeCloseTo((0.1 - 2 / 21) / 2, 15);
  });

  it("refuses 2/(T+1) ≥ α with the number of tasks needed, never an infinite interval", () => {
    expect(() => splitBudget(0.1, 19)).toThrow(InfeasibleError);
    expect(() => splitBudget(0.1, 19)).toThrow(/needs at least 20 historical tasks .*24 for the default split.*there are 19.*above 0\.1\b/);
    expect(() => splitBudget(0.1, 12)).toThrow(/smallest feasible α is above 0\.154/);
    expect(tasksNeededForSplit(0.1)).toBe(20);
    expect(tasksNeededForSplit(0.15)).toBe(13);
    // The spec's count for a given α_e: ceil(2/α_e) − 1.
    expect(tasksNeeded(0.08)).toBe(24);
    expect(tasksNeeded(0.1)).toBe(19);
  });

  it("uses one side for Algorithm 3: 1/(T+1) < α", () => {
    expect(splitBudget(0.1, 12, 1).exchangeability).toBeCloseTo(0.08, 15);
    expect(splitBudget(0.1, 10, 1).exchangeability).toBe(1 / 11);
    expect(() => splitBudget(0.1, 9, 1)).toThrow(/at least 10/);
  });

  it("gives Algorithm 4 the whole α and needs 2/(T+1) ≤ α", () => {
    expect(wholeBudget(0.1, 19)).toEqual({ alpha: 0.1, synthetic: 0, gap: 0, exchangeability: 0.1 });
    expect(() => wholeBudget(0.1, 18)).toThrow(/at least 19 historical tasks.*there are 18.*smallest feasible α is 0\.105/);
  });
});
