import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { tasksTableCsv } from "../../src/config/tasks.ts";
import { exampleTasks } from "../../src/simulation/example.ts";
import { createRng } from "../../src/simulation/random.ts";
import { SECTION_54, section54Rows, simulateSection54 } from "../../src/simulation/tasks.ts";

describe("the shipped example tasks table", () => {
  it("is exactly what `node scripts/example-tasks.ts` generates", () => {
    const shipped = readFileSync(new URL("../../examples/tasks.csv", import.meta.url), "utf8");
    expect(tasksTableCsv(exampleTasks())).toBe(shipped);
  });

  it("has four waves of items × subgroups and a 2-D approval target for two models", () => {
    const rows = exampleTasks();
    expect(new Set(rows.map((r) => r.model))).toEqual(new Set(["simulated:steady", "simulated:caricature"]));
    expect(rows.filter((r) => r.role === "target").every((r) => r.group === "W4" && r.real_est !== undefined)).toBe(true);
    const approval = rows.filter((r) => r.item === "approval" && r.model === "simulated:steady");
    expect(approval).toHaveLength(4 * 4 * 4 * 2);
    expect(new Set(approval.map((r) => r.coord))).toEqual(new Set(["copartisan", "opposition"]));
    // Polarized: the caricature model overstates co-partisan approval and understates the opposition's.
    const gap = (coord: string) => {
      const r = rows.filter((x) => x.model === "simulated:caricature" && x.coord === coord);
      return r.reduce((s, x) => s + x.real_est! - x.syn_est, 0) / r.length;
    };
    expect(gap("copartisan")).toBeLessThan(-0.03);
    expect(gap("opposition")).toBeGreaterThan(0.03);
  });
});

describe("the section 5.4 simulator", () => {
  it("draws θ in [0.2, 0.8] and estimates with binomial SEs; rows split into history and targets", () => {
    const tasks = simulateSection54(createRng(1), 500);
    for (let j = 0; j < 500; j++) {
      expect(tasks.theta[j]! >= 0.2 && tasks.theta[j]! <= 0.8).toBe(true);
      expect(tasks.thetaTilde[j]! >= 0.01 && tasks.thetaTilde[j]! <= 0.99).toBe(true);
      expect(tasks.realSe[j]).toBeCloseTo(Math.sqrt((tasks.realEst[j]! * (1 - tasks.realEst[j]!)) / SECTION_54.realN), 14);
    }
    // Bias sd 0.1: the gaps' sd is about 0.1 (plus sampling noise ≈ 0.025).
    const gaps = Array.from(tasks.realEst, (r, j) => r - tasks.synEst[j]!);
    const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((s, g) => s + (g - mean) ** 2, 0) / (gaps.length - 1));
    expect(sd).toBeGreaterThan(0.09);
    expect(sd).toBeLessThan(0.12);
    const rows = section54Rows(tasks, 400);
    expect(rows.filter((r) => r.role === "history")).toHaveLength(400);
    expect(rows[450]!.role).toBe("target");
  });
});
