/**
 * The method in plain words for the report's readers (a pollster who never
 * read the paper): what a calibrated range promises, what it was learned
 * from, why a step could not run. The formulas live in one collapsed
 * section (methodFormula), not in these sentences.
 */
import type { TaskRow } from "../config/tasks.ts";
import type { KindAnalysis } from "../pipeline/analyze.ts";
import { plural, prose } from "./format.ts";

/** What the range is meant to contain: the population's value, or the real poll's own estimate. */
export function targetWords(method: string): string {
  return method === "alg4" ? "the real poll's estimate" : "the true value in the population (what the real survey estimates, without its sampling error)";
}

/** How a method builds the range, in one sentence. */
export function methodWords(method: string): string {
  switch (method) {
    case "alg2":
      return "the model's estimate, moved by its average past error and widened by the spread of its past errors (recent waves counting more) and by sampling error";
    case "alg3":
      return "a rectangle: the model's estimates widened together by how far its past answers landed from the real ones";
    case "alg3-bonferroni":
      return "a rectangle: each value widened on its own by the spread of the model's past errors, at half the error rate each so that both hold together";
    case "alg4":
      return "the model's estimate widened by the spread of its past errors (real poll minus model)";
    case "alg5":
      return "the model's estimate, moved by its average past error and widened by the spread of its past errors, with extra margin for each past result's sampling error";
    default:
      return "the model's estimate, moved by its average past error and widened by the spread of its past errors and by sampling error";
  }
}

/** The formula behind a method, for the technical section. */
export function methodFormula(method: string): string {
  switch (method) {
    case "alg1":
      return "Algorithm 1: [ℓ̃ + L̂, ũ + Û], where [ℓ̃, ũ] is the synthetic sample's interval at α_s, and L̂, Û are order statistics (at α_e) of the historical gap intervals [L_j, U_j] at α_g; α = α_s + α_g + α_e (default α_e = 0.8α). Covers θ_{T+1} with probability ≥ 1 − α when the tasks are exchangeable.";
    case "alg2":
      return "Algorithm 2: Algorithm 1 with fixed weights w_j (e.g. γ^age) on the historical tasks: L̂, Û are weighted quantiles with mass 1/(Σw + 1) at ∓∞ for the target.";
    case "alg3":
      return "Algorithm 3: nested rectangles S_t = ∏_k [c_k − t s_k, c_k + t s_k]; score r_j = inf{t : R_j ⊆ S_t} of each historical gap rectangle; t̂ = r_(⌈(T+1)(1 − α_e)⌉); output R̃ ⊕ S_t̂. Joint coverage ≥ 1 − α.";
    case "alg3-bonferroni":
      return "Per-coordinate rectangle: Algorithm 1 on each of the d coordinates at α/d, combined (Bonferroni). Joint coverage ≥ 1 − α.";
    case "alg4":
      return "Algorithm 4: [θ̃̂_{T+1} + Δ̂_(k_lo), θ̃̂_{T+1} + Δ̂_(k_hi)] from the order statistics of the observed gaps Δ̂_j = θ̂_j − θ̃̂_j. Covers the finite-sample θ̂_{T+1} with probability ≥ 1 − α (and ≤ 1 − α + 2/(T+1) without ties).";
    case "alg5":
      return "Algorithm 5: Algorithm 1 with each historical gap interval at α_g/T (simultaneous by Bonferroni); weaker exchangeability (of tasks, not data sets).";
    default:
      return `${method}: see docs/calibrate.md.`;
  }
}

/** "120 past results from w2019 to w2023 (5 waves)": what one model's ranges of a kind were learned from. */
export function historyWords(kind: KindAnalysis, model: string): string {
  const rows = kind.history.filter((r) => r.model === model);
  const tasks = new Set(rows.map((r) => r.task)).size;
  const waves = wavesOf(rows);
  const what = kind.kind.vector === undefined ? "past results" : "past results (each a pair of values)";
  return `${tasks} ${what}${waves.length === 0 ? "" : ` from ${waves.length === 1 ? waves[0] : `${waves[0]} to ${waves[waves.length - 1]}`} (${plural(waves.length, "wave")})`}`;
}

function wavesOf(rows: readonly TaskRow[]): string[] {
  return [...new Set(rows.map((r) => r.group).filter((g): g is string => g !== undefined && g !== ""))].sort();
}

/**
 * An infeasibility message ("α = 0.05 needs at least 40 historical tasks …
 * but there are 20; …") in plain words: how many past results were needed
 * and how many there were. Messages of another form are returned as they are.
 */
export function plainProblem(problem: string): string {
  const step = /^(.*?) skipped (\d+) tasks? of model (\S+):/.exec(problem);
  const need = /needs at least (\d+) ([a-z ]+?) for a finite interval.*?but there are ([\d.]+)/.exec(problem);
  if (need === null) return problem;
  const [, needed, what, have] = need;
  // "approval: calibration skipped …": the kind (when the message names one) stays in front of the step's words.
  const head = step?.[1] ?? "";
  const cut = head.lastIndexOf(": ");
  const where =
    step === null ? "" : `${cut < 0 ? "" : head.slice(0, cut + 2)}${stepWords(cut < 0 ? head : head.slice(cut + 2))} of ${plural(Number(step[2]), "question and subgroup", "questions and subgroups")} for ${step[3]}: `;
  return `${where}not run — a range at this confidence needs at least ${needed} ${what === "historical tasks" ? "past results" : what}, and there ${have === "1" ? "is" : "are"} only ${have}.`;
}

/**
 * A warning of the analysis in plain words: the drift diagnostics' ("model M:
 * the gap differs between waves … (p = …)") say what changed and point to the
 * drift check; the others as plainProblem words them.
 */
export function plainWarning(warning: string): string {
  const drift = /^(.*?): model (\S+)(?:, coordinate ([^:]+))?: the gap (differs between waves|grows|falls)( [^ ]+ points?)?/.exec(warning);
  if (drift === null) return plainProblem(warning);
  const [, kind, model, coord, what, size] = drift;
  const whose = `${model}'s errors${coord === undefined ? "" : ` for ${coord}`}`;
  const change = what === "differs between waves" ? "differed between past waves more than chance allows" : `${what === "grows" ? "grew" : "fell"}${size ?? ""} a wave`;
  return `${kind}: ${whose} ${change}, so the forecast wave may differ again; see the drift check under "Should I trust these ranges?".`;
}

function stepWords(step: string): string {
  if (step === "calibration") return "The forecast";
  if (step.startsWith("leave-one-out")) return "The one-at-a-time check";
  if (step.startsWith("chronological")) return "The wave-by-wave check";
  return step.charAt(0).toUpperCase() + step.slice(1);
}

/** The kind's name for headings: "thermometer ratings (0–100)", "approval (Co-partisan and Opposition, by region)". */
export function kindTitle(kind: KindAnalysis): string {
  const vector = kind.kind.vector;
  if (vector === undefined) return kind.kind.label;
  return `${vector.name}: ${prose(vector.coords)} together, by ${vector.by}`;
}
