/**
 * From synthetic entries to one value per respondent: the average over the
 * respondent's generations (SPEC: generations cluster by respondent; the
 * weighted mean of respondent averages with the `ids = ~1` SE is
 * `svydesign(ids = ~respondent)` with weights w_i/k_i).
 *
 * A distribution answer (probabilities per option) is the exact average over
 * infinitely many generations of that call: it enters as one generation whose
 * value is its expected value (Σ code·p for a mean, p_c for the proportion of
 * option c), probabilities normalized to sum to 1, as top-k log-probabilities
 * restricted to the options rarely do.
 */
import { InputError } from "../errors.ts";
import { clusterAverages } from "../inference/survey.ts";
import type { ResolvedAnswers } from "./answers.ts";
import type { SurveyDesign } from "./design.ts";

/** The answers of one (model, item): one per (respondent, generation). */
export interface PartitionAnswers {
  /** Design row of each answer. */
  readonly cluster: Int32Array;
  /** Plain answer; NaN where missing or where the answer is a distribution. */
  readonly value: Float64Array;
  /** Distribution answers by answer index. */
  readonly distributions: ReadonlyMap<number, Distribution>;
}

export interface Distribution {
  readonly codes: number[];
  readonly probabilities: number[];
}

/** What a respondent-level value measures: the item's mean, or the proportion choosing `code`. */
export type ValueTarget = { kind: "mean" } | { kind: "option"; code: number };

/**
 * Collects the entries of one (model, item) into answers, checking that a
 * respondent answers once per generation and that probabilities are
 * probabilities.
 */
export function partitionAnswers(resolved: ResolvedAnswers, entries: Int32Array): PartitionAnswers {
  const { answers } = resolved;
  const option = answers.option;
  const generation = answers.generation;
  const hasDistributions = option !== undefined && entries.some((e) => !Number.isNaN(option[e]!));
  if (!hasDistributions) {
    // The common case: every entry is one plain answer.
    if (generation !== undefined) checkOneAnswerPerGeneration(resolved, entries);
    const cluster = new Int32Array(entries.length);
    const value = new Float64Array(entries.length);
    for (let a = 0; a < entries.length; a++) {
      cluster[a] = resolved.row[entries[a]!]!;
      value[a] = answers.value[entries[a]!]!;
    }
    return { cluster, value, distributions: new Map() };
  }

  const generationCode = new Map<string, number>();
  // Key of (respondent, generation): a number, row + size·generation, well inside 2^53.
  const keyOf = (e: number): number => {
    if (generation === undefined) return resolved.row[e]!;
    const label = generation[e];
    if (label === null || label === undefined || label === "") throw new InputError(resolved.locate(e, "generation"), "missing generation");
    const text = String(label);
    let code = generationCode.get(text);
    if (code === undefined) generationCode.set(text, (code = generationCode.size));
    return resolved.row[e]! + resolved.designSize * code;
  };
  const answerOf = new Map<number, number>();
  const firstEntry: number[] = [];
  const cluster: number[] = [];
  const value: number[] = [];
  const distributions = new Map<number, Distribution>();

  for (const e of entries) {
    const key = keyOf(e);
    const code = option === undefined ? NaN : option[e]!;
    const isDistribution = !Number.isNaN(code);
    let a = answerOf.get(key);
    if (a !== undefined && (!isDistribution || !distributions.has(a))) {
      // Without a generation column, each plain entry is a generation of its own.
      if (generation === undefined && !isDistribution) a = undefined;
      else throw duplicate(resolved, e, firstEntry[a]!);
    }
    if (a === undefined) {
      a = cluster.push(resolved.row[e]!) - 1;
      value.push(isDistribution ? NaN : answers.value[e]!);
      firstEntry.push(e);
      if (isDistribution || generation !== undefined) answerOf.set(key, a);
    }
    if (!isDistribution) continue;
    if (!Number.isFinite(code)) throw new InputError(resolved.locate(e, "option"), `expected an answer code, got ${code}`);
    const p = answers.value[e]!;
    if (!(p >= 0 && p <= 1)) throw new InputError(resolved.locate(e, "value"), `expected a probability from 0 to 1 for option ${code}, got ${Number.isNaN(p) ? "a missing value" : p}`);
    let distribution = distributions.get(a);
    if (distribution === undefined) distributions.set(a, (distribution = { codes: [], probabilities: [] }));
    const k = distribution.codes.indexOf(code);
    if (k >= 0 && generation !== undefined) throw duplicate(resolved, e, firstEntry[a]!);
    // Without generations, a respondent's distributions pool into one (their average, once normalized).
    if (k >= 0) distribution.probabilities[k]! += p;
    else {
      distribution.codes.push(code);
      distribution.probabilities.push(p);
    }
  }
  return { cluster: Int32Array.from(cluster), value: Float64Array.from(value), distributions };
}

/**
 * Fails on a second plain answer of one respondent in one generation (often a
 * join gone wrong). Linear: entries sorted by respondent (counting sort), then
 * each generation code remembers the last respondent that used it.
 */
function checkOneAnswerPerGeneration(resolved: ResolvedAnswers, entries: Int32Array): void {
  const generation = resolved.answers.generation!;
  const codes = new Map<string | number, number>();
  const gen = new Int32Array(entries.length);
  let last: string | number | null | undefined;
  let lastCode = -1;
  for (let a = 0; a < entries.length; a++) {
    const label = generation[entries[a]!];
    if (label !== last) {
      if (label === null || label === undefined || label === "") throw new InputError(resolved.locate(entries[a]!, "generation"), "missing generation");
      let code = codes.get(label);
      if (code === undefined) codes.set(label, (code = codes.size));
      last = label;
      lastCode = code;
    }
    gen[a] = lastCode;
  }
  const size = resolved.designSize;
  const start = new Int32Array(size + 1);
  for (let a = 0; a < entries.length; a++) start[resolved.row[entries[a]!]! + 1]! += 1;
  for (let r = 0; r < size; r++) start[r + 1]! += start[r]!;
  const fill = start.slice(0, size);
  const order = new Int32Array(entries.length);
  for (let a = 0; a < entries.length; a++) order[fill[resolved.row[entries[a]!]!]!++] = a;
  const lastRespondent = new Int32Array(codes.size).fill(-1);
  const lastAnswer = new Int32Array(codes.size);
  for (let r = 0; r < size; r++) {
    for (let k = start[r]!; k < start[r + 1]!; k++) {
      const a = order[k]!;
      const g = gen[a]!;
      if (lastRespondent[g] === r) throw duplicate(resolved, entries[a]!, entries[lastAnswer[g]!]!);
      lastRespondent[g] = r;
      lastAnswer[g] = a;
    }
  }
}

function duplicate(resolved: ResolvedAnswers, e: number, first: number): InputError {
  const firstRow = resolved.locate(first, "id").row;
  const id = resolved.answers.id[e];
  const item = resolved.answers.item[e];
  return new InputError(
    resolved.locate(e, "generation"),
    `respondent ${JSON.stringify(id)} answers item ${JSON.stringify(item)} twice in this generation${firstRow === undefined ? "" : ` (first on row ${firstRow})`}; each generation must be one answer`,
  );
}

/** Answer codes seen in the plain answers and distributions of a partition. */
export function answerCodes(answers: PartitionAnswers, into: Set<number> = new Set()): Set<number> {
  for (const value of answers.value) if (!Number.isNaN(value)) into.add(value);
  for (const distribution of answers.distributions.values()) for (const code of distribution.codes) into.add(code);
  return into;
}

/**
 * One value per design row: the respondent's average over generations of the
 * target (NaN for a respondent without a valid answer).
 */
export function respondentValues(design: SurveyDesign, answers: PartitionAnswers, target: ValueTarget): Float64Array {
  const y = new Float64Array(answers.value.length);
  for (let a = 0; a < y.length; a++) {
    const value = answers.value[a]!;
    y[a] = target.kind === "mean" || Number.isNaN(value) ? value : value === target.code ? 1 : 0;
  }
  for (const [a, distribution] of answers.distributions) y[a] = expectedValue(distribution, target);
  return clusterAverages(answers.cluster, y, design.size).mean;
}

/** E[y] (mean) or P(code) (option) under a distribution normalized to sum 1; NaN when it has no mass. */
export function expectedValue(distribution: Distribution, target: ValueTarget): number {
  let total = 0;
  let numerator = 0;
  distribution.codes.forEach((code, k) => {
    const p = distribution.probabilities[k]!;
    total += p;
    numerator += target.kind === "mean" ? code * p : code === target.code ? p : 0;
  });
  return total > 0 ? numerator / total : NaN;
}
