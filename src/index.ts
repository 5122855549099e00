/**
 * silicon as a library. The workflow's entry points are exported by name;
 * each stage's full API is also available as a namespace (`inference`,
 * `estimands`, `evaluation`, `simulation`), as the command line uses them.
 *
 *   import { loadStudy, generate, estimands, inference } from "silicon";
 */
export * from "./errors.ts";

// Inputs
export { loadStudy, loadSurvey, type LoadedStudy, type LoadedWave } from "./config/load.ts";
export { loadFrame, type Frame, type FrameOptions } from "./config/frame.ts";
export { Study, Survey, SurveyItem, Wave, ModelId, Price, AnswerOption, type ItemType } from "./config/schema.ts";
export { readTasksTable, tasksTableCsv, TASK_COLUMNS, type TaskRow, type TaskRole, type TasksTable } from "./config/tasks.ts";
export { readTable } from "./tables/read.ts";
export type { Cell, DataTable, TableFormat } from "./tables/types.ts";
export { compilePersona, personaFromText, type PersonaTemplate } from "./personas/template.ts";
export { renderQuestion } from "./personas/render.ts";

// Generation
export { createProvider, parseModelId, priceFor, costUsd, VENDORS } from "./providers/index.ts";
export type { Provider, CompletionRequest, CompletionResult, Vendor } from "./providers/types.ts";
export { generate, type GenerateOptions, type GenerationSummary, type RunSummary, type DryRunSummary } from "./generation/run.ts";
export { Store, openStoreReadOnly } from "./store/store.ts";

// Estimates, calibration, evaluation: whole stages as namespaces.
export * as estimands from "./estimands/index.ts";
export * as inference from "./inference/index.ts";
export * as evaluation from "./evaluation/index.ts";
export * as simulation from "./simulation/index.ts";

// The pipeline: a study's stored answers to calibrated intervals, evaluation, comparison and the report.
export { Estimands, Calibration, VectorTarget, PilotSet } from "./config/analysis-schema.ts";
export { storedAnswers, type StoredAnswers } from "./pipeline/stored-answers.ts";
export { analyzeStudy, type AnalyzeOptions, type KindAnalysis, type MethodResults, type StudyAnalysis } from "./pipeline/analyze.ts";
export { analysisSettings, type AnalysisSettings } from "./pipeline/settings.ts";
export { checkCalibratable, writeStudyResults, type StudyAnswers, type StudyResults } from "./pipeline/study-results.ts";
export { writeDemoStudy } from "./pipeline/demo-study.ts";
export { renderReport, type ReportInput } from "./report/html.ts";
