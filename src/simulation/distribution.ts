/**
 * Answer distributions: what one respondent (real or silicon) would answer to
 * one item, exactly. Discrete for choice items and bounded integer scales
 * (thermometers), a censored normal for wide or fractional numeric items.
 */
import normalCdf from "@stdlib/stats-base-dists-normal-cdf";
import { zQuantile } from "../inference/quantiles.ts";

export type AnswerDistribution =
  | { kind: "discrete"; values: number[]; probs: Float64Array }
  | { kind: "continuous"; mean: number; sd: number; min: number; max: number; decimals: number };

export function logistic(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

function Phi(x: number): number {
  return normalCdf(x, 0, 1);
}

/** Normalises non-negative weights into a discrete distribution over `values`. */
export function discrete(values: number[], weights: ArrayLike<number>): AnswerDistribution {
  const probs = new Float64Array(values.length);
  let total = 0;
  for (let i = 0; i < values.length; i++) total += weights[i]!;
  for (let i = 0; i < values.length; i++) probs[i] = weights[i]! / total;
  return { kind: "discrete", values, probs };
}

/**
 * A latent N(mean, sd²) answer clipped to [min, max] and rounded to a whole
 * number; with probability `heap` it is rounded to the nearest multiple of
 * `step` instead (people answer 50 or 75 more often than 47 or 73).
 */
export function heapedScale(mean: number, sd: number, min: number, max: number, step: number, heap: number): AnswerDistribution {
  const values: number[] = [];
  for (let v = min; v <= max; v++) values.push(v);
  const weights = new Float64Array(values.length);
  const cdf = (x: number) => (sd > 0 ? Phi((x - mean) / sd) : x >= mean ? 1 : 0);
  const addRounded = (grid: number, share: number) => {
    if (share <= 0) return;
    let lower = 0; // each boundary's CDF is computed once and shared by the two values it separates
    for (let v = min; v <= max; v += grid) {
      const upper = v + grid > max ? 1 : cdf(v + grid / 2);
      weights[v - min] = weights[v - min]! + share * Math.max(upper - lower, 0);
      lower = upper;
    }
  };
  const heaping = step > 1 && (max - min) % step === 0 ? heap : 0;
  addRounded(1, 1 - heaping);
  addRounded(step, heaping);
  return discrete(values, weights);
}

/** Cumulative-logit (ordered) probabilities for categories with the given cutpoints. */
export function orderedLogit(values: number[], eta: number, cutpoints: readonly number[], scale: number): AnswerDistribution {
  const weights: number[] = [];
  let below = 0;
  for (let k = 0; k < values.length; k++) {
    const upTo = k < cutpoints.length ? logistic((cutpoints[k]! - eta) / scale) : 1;
    weights.push(Math.max(upTo - below, 0));
    below = upTo;
  }
  return discrete(values, weights);
}

/** Multinomial-logit probabilities from one linear predictor per option. */
export function softmax(values: number[], etas: readonly number[], scale: number): AnswerDistribution {
  const top = Math.max(...etas.map((e) => e / scale));
  return discrete(values, etas.map((e) => Math.exp(e / scale - top)));
}

/**
 * Token-level temperature: p ∝ p^(1/T). T = 1 leaves the distribution as it
 * is, T → 0 puts all mass on the most likely answer; for a continuous answer
 * the sd is scaled by √T (the same operation on a normal density).
 */
export function temper(dist: AnswerDistribution, temperature: number): AnswerDistribution {
  if (temperature === 1) return dist;
  if (dist.kind === "continuous") return { ...dist, sd: dist.sd * Math.sqrt(Math.max(temperature, 0)) };
  if (temperature <= 0) {
    let best = 0;
    for (let i = 1; i < dist.probs.length; i++) if (dist.probs[i]! > dist.probs[best]!) best = i;
    return discrete(dist.values, dist.values.map((_, i) => (i === best ? 1 : 0)));
  }
  const logs = Array.from(dist.probs, (p) => (p > 0 ? Math.log(p) / temperature : -Infinity));
  const top = Math.max(...logs);
  return discrete(dist.values, logs.map((l) => Math.exp(l - top)));
}

/** The answer at uniform `u` ∈ (0, 1): inverse CDF. */
export function sample(dist: AnswerDistribution, u: number): number {
  if (dist.kind === "continuous") {
    const raw = dist.sd > 0 ? dist.mean + dist.sd * zQuantile(u) : dist.mean;
    const clipped = Math.min(Math.max(raw, dist.min), dist.max);
    const factor = 10 ** dist.decimals;
    return Math.round(clipped * factor) / factor;
  }
  let cumulative = 0;
  for (let i = 0; i < dist.values.length; i++) {
    cumulative += dist.probs[i]!;
    if (u < cumulative) return dist.values[i]!;
  }
  // Rounding left u above the total: the last value with positive mass.
  for (let i = dist.values.length - 1; i >= 0; i--) if (dist.probs[i]! > 0) return dist.values[i]!;
  return dist.values[dist.values.length - 1]!;
}

/** The exact expected answer (for a continuous answer, the mean of the censored normal before rounding). */
export function distributionMean(dist: AnswerDistribution): number {
  if (dist.kind === "discrete") {
    let mean = 0;
    for (let i = 0; i < dist.values.length; i++) mean += dist.values[i]! * dist.probs[i]!;
    return mean;
  }
  const { mean, sd, min, max } = dist;
  if (sd <= 0) return Math.min(Math.max(mean, min), max);
  const a = (min - mean) / sd;
  const b = (max - mean) / sd;
  const phi = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
  return min * Phi(a) + max * (1 - Phi(b)) + mean * (Phi(b) - Phi(a)) + sd * (phi(a) - phi(b));
}

/** Probability of `value` under a discrete distribution (0 when absent). */
export function probabilityOf(dist: AnswerDistribution, value: number): number {
  if (dist.kind !== "discrete") return 0;
  const i = dist.values.indexOf(value);
  return i < 0 ? 0 : dist.probs[i]!;
}
