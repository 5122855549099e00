/**
 * Cross-fitted regression adjustment: CV+ (Barber, Candès, Ramdas and
 * Tibshirani 2021, "Predictive inference with the jackknife+") on the gaps.
 * The calibration tasks are cut into K folds by a grouping (whole groups per
 * fold, e.g. every task of a question together); a gap model m_f is fit on
 * the tasks outside fold f, and each task j gets its out-of-fold residual
 * R_j = Δ̂_j − m_{f(j)}(x_j). A target x gets, with the method's per-task ends
 * lo_j ≤ R_j ≤ hi_j (R_j itself for Algorithm 4; R_j ∓ z·se_j for 1 and 5),
 *   L̂(x) = k_lo-th smallest of {m_{f(j)}(x) + lo_j},  Û(x) = k_hi-th smallest of {m_{f(j)}(x) + hi_j},
 * added to its synthetic interval (or point). Every task is used both to fit
 * (K − 1 models) and to calibrate (its residual). Guarantee: docs/calibrate.md.
 *
 * With features "auto", the terms are chosen by greedy forward selection on
 * the same folds, scored by the out-of-fold width the method would give
 * (the k_hi-th upper end minus the k_lo-th lower end), and the adjustment is
 * dropped for plain calibration where it does not narrow that width.
 */
import type { Algorithm } from "./algorithm.ts";
import { hash } from "./adjust.ts";
import type { Bounds, GapSample } from "./bounds.ts";
import { splitBudget, wholeBudget, type AlphaBudget } from "./budget.ts";
import { compileDesign } from "./design.ts";
import { foldStats, predictRow, ridgeFromStats, sumStats, withoutFold, type FoldStats } from "./gram.ts";
import { kHi, kLo, orderStatistic } from "./order-stats.ts";
import { zCritical } from "./quantiles.ts";
import { kthOfShiftedUnion } from "./shifted-union.ts";
import { attributeOf, gapOf, gapSeOf, type TaskRecord } from "./task-record.ts";

/** Most folds: beyond 10 the fits cost more and the widths barely move. */
export const MAX_FOLDS = 10;
/** Fewest groups (fold units) the automatic search runs on; below it plain calibration is kept. */
export const MIN_GROUPS = 10;
/** Relative narrowing of the inner-CV width a term (and the adjustment as a whole) must bring to be kept. */
export const MIN_GAIN = 0.05;
/** Prefix of the columns holding the other models' synthetic estimates of the same task (stack.ts). */
export const STACK_PREFIX = "syn_est@";

/** Methods CV+ applies to: scalar, unweighted order-statistic methods. */
export function crossFitSupported(algorithm: Algorithm): boolean {
  return algorithm.name === "alg1" || algorithm.name === "alg4" || algorithm.name === "alg5";
}

/** Budget, order-statistic indices and gap level of `algorithm` at α with T tasks (throws InfeasibleError like the algorithm). */
function orderRule(algorithm: Algorithm, alpha: number, tasks: number): { budget: AlphaBudget; lo: number; hi: number; z: number; syntheticLevel: number | null } {
  if (algorithm.finiteSample) {
    const budget = wholeBudget(alpha, tasks);
    return { budget, lo: kLo(tasks, alpha), hi: kHi(tasks, alpha), z: 0, syntheticLevel: null };
  }
  const budget = splitBudget(alpha, tasks);
  const level = algorithm.name === "alg5" ? budget.gap / tasks : budget.gap;
  return { budget, lo: kLo(tasks, budget.exchangeability), hi: kHi(tasks, budget.exchangeability), z: zCritical(level), syntheticLevel: budget.synthetic };
}

/**
 * Assigns each distinct value a fold 0..K−1: values ordered by a seeded hash,
 * dealt round-robin, so folds differ in size by at most one group and the
 * assignment does not depend on row order.
 */
export function assignFolds(values: Iterable<string>, folds: number, seed: number): Map<string, number> {
  const keyed = [...new Set(values)].map((v) => ({ v, h: hash(v, seed) }));
  keyed.sort((a, b) => a.h - b.h || (a.v < b.v ? -1 : a.v > b.v ? 1 : 0));
  return new Map(keyed.map(({ v }, i) => [v, i % folds]));
}

/** A block of terms the automatic search adds or leaves out together. */
export interface FeatureBlock {
  name: string;
  terms: string[];
}

const NOT_FEATURES = new Set(["task", "model", "role", "real_est", "real_se", "real_n", "gap_se", "weight", "syn_n", "syn_est", "syn_se"]);

/**
 * The candidate blocks a table offers: syn_est (with its square), syn_se,
 * the other models' synthetic estimates of the same task (one block), and
 * every other column but ids, real-data columns and weights, each a block.
 * `splitBy` is left out: its levels never recur across folds.
 */
export function candidateBlocks(rows: readonly TaskRecord[], splitBy: string): FeatureBlock[] {
  const blocks: FeatureBlock[] = [{ name: "syn_est", terms: ["syn_est", "syn_est^2"] }, { name: "syn_se", terms: ["syn_se"] }];
  const columns = new Set<string>();
  for (const column of ["item", "subgroup", "coord", "group"]) if (rows.some((r) => attributeOf(r, column) !== undefined)) columns.add(column);
  for (const row of rows) for (const key of Object.keys(row.extra)) columns.add(key);
  const stack = [...columns].filter((c) => c.startsWith(STACK_PREFIX)).sort();
  if (stack.length > 0) blocks.push({ name: "other models' syn_est", terms: stack });
  const context = [...columns].filter((c) => c.startsWith("syn_est~")).sort();
  if (context.length > 0) blocks.push({ name: "syn_est across subgroups", terms: context });
  for (const column of [...columns].sort()) {
    if (column === splitBy || NOT_FEATURES.has(column) || column.startsWith(STACK_PREFIX) || column.startsWith("syn_est~") || column.startsWith("real_")) continue;
    blocks.push({ name: column, terms: [column] });
  }
  return blocks;
}

export interface CrossFitChoice {
  /** Terms of the chosen gap model; empty when plain calibration was kept. */
  features: string[];
  /** Names of the chosen blocks (automatic search) or the terms given. */
  blocks: string[];
  ridge: number;
  folds: number;
  /** Inner-CV widths: plain calibration and the chosen adjustment. */
  plainWidth: number;
  adjustedWidth: number;
}

export interface CrossFitSettings {
  features: readonly string[] | "auto";
  ridge: number;
  seed: number;
  alpha: number;
  algorithm: Algorithm;
  /** Requested folds (default min(groups, MAX_FOLDS)). */
  folds?: number;
}

/** A cell's cross-fitted gap model: fold models, out-of-fold residuals, CV+ bounds for targets. */
export interface CrossFit {
  choice: CrossFitChoice;
  /** Out-of-fold residuals as a gap sample (for summaries and the method's feasibility check). */
  sample: GapSample;
  /** CV+ bounds of a target at α. */
  prepare(alpha: number): (row: TaskRecord) => Bounds;
}

/** One calibration's rows as the fits see them: encoded once, with their folds and per-fold statistics. */
interface Fits {
  encoded: readonly { index: number[]; value: number[] }[];
  gaps: Float64Array;
  se: Float64Array;
  foldOf: Int32Array;
  folds: number;
  columns: number;
  /** Per fold f, the statistics of the rows outside f. */
  complements: FoldStats[];
}

/** Out-of-fold residuals of the model on `subset` columns, fold by fold. */
function outOfFold(fits: Fits, subset: readonly number[], ridge: number): { residual: Float64Array; betas: Float64Array[] } {
  const betas = fits.complements.map((stats) => ridgeFromStats(stats, fits.columns, subset, ridge));
  const residual = Float64Array.from(fits.gaps, (g, i) => g - predictRow(fits.encoded[i]!, betas[fits.foldOf[i]!]!));
  return { residual, betas };
}

/** The width the method would give from these residuals: k_hi-th upper end minus k_lo-th lower end. */
function widthOf(residual: Float64Array, se: Float64Array, rule: { lo: number; hi: number; z: number }): number {
  const lower = Float64Array.from(residual, (r, i) => r - rule.z * se[i]!).sort();
  const upper = Float64Array.from(residual, (r, i) => r + rule.z * se[i]!).sort();
  return orderStatistic(upper, rule.hi) - orderStatistic(lower, rule.lo);
}

type Rule = ReturnType<typeof orderRule>;

/**
 * Greedy forward selection of blocks by inner-CV width: each step adds the
 * block that narrows it most, while that is by MIN_GAIN; then λ is tried ×10
 * and ×100. Named features are all taken, at the λ given.
 */
function searchBlocks(
  fits: Fits,
  blockColumns: readonly number[][],
  rule: Rule,
  settings: CrossFitSettings,
  plainWidth: number,
): { chosen: number[]; ridge: number; width: number } {
  const score = (chosen: readonly number[], ridge: number) =>
    widthOf(outOfFold(fits, [0, ...chosen.flatMap((b) => blockColumns[b]!)], ridge).residual, fits.se, rule);
  const usable = blockColumns.map((_, b) => b).filter((b) => blockColumns[b]!.length > 0);
  if (settings.features !== "auto") return { chosen: usable, ridge: settings.ridge, width: score(usable, settings.ridge) };
  const chosen: number[] = [];
  let width = plainWidth;
  let ridge = settings.ridge;
  for (;;) {
    let best: { block: number; width: number } | undefined;
    for (const b of usable) {
      if (chosen.includes(b)) continue;
      const w = score([...chosen, b], ridge);
      if (best === undefined || w < best.width) best = { block: b, width: w };
    }
    if (best === undefined || !(best.width < width * (1 - MIN_GAIN))) break;
    chosen.push(best.block);
    width = best.width;
  }
  if (chosen.length > 0) {
    for (const candidate of [10 * settings.ridge, 100 * settings.ridge]) {
      const w = score(chosen, candidate);
      if (w < width) [width, ridge] = [w, candidate];
    }
  }
  return { chosen, ridge, width };
}

/** Compiles the blocks' terms on the rows and lists each block's columns (terms that compiled to nothing drop out). */
function designFor(rows: readonly TaskRecord[], groups: readonly string[], blocks: readonly FeatureBlock[], automatic: boolean) {
  const rowIndex = new Map(rows.map((r, i) => [r, i]));
  const groupOf = (row: TaskRecord) => groups[rowIndex.get(row)!]!;
  const design = compileDesign(
    blocks.flatMap((b) => b.terms),
    rows,
    automatic ? { groupOf } : {},
  );
  const blockColumns = blocks.map((block) => {
    const cols: number[] = [];
    design.terms.forEach((t, i) => {
      if (block.terms.includes(t.term)) for (let c = 0; c < t.width; c++) cols.push(design.bases[i]! + c);
    });
    return cols;
  });
  return { design, blockColumns };
}

/**
 * Fits the cross-fitted adjustment of one calibration cell. `groups[i]` is
 * row i's fold unit. Returns undefined when plain calibration is kept (the
 * search found nothing that narrows the inner-CV width, or too few groups);
 * `onPlain` then hears what was found.
 */
export function fitCrossFit(
  rows: readonly TaskRecord[],
  groups: readonly string[],
  settings: CrossFitSettings,
  onPlain?: (choice: CrossFitChoice) => void,
): CrossFit | undefined {
  const distinct = new Set(groups);
  const folds = Math.min(settings.folds ?? MAX_FOLDS, distinct.size);
  const gaps = Float64Array.from(rows, gapOf);
  const se = Float64Array.from(rows, (r) => {
    const s = gapSeOf(r);
    return Number.isFinite(s) ? s : 0;
  });
  const rule = orderRule(settings.algorithm, settings.alpha, rows.length);
  const plainWidth = widthOf(gaps, se, rule);
  const automatic = settings.features === "auto";
  const plain = (adjustedWidth: number) => onPlain?.({ features: [], blocks: [], ridge: settings.ridge, folds, plainWidth, adjustedWidth });
  // The automatic search needs enough groups for out-of-group widths to mean something: with a few
  // (items, say) one unusual group decides it, and held-out groups undercover.
  if (folds < 2 || (automatic && distinct.size < MIN_GROUPS)) {
    plain(plainWidth);
    return undefined;
  }
  const assignment = assignFolds(groups, folds, settings.seed);
  const foldOf = Int32Array.from(groups, (g) => assignment.get(g)!);
  const blocks: FeatureBlock[] = automatic ? candidateBlocks(rows, "") : (settings.features as readonly string[]).map((term) => ({ name: term, terms: [term] }));
  const { design, blockColumns } = designFor(rows, groups, blocks, automatic);
  const encoded = rows.map(design.encode);
  const stats = foldStats(design.columns, folds, encoded, gaps, foldOf);
  const total = sumStats(stats, design.columns);
  const fits: Fits = { encoded, gaps, se, foldOf, folds, columns: design.columns, complements: stats.map((s) => withoutFold(total, s)) };

  const search = searchBlocks(fits, blockColumns, rule, settings, plainWidth);
  let width = search.width;
  if (automatic && !(width < plainWidth * (1 - MIN_GAIN))) {
    plain(width);
    return undefined;
  }
  const subset = [0, ...search.chosen.flatMap((b) => blockColumns[b]!)];
  const { residual, betas } = outOfFold(fits, subset, search.ridge);
  // Normalized scores R_j / σ̂(x_j), where they narrow the typical (median) interval.
  const spread = fitSpread(fits, subset, search.ridge, betas);
  const scaleOf = Float64Array.from(rows, (_, i) => spread.at(foldOf[i]!, encoded[i]!));
  const normalized = Float64Array.from(residual, (r, i) => r / scaleOf[i]!);
  const seScaled = Float64Array.from(se, (v, i) => v / scaleOf[i]!);
  const scaledWidth = widthOf(normalized, seScaled, rule) * median(scaleOf);
  const studentized = scaledWidth < width * (1 - MIN_GAIN);
  if (studentized) width = scaledWidth;
  const names = search.chosen.map((b) => blocks[b]!.name);
  return {
    choice: {
      features: search.chosen.flatMap((b) => blocks[b]!.terms),
      blocks: studentized ? [...names, "scaled by fitted spread"] : names,
      ridge: search.ridge,
      folds,
      plainWidth,
      adjustedWidth: width,
    },
    sample: { size: rows.length, dims: 1, gap: [residual], se: [se] },
    prepare: (alpha) =>
      cvPlusBounds(
        { residual, scores: studentized ? normalized : residual, scoreSe: studentized ? seScaled : se, foldOf, folds },
        orderRule(settings.algorithm, alpha, rows.length),
        (row, predictions, scales) => {
          const x = design.encode(row);
          for (let f = 0; f < folds; f++) {
            predictions[f] = predictRow(x, betas[f]!);
            if (studentized) scales[f] = spread.at(f, x);
          }
        },
      ),
  };
}

/**
 * CV+ bounds for targets at one α: per fold, the sorted lower and upper
 * score ends; per target, its K fold predictions (and scales) shift them,
 * and the bounds are order statistics of the union (shifted-union.ts).
 */
function cvPlusBounds(
  scored: { residual: Float64Array; scores: Float64Array; scoreSe: Float64Array; foldOf: Int32Array; folds: number },
  rule: Rule,
  predict: (row: TaskRecord, predictions: Float64Array, scales: Float64Array) => void,
): (row: TaskRecord) => Bounds {
  const { residual, scores, scoreSe, foldOf, folds } = scored;
  const n = residual.length;
  const lower = Array.from({ length: folds }, () => [] as number[]);
  const upper = Array.from({ length: folds }, () => [] as number[]);
  let meanResidual = 0;
  const share = new Float64Array(folds);
  scores.forEach((score, i) => {
    const half = scoreSe[i]! === 0 ? 0 : rule.z * scoreSe[i]!;
    lower[foldOf[i]!]!.push(score - half);
    upper[foldOf[i]!]!.push(score + half);
    meanResidual += residual[i]! / n;
    share[foldOf[i]!]! += 1 / n;
  });
  const lowerSorted = lower.map((a) => Float64Array.from(a).sort());
  const upperSorted = upper.map((a) => Float64Array.from(a).sort());
  const predictions = new Float64Array(folds);
  const scales = new Float64Array(folds).fill(1);
  return (row) => {
    predict(row, predictions, scales);
    let meanShift = meanResidual;
    for (let f = 0; f < folds; f++) meanShift += share[f]! * predictions[f]!;
    return {
      tasks: n,
      budget: rule.budget,
      syntheticLevel: rule.syntheticLevel,
      lower: Float64Array.of(kthOfShiftedUnion(lowerSorted, predictions, rule.lo, scales)),
      upper: Float64Array.of(kthOfShiftedUnion(upperSorted, predictions, rule.hi, scales)),
      meanGap: Float64Array.of(meanShift),
    };
  };
}

function median(values: Float64Array): number {
  const sorted = Float64Array.from(values).sort();
  const h = (sorted.length - 1) / 2;
  return (sorted[Math.floor(h)]! + sorted[Math.ceil(h)]!) / 2;
}

/**
 * Per fold f, a model σ̂_f(x) of the gap model's absolute error, fit (ridge,
 * same terms) on the tasks outside f only, like m_f itself, so the
 * normalized scores keep CV+'s symmetry. Floored at a tenth of the mean
 * absolute error so no task's score explodes.
 */
function fitSpread(fits: Fits, subset: readonly number[], ridge: number, betas: readonly Float64Array[]): { at(fold: number, x: { index: number[]; value: number[] }): number } {
  const models = fits.complements.map((stats, f) => {
    const xty = new Float64Array(fits.columns);
    let sum = 0;
    let count = 0;
    fits.encoded.forEach((x, i) => {
      if (fits.foldOf[i] === f) return;
      const a = Math.abs(fits.gaps[i]! - predictRow(x, betas[f]!));
      sum += a;
      count += 1;
      for (let e = 0; e < x.index.length; e++) xty[x.index[e]!]! += x.value[e]! * a;
    });
    const gamma = ridgeFromStats({ rows: stats.rows, xtx: stats.xtx, xty }, fits.columns, subset, ridge);
    return { gamma, floor: Math.max(0.1 * (sum / Math.max(count, 1)), 1e-12) };
  });
  return {
    at(fold, x) {
      const m = models[fold]!;
      return Math.max(predictRow(x, m.gamma), m.floor);
    },
  };
}
