/**
 * The error budget α = α_s + α_g + α_e of Algorithms 1, 2, 3 and 5
 * (SPEC-inference.md, Algorithm 1): α_e = 0.8α and α_s = α_g = 0.1α by
 * default; where 0.8α is too small for a finite exchangeability bound but α
 * is not, α_e is raised to the smallest feasible value and the rest split
 * equally; where even α is too small, the request is infeasible and the error
 * says how many historical tasks would do.
 */
import { InfeasibleError } from "../errors.ts";
import { INDEX_TOLERANCE } from "./order-stats.ts";

export interface AlphaBudget {
  /** Total error level α. */
  alpha: number;
  /** α_s: the target's synthetic-data interval (0 when a point is used, Algorithm 4). */
  synthetic: number;
  /** α_g: each historical task's gap interval (0 when observed gaps are used, Algorithm 4). */
  gap: number;
  /** α_e: the exchangeability (order-statistic) step. */
  exchangeability: number;
}

/** Share of α given to the exchangeability step by default. */
export const DEFAULT_EXCHANGEABILITY_SHARE = 0.8;

/**
 * Sides of the exchangeability bound: 2 for an interval from a lower and an
 * upper order statistic (finite iff α_e ≥ 2/(T+1)), 1 for Algorithm 3's
 * one-sided score (finite iff α_e ≥ 1/(T+1)).
 */
export type Sides = 1 | 2;

/**
 * Splits α for `tasks` historical tasks (for Algorithm 2, the total weight
 * Σw). Throws InfeasibleError when sides/(T+1) ≥ α, where no split leaves
 * anything for the synthetic and gap intervals.
 */
export function splitBudget(alpha: number, tasks: number, sides: Sides = 2, what = "historical tasks"): AlphaBudget {
  const minimum = sides / (tasks + 1);
  if (!(minimum < alpha - INDEX_TOLERANCE)) {
    throw new InfeasibleError(infeasibleMessage(alpha, tasks, sides, what));
  }
  const exchangeability = Math.max(DEFAULT_EXCHANGEABILITY_SHARE * alpha, minimum);
  const rest = alpha - exchangeability;
  return { alpha, synthetic: rest / 2, gap: rest / 2, exchangeability };
}

/** Smallest T with sides/(T+1) < α: what a split-budget method needs. */
export function tasksNeededForSplit(alpha: number, sides: Sides = 2): number {
  return Math.floor(sides / alpha + INDEX_TOLERANCE);
}

/** Smallest T with sides/(T+1) ≤ a: ceil(sides/a) − 1, what one order-statistic step at level a needs. */
export function tasksNeeded(a: number, sides: Sides = 2): number {
  return Math.max(Math.ceil(sides / a - INDEX_TOLERANCE) - 1, 1);
}

function infeasibleMessage(alpha: number, tasks: number, sides: Sides, what: string): string {
  const needed = tasksNeededForSplit(alpha, sides);
  const withDefault = tasksNeeded(DEFAULT_EXCHANGEABILITY_SHARE * alpha, sides);
  const have = Number.isInteger(tasks) ? String(tasks) : tasks.toFixed(2);
  return (
    `α = ${alpha} needs at least ${needed} ${what} for a finite interval (${sides}/(T+1) < α; ` +
    `${withDefault} for the default split α_e = 0.8α), but there are ${have}; ` +
    `with ${have} the smallest feasible α is above ${formatAlpha(sides / (tasks + 1))}`
  );
}

/** The budget of Algorithm 4: no split, everything on one exchangeability step. */
export function wholeBudget(alpha: number, tasks: number, what = "historical tasks"): AlphaBudget {
  if (tasks < 1 || Math.floor(((tasks + 1) * alpha) / 2 + INDEX_TOLERANCE) < 1) {
    const needed = tasksNeeded(alpha, 2);
    throw new InfeasibleError(
      `α = ${alpha} needs at least ${needed} ${what} for a finite interval (2/(T+1) ≤ α), but there are ${tasks}; ` +
        `with ${tasks} the smallest feasible α is ${formatAlpha(2 / (tasks + 1))}`,
    );
  }
  return { alpha, synthetic: 0, gap: 0, exchangeability: alpha };
}

function formatAlpha(value: number): string {
  return String(Number(value.toPrecision(3)));
}
