/**
 * The study's `estimands` and `calibration` sections: what to estimate from
 * the answers (items, subgroups, derived subgroup columns, vector targets)
 * and how to calibrate the target wave against the historical ones. Read by
 * `silicon estimate|calibrate|evaluate|compare|report|run <study.yaml>`.
 * Names and columns are checked against the survey and the frames when the
 * study loads (src/config/check-analysis.ts).
 */
import { z } from "zod";

const name = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected letters, digits and _ (starting with a letter or _)");

/** `party`, `party+region` (crossed), or `all` (everyone): the syntax of `silicon estimate --by`. */
const subgroupSpec = z.string().min(1);

export const ItemEstimandSpec = z.union([
  z.string().min(1),
  z.strictObject({
    item: z.string().min(1),
    /** Proportions per answer option (coordinates of one task) instead of the mean. */
    per_option: z.boolean().optional(),
    /** Subgroups for this item; default: the section's `by`. */
    by: z.array(subgroupSpec).min(1).optional(),
  }),
]);
export type ItemEstimandSpec = z.infer<typeof ItemEstimandSpec>;

/**
 * A vector target, e.g. presidential approval among co-partisans and among
 * the opposition (the coordinates: levels of `coordinate`) per region and
 * wave (one task per level of `by`, per wave). Calibrated jointly
 * (Algorithm 3 rectangles, and the per-coordinate Bonferroni variant).
 */
export const VectorTarget = z.strictObject({
  name,
  item: z.string().min(1),
  /** The subgroup column whose levels are the coordinates (a frame or derived column). */
  coordinate: z.string().min(1),
  /** The coordinates: levels of `coordinate`, in order (at least two). */
  levels: z.array(z.string().min(1)).min(2),
  /** What one task is within a wave: `region`, `region+education`, or `all` (one task per wave). */
  by: subgroupSpec.default("all"),
  /** For a choice item: the option code whose proportion each coordinate is; default the mean (for binary items, the share coded 1). */
  option: z.number().optional(),
});
export type VectorTarget = z.infer<typeof VectorTarget>;

export const Estimands = z.strictObject({
  /** Items to estimate (ids, or {item, per_option, by}); default every item no vector target uses. */
  items: z.array(ItemEstimandSpec).min(1).optional(),
  /** Subgroups for every item: list of specs; default [all]. */
  by: z.array(subgroupSpec).min(1).default(["all"]),
  /**
   * Derived subgroup columns: name → an arquero expression over a respondent
   * row `d` and the wave's context, e.g.
   * `(d, ctx) => d.party === ctx.president_party ? 'Co-partisan' : 'Opposition'`.
   */
  derived: z.record(name, z.string().min(1)).default({}),
  vectors: z.array(VectorTarget).default([]),
});
export type Estimands = z.infer<typeof Estimands>;

export const PilotSet = z.strictObject({
  /** Items with no real answers in any historical wave (new questions). */
  items: z.array(z.string().min(1)).min(1),
  /** Items with history whose gaps the pilot items' gaps are assumed exchangeable with. */
  like: z.array(z.string().min(1)).min(1),
});
export type PilotSet = z.infer<typeof PilotSet>;

export const Adjustment = z.strictObject({
  /** cv (default): cross-fitted, features chosen automatically unless given; split: the exact split-halves variant. */
  mode: z.enum(["cv", "split"]).optional(),
  /** Tasks sharing a value stay in one fold or half (default item, else task). */
  split_by: z.string().min(1).optional(),
  /** Gap-model terms: column, column^2, a:b; [] = intercept only. */
  features: z.array(z.string().min(1)).optional(),
  ridge: z.number().nonnegative().default(1),
  seed: z.number().int().default(1),
});

export const SCALAR_METHODS = ["alg1", "alg2", "alg4", "alg5"] as const;
export const VECTOR_METHODS = ["alg3", "alg3-bonferroni", "alg3-fitted"] as const;
export const PROTOCOL_NAMES = ["loo", "chrono", "group"] as const;

export const Calibration = z.strictObject({
  /** Error level: intervals at 1 − α. */
  alpha: z.number().gt(0).lt(1).default(0.1),
  /** Method for scalar tasks (see docs/calibrate.md). */
  method: z.enum(SCALAR_METHODS).default("alg1"),
  /** Method for vector targets; the other is reported beside it. */
  vector_method: z.enum(VECTOR_METHODS).default("alg3"),
  /** Mondrian strata within each kind of task, e.g. [item_type] or [item]. */
  strata: z.array(z.string().min(1)).min(1).optional(),
  /**
   * Regression-adjusted calibration (true for the defaults: cross-fitted,
   * features chosen per calibration, plain calibration kept where they do not
   * narrow the inner cross-validated width); false turns it off.
   */
  adjust: z.union([z.boolean(), Adjustment]).default(true),
  /** alg2: weight each historical task γ^age, age = waves before the latest. */
  decay: z.number().gt(0).lte(1).optional(),
  /** Pilot mode: items without history, calibrated on the gaps of items they are like. */
  pilot: z.array(PilotSet).default([]),
  /**
   * Held-out evaluation protocols. Leave-one-out alone cannot fail for alg4;
   * chrono (by wave) and group (by `group_by`) can.
   */
  protocols: z.array(z.enum(PROTOCOL_NAMES)).min(1).default(["loo", "chrono", "group"]),
  /** The group protocol's column: the tasks sharing a value are held out together. */
  group_by: z.string().min(1).default("item"),
});
export type Calibration = z.infer<typeof Calibration>;
