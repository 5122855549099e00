/**
 * Estimands: weighted real and synthetic estimates per task, in the shape of
 * R survey (a design every estimator takes). The pipeline calls
 * `surveyDesign` + `estimateTasks`; `silicon estimate --real --synthetic`
 * calls `estimateFromFiles`, which builds the same two inputs from files.
 */
export { surveyDesign, withAttributes, type RespondentFrame, type SurveyDesign } from "./design.ts";
export { resolveAnswers, type SyntheticAnswers, type UnmatchedIds } from "./answers.ts";
export { domainsOf, parseSubgroupSpecs, specName, subgroupLabel, EVERYONE, type Domains, type SubgroupSpec } from "./domains.ts";
export { domainMeans, domainSums, indicator } from "./mean.ts";
export { domainGaps, type GapEstimate } from "./gap.ts";
export { respondentValues, partitionAnswers, type ValueTarget } from "./respondent-values.ts";
export { estimateTasks, taskId, type EstimateOptions, type EstimateResult, type ItemEstimand } from "./estimate.ts";
export { formatTasksCsv } from "./tasks-writer.ts";
export { estimateFromFiles, readResponseFiles, type EstimateFromFilesOptions, type ResponseFilesOptions } from "./from-files.ts";
export { studyDesign, studyTasks, targetWaves, vectorTasks } from "./from-study.ts";
