/** The evaluation stage as a library: held-out protocols and model comparison on tasks-table rows. */
export { leaveOneOut } from "./loo.ts";
export { chronological, orderedGroups, type ChronoResult, type ChronoStep } from "./chrono.ts";
export { evaluate, PROTOCOLS, type Evaluation, type EvaluationReport, type GroupSummary, type ModelEvaluation, type Protocol } from "./evaluate.ts";
export { compareModels, gapDistribution, type GapDistribution, type ModelComparison } from "./compare.ts";
export { byModel, mean, median, quantile, scoreTask, standardDeviation, summarize, type CoverageSummary, type EvaluatedTask } from "./metrics.ts";
