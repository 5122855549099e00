/**
 * Design-based estimates that reproduce R's `survey` package (SPEC-inference.md,
 * "Classical intervals"): weighted ratio means with linearization standard
 * errors, with-replacement, single stage (`svydesign(ids = ~1, weights = ~w)`).
 *
 * Every estimator reduces to the sufficient statistics in `DomainSums`, so the
 * same formula serves plain arrays (here) and grouped arquero rollups
 * (src/estimands): one implementation of the variance, not two.
 *
 * Domains follow `svyby`: the influence values are zero outside the domain and
 * the n/(n-1) factor uses the size of the whole design, not of the domain.
 */
import { tQuantile, zCritical } from "./quantiles.ts";

/** Sufficient statistics of one weighted domain mean. */
export interface DomainSums {
  /** Sampling units (respondents) in the whole design: the n of n/(n-1). */
  designSize: number;
  /** Units inside the domain with a value. */
  count: number;
  sumW: number;
  sumWY: number;
  sumW2: number;
  sumW2Y: number;
  sumW2Y2: number;
}

export interface Estimate {
  estimate: number;
  /** Linearization standard error; NaN when it cannot be estimated (one unit). */
  se: number;
  /** Units in the domain (respondents, not generations). */
  n: number;
}

export function emptySums(designSize: number): DomainSums {
  return { designSize, count: 0, sumW: 0, sumWY: 0, sumW2: 0, sumW2Y: 0, sumW2Y2: 0 };
}

/** Adds one unit with weight `w` and value `y` to the domain's sums (in place). */
export function addUnit(sums: DomainSums, w: number, y: number): void {
  const w2 = w * w;
  sums.count += 1;
  sums.sumW += w;
  sums.sumWY += w * y;
  sums.sumW2 += w2;
  sums.sumW2Y += w2 * y;
  sums.sumW2Y2 += w2 * y * y;
}

/**
 * ȳ = Σw y / Σw and SE² = n/(n−1) · Σ (w (y − ȳ))² / (Σw)², the expansion of
 * the centred sum done from raw moments.
 */
export function domainMean(sums: DomainSums): Estimate {
  const { designSize: n, count, sumW } = sums;
  if (count === 0 || sumW <= 0) return { estimate: NaN, se: NaN, n: count };
  const mean = sums.sumWY / sumW;
  const centred = sums.sumW2Y2 - 2 * mean * sums.sumW2Y + mean * mean * sums.sumW2;
  // Raw moments can leave a tiny negative residue where every y is equal.
  const squares = Math.max(centred, 0);
  const variance = n > 1 ? (n / (n - 1)) * squares / (sumW * sumW) : NaN;
  return { estimate: mean, se: Math.sqrt(variance), n: count };
}

/**
 * Weighted mean (or proportion, for 0/1 values) of `y` over the units where
 * `domain` is true (all units when omitted). A NaN value is missing: outside
 * the domain, but still part of the design's n, as `svymean(na.rm = TRUE)`.
 */
export function weightedMean(
  y: ArrayLike<number>,
  w: ArrayLike<number>,
  domain?: ArrayLike<boolean>,
): Estimate {
  if (y.length !== w.length || (domain !== undefined && domain.length !== y.length)) {
    throw new RangeError("weightedMean: values, weights and domain must have the same length");
  }
  const sums = emptySums(y.length);
  for (let i = 0; i < y.length; i++) {
    const value = y[i]!;
    if (Number.isNaN(value) || (domain !== undefined && !domain[i])) continue;
    addUnit(sums, w[i]!, value);
  }
  return domainMean(sums);
}

/**
 * Averages the generations of each respondent: `cluster[g]` is the respondent
 * index (0..clusters-1) of generation g. Returns per-respondent means (NaN for
 * a respondent with no generation) and generation counts. Weighting each
 * generation w_i/k_i under `ids = ~respondent` gives exactly the weighted mean
 * of these averages with the `ids = ~1` SE, which is how clusters are handled.
 */
export function clusterAverages(
  cluster: ArrayLike<number>,
  y: ArrayLike<number>,
  clusters: number,
): { mean: Float64Array; count: Int32Array } {
  const sum = new Float64Array(clusters);
  const count = new Int32Array(clusters);
  for (let g = 0; g < y.length; g++) {
    const value = y[g]!;
    if (Number.isNaN(value)) continue;
    const c = cluster[g]!;
    sum[c]! += value;
    count[c]! += 1;
  }
  const mean = new Float64Array(clusters);
  for (let c = 0; c < clusters; c++) mean[c] = count[c]! > 0 ? sum[c]! / count[c]! : NaN;
  return { mean, count };
}

/**
 * Paired gap θ̂ − θ̃̂ where each synthetic respondent is the silicon twin of a
 * real one (same weights): the influence of the difference of the two ratio
 * means is w_i((y_i − ȳ) − (ỹ_i − ỹ̄))/W, i.e. the weighted mean of the
 * differences over respondents that have both values. `synthetic` holds the
 * respondent-level synthetic values (generation averages), NaN when missing.
 */
export function pairedGap(
  real: ArrayLike<number>,
  synthetic: ArrayLike<number>,
  w: ArrayLike<number>,
  domain?: ArrayLike<boolean>,
): Estimate {
  const difference = new Float64Array(real.length);
  for (let i = 0; i < real.length; i++) difference[i] = real[i]! - synthetic[i]!;
  return weightedMean(difference, w, domain);
}

/** Gap of two independent samples: (θ̂ − θ̃̂) with SE sqrt(SE_real² + SE_syn²). */
export function independentGap(real: Estimate, synthetic: Estimate): Estimate {
  return {
    estimate: real.estimate - synthetic.estimate,
    se: Math.hypot(real.se, synthetic.se),
    n: Math.min(real.n, synthetic.n),
  };
}

export interface Interval {
  lower: number;
  upper: number;
}

/** Wald interval est ± z_{1−a/2}·se, clipped to `range` when one is given. */
export function waldInterval(estimate: number, se: number, a: number, range?: readonly [number, number]): Interval {
  const half = zCritical(a) * se;
  const interval = { lower: estimate - half, upper: estimate + half };
  return range === undefined ? interval : clipInterval(interval, range);
}

export function clipInterval(interval: Interval, range: readonly [number, number]): Interval {
  return {
    lower: Math.min(Math.max(interval.lower, range[0]), range[1]),
    upper: Math.max(Math.min(interval.upper, range[1]), range[0]),
  };
}

/**
 * Logit interval for a proportion, as `svyciprop(method = "logit")`: a t
 * interval for logit(p̂) with SE se/(p̂(1−p̂)), mapped back; `df` is the
 * domain's units minus one (R's `degf` of the subset design).
 */
export function logitInterval(estimate: number, se: number, a: number, df: number): Interval {
  if (estimate <= 0 || estimate >= 1) return { lower: estimate, upper: estimate };
  const center = Math.log(estimate / (1 - estimate));
  const half = tQuantile(1 - a / 2, df) * (se / (estimate * (1 - estimate)));
  const expit = (x: number) => 1 / (1 + Math.exp(-x));
  return { lower: expit(center - half), upper: expit(center + half) };
}
