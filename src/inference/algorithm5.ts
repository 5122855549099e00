/**
 * Algorithm 5 (weaker exchangeability: of tasks, not datasets): Algorithm 1
 * with the historical gap intervals at α_g/T each, simultaneous by
 * Bonferroni. For historical sample sizes chosen systematically.
 */
import type { Algorithm } from "./algorithm.ts";
import { prepareOrderStatisticMethod } from "./algorithm1.ts";

export const algorithm5: Algorithm = {
  name: "alg5",
  title: "Algorithm 5: Algorithm 1 with simultaneous gap intervals at α_g/T (tasks exchangeable, not datasets)",
  joint: false,
  weighted: false,
  needsGapSe: true,
  finiteSample: false,
  prepare: (sample, alpha, leaveOneOut) =>
    prepareOrderStatisticMethod(sample, alpha, leaveOneOut, (budget, tasks) => budget.gap / tasks),
};
