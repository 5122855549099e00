/** The shape every calibration algorithm shares, so cells, folds and leave-one-out treat them alike. */
import type { Bounds, GapSample } from "./bounds.ts";

export type MethodName = "alg1" | "alg2" | "alg3" | "alg3-bonferroni" | "alg3-fitted" | "alg4" | "alg5";

export const METHOD_NAMES: readonly MethodName[] = ["alg1", "alg2", "alg3", "alg3-bonferroni", "alg3-fitted", "alg4", "alg5"];

export interface AlgorithmOptions {
  /** Algorithm 3's rectangle scales s_k (default 1 for every coordinate). */
  scale?: ArrayLike<number>;
}

/** Bounds for a target, optionally computed as if task `leaveOut` of the sample were absent. */
export type BoundsFor = (leaveOut?: number) => Bounds;

export interface Algorithm {
  name: MethodName;
  /** One line for help texts and summaries. */
  title: string;
  /** Calibrates whole vector tasks jointly (a rectangle); otherwise each coordinate on its own. */
  joint: boolean;
  /** Reads Algorithm 2's weights. */
  weighted: boolean;
  /** Needs per-task gap standard errors (real_se and syn_se, or gap_se). */
  needsGapSe: boolean;
  /** Targets the finite-sample θ̂ of the target (Algorithm 4) rather than the population θ. */
  finiteSample: boolean;
  /**
   * Prepares calibration on `sample`. With `leaveOneOut` false the result is
   * called without an index and uses all T tasks; with it true, each call
   * `boundsFor(j)` gives the bounds from the other T − 1 tasks, the sample
   * having been sorted once.
   */
  prepare(sample: GapSample, alpha: number, leaveOneOut: boolean, options?: AlgorithmOptions): BoundsFor;
}

/** Bounds from all tasks of `sample`. */
export function calibrateSample(algorithm: Algorithm, sample: GapSample, alpha: number, options?: AlgorithmOptions): Bounds {
  return algorithm.prepare(sample, alpha, false, options)();
}

export function requireIndex(leaveOneOut: boolean, index: number | undefined): void {
  if (leaveOneOut !== (index !== undefined)) {
    throw new RangeError(leaveOneOut ? "leave-one-out bounds need the held-out index" : "bounds for a new target take no index");
  }
}
