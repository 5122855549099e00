import { describe, expect, it } from "vitest";
import { chronological, orderedGroups } from "../../src/evaluation/chrono.ts";
import { evaluate } from "../../src/evaluation/evaluate.ts";
import { calibrate } from "../../src/inference/calibrate.ts";
import type { TaskRecord } from "../../src/inference/task-record.ts";
import { createRng } from "../../src/simulation/random.ts";

const rng = createRng(51);
/** Listed out of order; each wave shifts the real values 0.1 more than the one before. */
const SHOCKS: [string, number][] = [
  ["wave 2", 0.1],
  ["wave 10", 0.2],
  ["wave 1", 0],
];
/** 25 tasks per wave. */
const rows: TaskRecord[] = SHOCKS.flatMap(([group, shock], w) =>
  Array.from({ length: 25 }, (_, i) => {
    const syn = rng.uniform(0.2, 0.8);
    return { task: `t${w}-${i}`, model: "m", group, real_est: syn + shock + 0.02 * rng.normal(), real_se: 0.02, syn_est: syn, syn_se: 0.01, extra: {} };
  }),
);

describe("chronological evaluation", () => {
  it("orders groups naturally (wave 2 before wave 10)", () => {
    expect(orderedGroups(rows)).toEqual(["wave 1", "wave 2", "wave 10"]);
    expect(orderedGroups([{ ...rows[0]!, group: "10" }, { ...rows[0]!, group: "9" }])).toEqual(["9", "10"]);
  });

  it("calibrates each group on all earlier groups only (expanding window)", () => {
    const { tasks, steps } = chronological(rows, [], { method: "alg4", alpha: 0.1 });
    expect(steps.map((s) => [s.group, s.history, s.predicted, s.skipped])).toEqual([
      ["wave 2", 25, 25, 0],
      ["wave 10", 50, 25, 0],
    ]);
    const wave1 = rows.filter((r) => r.group === "wave 1");
    const wave2 = rows.filter((r) => r.group === "wave 2");
    const direct = calibrate(wave1, wave2, { method: "alg4", alpha: 0.1 }).intervals;
    expect(tasks.slice(0, 25).map((t) => t.rows[0]!.lower)).toEqual(direct.map((r) => r.lower));
    expect(tasks.every((t) => t.group !== "wave 1")).toBe(true);
  });

  it("scores target rows with a real estimate without calibrating on them, and skips what α cannot reach", () => {
    const extraTargets = [{ ...rows[0]!, task: "late", group: "wave 11" }];
    const { steps, tasks } = chronological(rows, extraTargets, { method: "alg1", alpha: 0.1 });
    // alg1 at α = 0.1 needs 20 tasks: wave 2 (25 earlier) is fine.
    expect(steps.map((s) => [s.group, s.history, s.predicted])).toEqual([
      ["wave 2", 25, 25],
      ["wave 10", 50, 25],
      ["wave 11", 75, 1],
    ]);
    expect(tasks.at(-1)!.task).toBe("late");
    const tight = chronological(rows, [], { method: "alg1", alpha: 0.05 });
    expect(tight.steps[0]).toMatchObject({ group: "wave 2", predicted: 0, skipped: 25 });
    expect(tight.steps[0]!.reasons[0]).toMatch(/needs at least 40 historical tasks/);
    expect(tight.steps[1]).toMatchObject({ group: "wave 10", predicted: 25, skipped: 0 });
  });

  it("counts history in tasks, as tasks and skipped are counted: whole vector tasks for a joint method", () => {
    // Each task has two coordinates: 25 tasks (50 rows) per wave.
    const vector = rows.flatMap((r) => ["a", "b"].map((coord) => ({ ...r, coord })));
    const joint = chronological(vector, [], { method: "alg3", alpha: 0.1 });
    expect(joint.steps.map((s) => [s.group, s.history, s.predicted + s.skipped])).toEqual([
      ["wave 2", 25, 25],
      ["wave 10", 50, 25],
    ]);
    // A scalar method calibrates each coordinate on its own: rows are its tasks.
    const scalar = chronological(vector, [], { method: "alg4", alpha: 0.1 });
    expect(scalar.steps.map((s) => [s.group, s.history, s.predicted + s.skipped])).toEqual([
      ["wave 2", 50, 50],
      ["wave 10", 100, 50],
    ]);
  });

  it("reports coverage overall and per group in the evaluate report", () => {
    const { report, tasks } = evaluate("chrono", rows, [], { method: "alg4", alpha: 0.1 });
    const m = report.by_model.m!;
    expect(m.tasks).toBe(50);
    const covered = tasks.filter((t) => t.covered).length;
    expect(m.coverage).toBe(covered / 50);
    expect(Object.keys(m.by_group!)).toEqual(["wave 2", "wave 10"]);
    expect(m.by_group!["wave 10"]).toMatchObject({ tasks: 25, history: 50, skipped: 0 });
    // Each wave's shock pushes real values above what earlier waves predict: tasks of one
    // wave share it, so per-group coverage is far from nominal although LOO would look fine.
    expect(m.by_group!["wave 2"]!.coverage).toBeLessThan(0.5);
    expect(m.by_group!["wave 10"]!.coverage).toBeLessThan(0.5);
  });
});
