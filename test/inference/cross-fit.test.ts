/**
 * The cross-fitted adjustment (CV+): its pieces against brute force, its
 * coverage in seeded simulations at T = 20, 50 and 200, the width it gains
 * where features predict the gap and does not lose where they do not, and
 * the leakage check: a held-out task's real estimate never moves its own
 * interval.
 *
 * Simulation: tasks with θ_j ~ U(0.2, 0.8) in 4 subgroups, real estimate
 * θ̂_j = θ_j + N(0, 0.02²); a "predictable" model's synthetic estimate
 * exaggerates (θ̃ = θ + 0.6(θ − 0.5) + subgroup shift + N(0, 0.03²)), an
 * "unpredictable" one errs independently of everything (θ̃ ~ U(0.2, 0.8),
 * θ = θ̃ + N(0, 0.08²)). Each replication
 * draws T historical tasks and 20 targets; coverage is of the targets' θ̂
 * (Algorithm 4). Monte-Carlo SE: the SD of the per-replication coverage over
 * √R (targets of one replication share its calibration).
 */
import { describe, expect, it } from "vitest";
import { calibrate, type CalibrationOptions } from "../../src/inference/calibrate.ts";
import { assignFolds } from "../../src/inference/cross-fit.ts";
import { choleskySolve, foldStats, ridgeFromStats, sumStats } from "../../src/inference/gram.ts";
import { ridgeSolve, sparseRows } from "../../src/inference/ridge.ts";
import { kthOfShiftedUnion } from "../../src/inference/shifted-union.ts";
import type { TaskRecord } from "../../src/inference/task-record.ts";
import { createRng, type Rng } from "../../src/simulation/random.ts";
import { evaluate } from "../../src/evaluation/evaluate.ts";
import { ensembleRows } from "../../src/inference/stack.ts";

const AUTO = { mode: "cv" as const, splitBy: "task", features: "auto" as const, ridge: 1, seed: 1 };

describe("k-th of a union of shifted, scaled sorted arrays", () => {
  it("equals sorting the union, at every k, with ties and negative shifts", () => {
    const rng = createRng(5);
    for (let trial = 0; trial < 80; trial++) {
      // Small arrays (the final sort alone) and large ones (bisection first), with many ties.
      const size = trial % 2 === 0 ? 8 : 300;
      const arrays = Array.from({ length: 1 + rng.integer(5) }, () =>
        Float64Array.from({ length: rng.integer(size) }, () => Math.round(rng.normal() * 4) / 4).sort(),
      );
      const shifts = arrays.map(() => Math.round(rng.normal() * 4) / 4);
      const scales = arrays.map(() => 0.5 + rng.next());
      const union = arrays.flatMap((a, f) => Array.from(a, (v) => shifts[f]! + scales[f]! * v)).sort((x, y) => x - y);
      for (let k = 0; k <= union.length + 1; k++) {
        const expected = k <= 0 ? -Infinity : k > union.length ? Infinity : union[k - 1]!;
        expect(kthOfShiftedUnion(arrays, shifts, k, scales) === expected, `k = ${k}`).toBe(true);
      }
    }
  });
});

describe("ridge from per-fold statistics", () => {
  it("matches the conjugate-gradient solver on the same rows, and a fit without a fold matches a fit on the others", () => {
    const rng = createRng(9);
    const rows = Array.from({ length: 60 }, () => ({ index: [0, 1, 2 + rng.integer(3)], value: [1, rng.normal(), 1] }));
    const y = rows.map((r) => 0.3 + 0.5 * r.value[1]! + rng.normal() * 0.1);
    const foldOf = rows.map((_, i) => i % 3);
    const stats = foldStats(5, 3, rows, y, foldOf);
    const all = ridgeFromStats(sumStats(stats, 5), 5, [0, 1, 2, 3, 4], 2);
    const cg = ridgeSolve(sparseRows(5, rows), y, 2);
    for (let k = 0; k < 5; k++) expect(all[k]).toBeCloseTo(cg[k]!, 8);
    const without = ridgeFromStats(sumStats(stats, 5, 1), 5, [0, 1], 2);
    const keep = rows.map((_, i) => i).filter((i) => foldOf[i] !== 1);
    const direct = ridgeSolve(sparseRows(2, keep.map((i) => ({ index: [0, 1], value: [1, rows[i]!.value[1]!] }))), keep.map((i) => y[i]!), 2);
    expect(without[0]).toBeCloseTo(direct[0]!, 8);
    expect(without[1]).toBeCloseTo(direct[1]!, 8);
    expect(Array.from(choleskySolve(Float64Array.of(4, 2, 2, 3), Float64Array.of(2, 1), 2))).toEqual([0.5, 0]);
  });

  it("assigns whole groups to folds, balanced to one group, independent of order", () => {
    const values = Array.from({ length: 23 }, (_, i) => `q${i}`);
    const folds = assignFolds([...values, ...values.reverse()], 5, 3);
    const sizes = [0, 0, 0, 0, 0];
    for (const f of folds.values()) sizes[f]! += 1;
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(assignFolds(values, 5, 3)).toEqual(folds);
  });
});

type Kind = "predictable" | "unpredictable";

function task(rng: Rng, id: string, kind: Kind, role: "history" | "target"): TaskRecord {
  const sub = rng.integer(4);
  let theta: number;
  let syn: number;
  if (kind === "predictable") {
    theta = rng.uniform(0.2, 0.8);
    syn = theta + 0.6 * (theta - 0.5) + [0.05, -0.05, 0.1, 0][sub]! + 0.03 * rng.normal();
  } else {
    // The gap is independent of everything the table holds.
    syn = rng.uniform(0.2, 0.8);
    theta = syn + 0.08 * rng.normal();
  }
  return { task: id, model: kind, role, subgroup: `s${sub}`, real_est: theta + 0.02 * rng.normal(), real_se: 0.02, syn_est: syn, syn_se: 0.01, extra: {} } as TaskRecord;
}

function simulate(kind: Kind, tasks: number, replications: number, adjust: boolean, alpha = 0.1) {
  const perRep: number[] = [];
  const widths: number[] = [];
  for (let r = 0; r < replications; r++) {
    const rng = createRng(`cv+ ${kind} ${tasks} ${r}`);
    const history = Array.from({ length: tasks }, (_, j) => task(rng, `h${j}`, kind, "history"));
    const targets = Array.from({ length: 20 }, (_, j) => task(rng, `t${j}`, kind, "target"));
    const options: CalibrationOptions = { method: "alg4", alpha, range: null, ...(adjust ? { adjust: AUTO } : {}) };
    const { intervals } = calibrate(history, targets, options);
    let covered = 0;
    intervals.forEach((iv, i) => {
      if (targets[i]!.real_est! >= iv.lower && targets[i]!.real_est! <= iv.upper) covered += 1;
      widths.push(iv.upper - iv.lower);
    });
    perRep.push(covered / intervals.length);
  }
  const coverage = perRep.reduce((s, c) => s + c, 0) / replications;
  const sd = Math.sqrt(perRep.reduce((s, c) => s + (c - coverage) ** 2, 0) / (replications - 1));
  const width = widths.reduce((s, w) => s + w, 0) / widths.length;
  return { coverage, mcSe: sd / Math.sqrt(replications), width };
}

describe("seeded coverage of the cross-fitted adjustment (alg4, α = 0.1)", () => {
  const R = 300;
  for (const T of [20, 50, 200]) {
    it(`T = ${T}: coverage ≥ 1 − α within 3 MC SE; narrower where features predict the gap, no wider where they do not`, () => {
      const lines: string[] = [];
      for (const kind of ["predictable", "unpredictable"] as const) {
        const plain = simulate(kind, T, R, false);
        const adjusted = simulate(kind, T, R, true);
        lines.push(
          `T=${String(T).padStart(3)} ${kind.padEnd(13)} adjusted coverage ${adjusted.coverage.toFixed(3)} width ${adjusted.width.toFixed(3)}   ` +
            `plain coverage ${plain.coverage.toFixed(3)} width ${plain.width.toFixed(3)}   (R = ${R} × 20 targets, MC SE ${adjusted.mcSe.toFixed(4)})`,
        );
        expect(adjusted.coverage, `${kind} T=${T}`).toBeGreaterThanOrEqual(0.9 - 3 * adjusted.mcSe);
        if (kind === "predictable" && T >= 50) expect(adjusted.width).toBeLessThan(0.75 * plain.width);
        // Where nothing predicts the gap the search keeps plain calibration (or an adjustment as narrow).
        if (kind === "unpredictable") expect(adjusted.width).toBeLessThanOrEqual(plain.width * (T === 20 ? 1.1 : 1.03));
      }
      console.log(lines.join("\n"));
    });
  }
});

describe("no leakage from a held-out task's real estimate", () => {
  const rng = createRng(77);
  const history = Array.from({ length: 120 }, (_, j) => ({ ...task(rng, `h${j}`, "predictable", "history"), item: `q${j % 30}` }));
  const targets = Array.from({ length: 10 }, (_, j) => ({ ...task(rng, `t${j}`, "predictable", "target"), item: `new${j}` }));
  const options: CalibrationOptions = { method: "alg4", alpha: 0.1, range: null, adjust: { ...AUTO, splitBy: "item" } };

  it("calibrate: a target's real estimate moves no interval by anything", () => {
    const before = calibrate(history, targets, options).intervals;
    const moved = targets.map((t, i) => (i === 3 ? { ...t, real_est: t.real_est! + 5 } : t));
    expect(calibrate(history, moved, options).intervals).toEqual(before);
  });

  it("evaluate (leave-one-out, cross-fitted): a held-out task's real estimate moves its own interval by exactly 0", () => {
    const own = (rows: TaskRecord[], id: string) => evaluate("loo", rows, [], options).tasks.find((t) => t.task === id)!.rows[0]!;
    for (const id of ["h0", "h57"]) {
      const before = own(history, id);
      const perturbed = history.map((r) => (r.task === id ? { ...r, real_est: r.real_est! - 3 } : r));
      const after = own(perturbed, id);
      expect(after.lower).toBe(before.lower);
      expect(after.upper).toBe(before.upper);
      expect(after.estimate).toBe(before.estimate);
    }
  });
});

/**
 * The ensemble pseudo-model in a seeded simulation: three models answer the
 * same T = 100 historical tasks and 20 targets; each model's synthetic
 * estimate is θ plus its own exaggeration and independent noise (SD 0.06).
 * The ensemble (mean estimate, stacked cross-fitted gap model) must cover
 * θ̂ ≥ 1 − α within 3 MC SE and be narrower than the best model alone.
 */
describe("seeded coverage of the ensemble (alg4, α = 0.1)", () => {
  it("covers ≥ 1 − α and is narrower than any single model calibrated plain", () => {
    const R = 200;
    const slopes = [0.3, -0.2, 0.5];
    const perRep: number[] = [];
    let ensembleWidth = 0;
    const modelWidth = slopes.map(() => 0);
    for (let r = 0; r < R; r++) {
      const rng = createRng(`ensemble ${r}`);
      const rows: TaskRecord[] = [];
      for (let j = 0; j < 120; j++) {
        const theta = rng.uniform(0.2, 0.8);
        const real = theta + 0.02 * rng.normal();
        const role = j < 100 ? "history" : "target";
        slopes.forEach((b, m) => {
          const syn = theta + b * (theta - 0.5) + 0.06 * rng.normal();
          rows.push({ task: `t${j}`, model: `m${m}`, role, real_est: real, real_se: 0.02, syn_est: syn, syn_se: 0.01, extra: {} } as TaskRecord);
        });
      }
      const ensemble = ensembleRows(rows) as (TaskRecord & { role: string })[];
      const history = ensemble.filter((row) => row.role === "history");
      const targets = ensemble.filter((row) => row.role === "target");
      const { intervals } = calibrate(history, targets, { method: "alg4", alpha: 0.1, range: null, adjust: AUTO });
      let covered = 0;
      intervals.forEach((iv, i) => {
        if (targets[i]!.real_est! >= iv.lower && targets[i]!.real_est! <= iv.upper) covered += 1;
        ensembleWidth += (iv.upper - iv.lower) / (R * intervals.length);
      });
      perRep.push(covered / intervals.length);
      slopes.forEach((_, m) => {
        const own = rows.filter((row) => row.model === `m${m}`) as (TaskRecord & { role: string })[];
        const plain = calibrate(own.filter((row) => row.role === "history"), own.filter((row) => row.role === "target"), { method: "alg4", alpha: 0.1, range: null });
        for (const iv of plain.intervals) modelWidth[m]! += (iv.upper - iv.lower) / (R * plain.intervals.length);
      });
    }
    const coverage = perRep.reduce((s, c) => s + c, 0) / R;
    const mcSe = Math.sqrt(perRep.reduce((s, c) => s + (c - coverage) ** 2, 0) / (R - 1) / R);
    console.log(
      `ensemble   coverage ${coverage.toFixed(3)}  width ${ensembleWidth.toFixed(3)}   single models plain: widths ${modelWidth.map((w) => w.toFixed(3)).join(", ")}  (R = ${R} × 20 targets, MC SE ${mcSe.toFixed(4)})`,
    );
    expect(coverage).toBeGreaterThanOrEqual(0.9 - 3 * mcSe);
    expect(ensembleWidth).toBeLessThan(Math.min(...modelWidth));
  });
});
