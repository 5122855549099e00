/**
 * Inference at scale, each figure against a naive re-sorting implementation
 * measured in the same run:
 * - leave-one-out over 10,000 tasks (sort once, remove the held-out value by
 *   rank) vs re-sorting the other 9,999 gaps for every held-out task;
 * - calibration of 100,000 targets against 10,000 historical tasks (bounds
 *   once per cell) vs re-sorting the history for every target.
 * The naive versions would take minutes in full, so they run on a slice of the
 * held-out tasks (targets) and are scaled up linearly: each held-out task
 * (target) costs them the same one sort.
 */
import { leaveOneOut } from "../src/evaluation/loo.ts";
import { calibrate, type CalibrationOptions } from "../src/inference/calibrate.ts";
import { kHi, kLo } from "../src/inference/order-stats.ts";
import type { TaskRecord } from "../src/inference/task-record.ts";
import { createRng } from "../src/simulation/random.ts";
import { simulateSection54 } from "../src/simulation/tasks.ts";
import { timeMs, type Report } from "./harness.ts";

function tasks(count: number, seed: number, prefix: string): TaskRecord[] {
  const sim = simulateSection54(createRng(seed), count);
  return Array.from(sim.theta, (_, j) => ({
    task: `${prefix}${j}`,
    model: "m",
    item: `q${j % 200}`,
    subgroup: `s${j % 6}`,
    real_est: sim.realEst[j]!,
    real_se: sim.realSe[j]!,
    syn_est: sim.synEst[j]!,
    syn_se: sim.synSe[j]!,
    extra: {},
  }));
}

/** Algorithm 4's bounds for held-out task j by copying and sorting the others. */
function naiveLooBounds(gaps: Float64Array, j: number, alpha: number): [number, number] {
  const rest = new Float64Array(gaps.length - 1);
  rest.set(gaps.subarray(0, j), 0);
  rest.set(gaps.subarray(j + 1), j);
  rest.sort();
  const T = rest.length;
  return [rest[kLo(T, alpha) - 1]!, rest[kHi(T, alpha) - 1]!];
}

export default async function bench(report: Report): Promise<void> {
  const alpha = 0.1;
  const history = tasks(10_000, 1, "h");
  const gaps = Float64Array.from(history, (r) => r.real_est! - r.syn_est);

  // Leave-one-out over 10,000 tasks.
  const options: CalibrationOptions = { method: "alg4", alpha, range: [0, 1] };
  const fastLoo = await timeMs(() => leaveOneOut(history, options), 3);
  const slice = 500;
  const naiveSlice = await timeMs(() => {
    for (let j = 0; j < slice; j++) naiveLooBounds(gaps, j, alpha);
  }, 1);
  const naiveLoo = naiveSlice * (history.length / slice);
  report({ name: "LOO over 10,000 tasks, alg4 (sort once, remove by rank)", value: fastLoo, unit: "ms" });
  report({ name: "LOO over 10,000 tasks, naive re-sorting", value: naiveLoo, unit: "ms", note: `measured on ${slice} held-out tasks, ×${history.length / slice}` });
  report({ name: "LOO speed-up vs naive re-sorting", value: naiveLoo / fastLoo, unit: "×" });
  const alg1Loo = await timeMs(() => leaveOneOut(history, { ...options, method: "alg1" }), 3);
  report({ name: "LOO over 10,000 tasks, alg1", value: alg1Loo, unit: "ms" });
  const adjustedLoo = await timeMs(
    () => leaveOneOut(history, { ...options, adjust: { mode: "split", splitBy: "item", features: ["syn_est", "syn_est^2", "subgroup"], ridge: 1, seed: 1 } }),
    3,
  );
  report({ name: "LOO over 10,000 tasks, alg4 regression-adjusted (split halves)", value: adjustedLoo, unit: "ms" });

  // 100,000 targets against 10,000 historical tasks.
  const targets = tasks(100_000, 2, "t");
  const fastCalibrate = await timeMs(() => calibrate(history, targets, options), 3);
  const targetSlice = 200;
  const naiveTargets = await timeMs(() => {
    for (let t = 0; t < targetSlice; t++) {
      const sorted = Float64Array.from(gaps).sort();
      const T = sorted.length;
      const syn = targets[t]!.syn_est;
      void [syn + sorted[kLo(T, alpha) - 1]!, syn + sorted[kHi(T, alpha) - 1]!];
    }
  }, 1);
  const naiveCalibrate = naiveTargets * (targets.length / targetSlice);
  report({ name: "calibrate 100,000 targets on 10,000 tasks, alg4", value: fastCalibrate, unit: "ms" });
  report({ name: "calibrate 100,000 targets, naive re-sorting per target", value: naiveCalibrate, unit: "ms", note: `measured on ${targetSlice} targets, ×${targets.length / targetSlice}` });
  report({ name: "calibrate speed-up vs naive re-sorting", value: naiveCalibrate / fastCalibrate, unit: "×" });
  const alg1Calibrate = await timeMs(() => calibrate(history, targets, { ...options, method: "alg1" }), 3);
  report({ name: "calibrate 100,000 targets on 10,000 tasks, alg1", value: alg1Calibrate, unit: "ms" });

  // The cross-fitted adjustment (features searched, K = 10 fold fits, CV+ bounds per target) against plain alg4, same tasks.
  const someTargets = targets.slice(0, 10_000);
  const plainTen = await timeMs(() => calibrate(history, someTargets, options), 3);
  const crossFitted = await timeMs(
    () => calibrate(history, someTargets, { ...options, adjust: { mode: "cv", splitBy: "item", features: "auto", ridge: 1, seed: 1 } }),
    3,
  );
  report({ name: "calibrate 10,000 targets on 10,000 tasks, alg4 plain", value: plainTen, unit: "ms" });
  report({ name: "calibrate 10,000 targets on 10,000 tasks, alg4 cross-fitted adjustment (--adjust)", value: crossFitted, unit: "ms" });
  report({ name: "cross-fitted adjustment cost vs plain calibration", value: crossFitted / plainTen, unit: "×" });
}
