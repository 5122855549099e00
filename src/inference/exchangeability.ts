/**
 * Exchangeability diagnostics on historical gaps (real − synthetic): is the
 * history like the target wave? Two tests, each with a false-alarm rate that
 * holds with few waves. Pure: no I/O; randomness comes from the caller.
 *
 * TREND across ordered groups (waves). Tasks of one wave share that wave's
 * shock, so a regression of task gaps on the wave index treats T correlated
 * tasks as independent and over-rejects (badly: see the tests). The unit of
 * independent information is the wave: we regress the W per-wave MEAN gaps
 * on the wave's rank (0, 1, …, W − 1) by least squares and test the slope
 * with Student's t on W − 2 degrees of freedom. This is exact when the wave
 * means are independent normal draws around a line (means of many tasks are
 * close to normal), whatever the within-wave correlation, and needs only
 * W ≥ 3. A permutation test over waves would be distribution-free but
 * discrete: with 3 waves its smallest p is 1/6 and it could never alarm.
 *
 * HETEROGENEITY between groups: do the gaps of some groups differ from the
 * others' more than tasks drawn from one pool would? The statistic is the
 * between-group sum of squares of the gaps (the one-way ANOVA F numerator;
 * with group sizes fixed it orders permutations as F does), and its null
 * distribution is made by permuting group labels among tasks; the p-value
 * (1 + #{S* ≥ S})/(R + 1) has a false-alarm rate of at most the level
 * exactly under exchangeability, the very null in question. When a `within`
 * key is given (the same item and subgroup in every wave), labels are
 * permuted only among tasks sharing it, so fixed item effects are not
 * mistaken for group effects.
 */
import { tCdf } from "./quantiles.ts";

export interface TrendTest {
  /** Waves with at least one task, in order. */
  waves: number;
  /** Change in the mean gap per wave (least-squares slope on the wave rank). */
  slope: number;
  se: number;
  df: number;
  t: number;
  /** Two-sided p-value. */
  p: number;
  /** Mean gap per wave, in order. */
  means: number[];
}

export interface HeterogeneityTest {
  groups: number;
  tasks: number;
  /** Between-group sum of squares of the gaps. */
  statistic: number;
  permutations: number;
  /** Permutation p-value, (1 + #{S* ≥ S})/(R + 1). */
  p: number;
  /** Mean gap per group, in the order given. */
  means: number[];
}

/**
 * Trend of the mean gap across ordered waves. `wave[i]` is task i's wave
 * rank (0-based, in chronological order). Undefined with fewer than 3 waves.
 */
export function trendTest(gaps: ArrayLike<number>, wave: ArrayLike<number>): TrendTest | undefined {
  const sums = new Map<number, { sum: number; n: number }>();
  for (let i = 0; i < gaps.length; i++) {
    const entry = sums.get(wave[i]!) ?? { sum: 0, n: 0 };
    entry.sum += gaps[i]!;
    entry.n += 1;
    sums.set(wave[i]!, entry);
  }
  const ranks = [...sums.keys()].sort((a, b) => a - b);
  const w = ranks.length;
  if (w < 3) return undefined;
  const x = ranks;
  const y = ranks.map((r) => sums.get(r)!.sum / sums.get(r)!.n);
  const xBar = x.reduce((a, b) => a + b, 0) / w;
  const yBar = y.reduce((a, b) => a + b, 0) / w;
  let sxx = 0;
  let sxy = 0;
  for (let k = 0; k < w; k++) {
    sxx += (x[k]! - xBar) ** 2;
    sxy += (x[k]! - xBar) * (y[k]! - yBar);
  }
  const slope = sxy / sxx;
  let rss = 0;
  for (let k = 0; k < w; k++) rss += (y[k]! - yBar - slope * (x[k]! - xBar)) ** 2;
  const df = w - 2;
  const se = Math.sqrt(rss / df / sxx);
  const t = slope / se;
  const p = se === 0 ? (slope === 0 ? 1 : 0) : 2 * (1 - tCdf(Math.abs(t), df));
  return { waves: w, slope, se, df, t, p, means: y };
}

/**
 * Permutation test of heterogeneity between groups. `group[i]` is task i's
 * group index (0-based); `within[i]`, optional, a stratum within which labels
 * are permuted. `random` returns uniforms in [0, 1) (seed it for
 * reproducibility). Undefined with fewer than 2 groups.
 */
export function heterogeneityTest(
  gaps: ArrayLike<number>,
  group: ArrayLike<number>,
  random: () => number,
  options: { permutations?: number; within?: ArrayLike<number> } = {},
): HeterogeneityTest | undefined {
  const n = gaps.length;
  const groups = Math.max(-1, ...Array.from(group)) + 1;
  const sizes = new Float64Array(groups);
  for (let i = 0; i < n; i++) sizes[group[i]!]! += 1;
  if (Array.from(sizes).filter((s) => s > 0).length < 2) return undefined;
  const permutations = options.permutations ?? 999;
  const labels = Int32Array.from(group);
  const observed = betweenSquares(gaps, labels, sizes);
  const means = Array.from(sizes, (size, g) => {
    let sum = 0;
    for (let i = 0; i < n; i++) if (labels[i] === g) sum += gaps[i]!;
    return size > 0 ? sum / size : NaN;
  });
  // Strata: the positions of each, whose labels are shuffled among themselves.
  const strata = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const key = options.within === undefined ? 0 : options.within[i]!;
    const list = strata.get(key);
    if (list === undefined) strata.set(key, [i]);
    else list.push(i);
  }
  const blocks = [...strata.values()].filter((b) => b.length > 1);
  const shuffled = Int32Array.from(labels);
  let atLeast = 0;
  // A relative tolerance, so that a permutation equal to the observed split in exact arithmetic counts.
  const threshold = observed * (1 - 1e-12);
  for (let r = 0; r < permutations; r++) {
    for (const block of blocks) {
      for (let j = block.length - 1; j > 0; j--) {
        const k = Math.floor(random() * (j + 1));
        const a = block[j]!;
        const b = block[k]!;
        const tmp = shuffled[a]!;
        shuffled[a] = shuffled[b]!;
        shuffled[b] = tmp;
      }
    }
    if (betweenSquares(gaps, shuffled, sizes) >= threshold) atLeast += 1;
  }
  return { groups: Array.from(sizes).filter((s) => s > 0).length, tasks: n, statistic: observed, permutations, p: (1 + atLeast) / (permutations + 1), means };
}

/** Σ_g n_g (ȳ_g − ȳ)²: with the total sum fixed, Σ_g (Σ_{i∈g} y_i)²/n_g orders permutations the same way. */
function betweenSquares(gaps: ArrayLike<number>, labels: Int32Array, sizes: Float64Array): number {
  const sums = new Float64Array(sizes.length);
  let total = 0;
  for (let i = 0; i < gaps.length; i++) {
    sums[labels[i]!]! += gaps[i]!;
    total += gaps[i]!;
  }
  let between = 0;
  for (let g = 0; g < sizes.length; g++) if (sizes[g]! > 0) between += sums[g]! ** 2 / sizes[g]!;
  return between - total ** 2 / gaps.length;
}
