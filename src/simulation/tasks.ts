/**
 * Simulated tasks tables. `simulateSection54` is the paper's section 5.4
 * design (binary items, θ_j ~ U(0.2, 0.8), bias b_j ~ N(μ, σ²),
 * θ̃_j = clip(θ_j + b_j, 0.01, 0.99), real sample n ~ Bernoulli(θ_j),
 * synthetic sample N ~ Bernoulli(θ̃_j)), as plain arrays for coverage
 * simulations where the truth θ is known. `section54Rows` turns it into
 * tasks-table rows.
 */
import type { TaskRow } from "../config/tasks.ts";
import type { Rng } from "./random.ts";

export interface Section54Design {
  /** Real respondents per task (n). */
  realN: number;
  /** Synthetic respondents per task (N). */
  synN: number;
  /** Mean μ and standard deviation σ of the bias b_j. */
  biasMean: number;
  biasSd: number;
}

/**
 * The paper's figures were lost in conversion; these reproduce its reported
 * shape (σ = 0.1; naive synthetic-only coverage ≈ 0.13 at α = 0.1).
 */
export const SECTION_54: Section54Design = { realN: 500, synN: 2000, biasMean: 0, biasSd: 0.1 };

export interface BinaryTasks {
  /** Population truth θ_j and synthetic estimand θ̃_j. */
  theta: Float64Array;
  thetaTilde: Float64Array;
  realEst: Float64Array;
  realSe: Float64Array;
  synEst: Float64Array;
  synSe: Float64Array;
}

function proportionSe(p: number, n: number): number {
  return Math.sqrt((p * (1 - p)) / n);
}

/** Draws `count` independent tasks of the section 5.4 design. */
export function simulateSection54(rng: Rng, count: number, design: Section54Design = SECTION_54): BinaryTasks {
  const out: BinaryTasks = {
    theta: new Float64Array(count),
    thetaTilde: new Float64Array(count),
    realEst: new Float64Array(count),
    realSe: new Float64Array(count),
    synEst: new Float64Array(count),
    synSe: new Float64Array(count),
  };
  for (let j = 0; j < count; j++) {
    const theta = rng.uniform(0.2, 0.8);
    const bias = design.biasMean + design.biasSd * rng.normal();
    const thetaTilde = Math.min(Math.max(theta + bias, 0.01), 0.99);
    const real = rng.binomial(design.realN, theta) / design.realN;
    const syn = rng.binomial(design.synN, thetaTilde) / design.synN;
    out.theta[j] = theta;
    out.thetaTilde[j] = thetaTilde;
    out.realEst[j] = real;
    out.realSe[j] = proportionSe(real, design.realN);
    out.synEst[j] = syn;
    out.synSe[j] = proportionSe(syn, design.synN);
  }
  return out;
}

/** Tasks-table rows for simulated tasks: the first `history` are history rows, the rest targets (with real data for scoring). */
export function section54Rows(tasks: BinaryTasks, history: number, design: Section54Design = SECTION_54, model = "simulated:section54"): TaskRow[] {
  return Array.from(tasks.theta, (_, j) => ({
    task: `task${String(j + 1).padStart(4, "0")}`,
    model,
    role: j < history ? ("history" as const) : ("target" as const),
    real_est: tasks.realEst[j]!,
    real_se: tasks.realSe[j]!,
    real_n: design.realN,
    syn_est: tasks.synEst[j]!,
    syn_se: tasks.synSe[j]!,
    syn_n: design.synN,
    extra: {},
  }));
}
