/**
 * The inference stage as a library: pure functions, no I/O. Algorithms 1–5
 * (SPEC-inference.md) on gap samples, the calibration facade on tasks-table
 * rows, and the survey estimators they build on.
 */
export { calibrateSample, METHOD_NAMES, type Algorithm, type AlgorithmOptions, type BoundsFor, type MethodName } from "./algorithm.ts";
export { algorithm1, gapIntervals } from "./algorithm1.ts";
export { algorithm2, WeightedRanked } from "./algorithm2.ts";
export { algorithm4 } from "./algorithm4.ts";
export { algorithm5 } from "./algorithm5.ts";
export { algorithm3, algorithm3Bonferroni, algorithm3Fitted, rectangleScores } from "./rectangles.ts";
export { METHODS, isMethodName, naiveLevel } from "./methods.ts";
export { applyBounds, naiveInterval, scalarSample, type Bounds, type GapSample, type SyntheticEstimate } from "./bounds.ts";
export { splitBudget, wholeBudget, tasksNeeded, tasksNeededForSplit, type AlphaBudget } from "./budget.ts";
export { kLo, kHi, kOneSided, orderStatistic, RankedSample, INDEX_TOLERANCE } from "./order-stats.ts";
export { biasCorrectedEstimate, GapMean } from "./point-estimate.ts";
export { intersectWithReal, calibratedShare, DEFAULT_LAMBDA } from "./intersect.ts";
export { fitGapModel, splitHalves, defaultFeatures, defaultSplitBy, type AdjustOptions, type GapModel } from "./adjust.ts";
export { assignFolds, candidateBlocks, crossFitSupported, fitCrossFit, type CrossFit, type CrossFitChoice, type FeatureBlock } from "./cross-fit.ts";
export { compileDesign, compileTerm, type Design } from "./design.ts";
export { ensembleRows, withOtherModels, ENSEMBLE_MODEL } from "./stack.ts";
export { kthOfShiftedUnion } from "./shifted-union.ts";
export { ppiLambda, ppiMean, ppiSummary, type PpiInterval, type PpiSummary } from "./ppi.ts";
export { stratumKey, stratumLabel } from "./mondrian.ts";
export { planCalibration, type Cell, type Plan, type PlanOptions, type Pool, type Unit, type WeightSpec } from "./plan.ts";
export {
  calibrate,
  detectRange,
  intervalRows,
  validateAlpha,
  type CalibrationOptions,
  type CalibrationResult,
  type CellSummary,
  type IntervalRow,
} from "./calibrate.ts";
export { attributeOf, compareGroups, gapOf, gapSeOf, type TaskRecord } from "./task-record.ts";
export * from "./survey.ts";
export { zQuantile, zCritical, tQuantile } from "./quantiles.ts";
