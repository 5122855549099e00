/**
 * Inference at scale, as wall times: leave-one-out over 10,000 tasks (sort
 * once, remove the held-out value by rank: O(T log T)) and calibration of
 * 100,000 targets against 10,000 historical tasks (bounds once per cell).
 * No other package computes Algorithm 4's leave-one-out, so there is no
 * peer to divide by; the figures are absolute. (A re-sorting loop written
 * for the purpose would be a baseline nobody uses, so there is none.)
 */
import { leaveOneOut } from "../src/evaluation/loo.ts";
import { calibrate, type CalibrationOptions } from "../src/inference/calibrate.ts";
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

export default async function bench(report: Report): Promise<void> {
  const alpha = 0.1;
  const history = tasks(10_000, 1, "h");

  // Leave-one-out over 10,000 tasks.
  const options: CalibrationOptions = { method: "alg4", alpha, range: [0, 1] };
  const fastLoo = await timeMs(() => leaveOneOut(history, options), 3);
  report({ name: "LOO over 10,000 tasks, alg4 (sort once, remove by rank)", value: fastLoo, unit: "ms" });
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
  report({ name: "calibrate 100,000 targets on 10,000 tasks, alg4", value: fastCalibrate, unit: "ms" });
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
