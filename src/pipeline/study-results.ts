/**
 * From a loaded study and its synthetic answers to everything under
 * results/<study>/: the tasks table, the calibrated intervals, the
 * evaluation, the model comparison and report.html, written together (an
 * OutputSet: bad input leaves no file half-written). `silicon report` runs
 * this on the stored answers; `silicon run` runs generation first.
 */
import { join } from "node:path";
import type { LoadedStudy } from "../config/load.ts";
import { InfeasibleError, InputError } from "../errors.ts";
import type { SyntheticAnswers } from "../estimands/answers.ts";
import type { EstimateResult } from "../estimands/estimate.ts";
import { studyTasks } from "../estimands/from-study.ts";
import { renderReport, type ReportInput } from "../report/html.ts";
import { levelMeanings } from "./level-meanings.ts";
import { OutputSet } from "../util/atomic-write.ts";
import { siliconVersion } from "../version.ts";
import { analyzeStudy, type StudyAnalysis } from "./analyze.ts";
import { comparisonCsv, evaluatedCsv, evaluationJson, intervalsCsv, OUTPUT_FILES, tasksCsv } from "./outputs.ts";
import { analysisSettings, type AnalysisSettings } from "./settings.ts";

/** Synthetic answers of a study, with where they came from. */
export interface StudyAnswers {
  answers: SyntheticAnswers;
  /** Answers (rows) used. */
  count: number;
  /** The store they came from, for provenance. */
  store?: string;
  /** What the store says was spent, in USD. */
  costUsd?: number;
}

export interface StudyResults {
  dir: string;
  tasks: EstimateResult;
  analysis: StudyAnalysis;
  /** Paths written. */
  files: string[];
}

/**
 * Stops a study that cannot be calibrated before anything is generated: a
 * target wave needs historical waves, and an item needs real answers in one
 * of them unless it is a pilot item (calibration.pilot).
 */
export function checkCalibratable(study: LoadedStudy): void {
  const historical = study.waves.filter((w) => w.wave.role === "historical");
  if (historical.length === 0) {
    const t = study.waves.findIndex((w) => w.wave.role === "target");
    throw new InputError(
      study.locate(["waves", Math.max(t, 0), "role"]),
      `wave "${study.waves[Math.max(t, 0)]!.wave.id}" is a target, but the study has no historical wave to calibrate it on: add a wave with real answers (role: historical)`,
    );
  }
  const pilot = new Set(study.study.calibration.pilot.flatMap((set) => set.items));
  const listed = study.study.estimands.items;
  study.analysis.items.forEach((plan, i) => {
    if (pilot.has(plan.item.id)) return;
    const hasHistory = historical.some((w) => w.frame.answers(plan.item).some((v) => !Number.isNaN(v)));
    if (hasHistory) return;
    const path = listed === undefined ? ["calibration"] : ["estimands", "items", i];
    throw new InputError(
      study.locate(path),
      `item "${plan.item.id}" has no real answers in any historical wave, so its target tasks have no history to be calibrated on; ` +
        `if it is a new question, list it under calibration.pilot with the items it is like (pilot: [{items: [${plan.item.id}], like: [...]}])`,
    );
  });
}

export interface ReportContext {
  resultsDir: string;
  settings?: AnalysisSettings;
  /** The command line, for provenance. */
  command: string;
  now?: () => Date;
}

/**
 * A cell with too little history for α is skipped and named, so one model or
 * kind cannot hide the others; but when nothing at all could run, that is an
 * error (exit 2), not a set of empty files written over good ones.
 */
export function requireSomeResult(analysis: StudyAnalysis): void {
  const problems = analysis.kinds.flatMap((k) => k.problems);
  const ran = analysis.kinds.some(
    (k) => k.intervals.length > 0 || Object.values(k.evaluations).some((e) => e.tasks.length > 0) || k.comparison.length > 0,
  );
  if (!ran && problems.length > 0) throw new InfeasibleError(problems[0]!.replace(/^.*? skipped (?:\d+ tasks? of model \S+: |: )/, ""));
}

/** Estimates, calibrates, evaluates, compares, and writes every output and the report. */
export async function writeStudyResults(study: LoadedStudy, answers: StudyAnswers, context: ReportContext): Promise<StudyResults> {
  const dir = join(context.resultsDir, study.study.name);
  const tasks = studyTasks(study, answers.answers);
  const settings = context.settings ?? analysisSettings(study.study.calibration);
  const analysis = analyzeStudy(study, tasks.tasks, settings, { onInfeasible: "record" });
  requireSomeResult(analysis);
  const input = reportInput(study, tasks, analysis, answers, context);
  const html = renderReport(input);
  const provenance = { version: input.provenance.version, command: input.provenance.command, generatedAt: input.provenance.generatedAt };
  const files = await OutputSet.write((out) => {
    const stage = (name: string, text: string) => {
      const path = join(dir, name);
      out.stage(path, text);
      return path;
    };
    return [
      stage(OUTPUT_FILES.tasks.name, tasksCsv(tasks.tasks)),
      stage(OUTPUT_FILES.intervals.name, intervalsCsv(analysis)),
      stage(OUTPUT_FILES.evaluation.name, evaluationJson(study.study.name, analysis, provenance)),
      stage(OUTPUT_FILES.evaluated.name, evaluatedCsv(analysis)),
      stage(OUTPUT_FILES.comparison.name, comparisonCsv(analysis)),
      stage(OUTPUT_FILES.report.name, html),
    ];
  });
  return { dir, tasks, analysis, files };
}

export function reportInput(study: LoadedStudy, tasks: EstimateResult, analysis: StudyAnalysis, answers: StudyAnswers, context: ReportContext): ReportInput {
  const s = study.study;
  return {
    study: {
      name: s.name,
      ...(s.description === undefined ? {} : { description: s.description }),
      file: study.file,
      survey: study.surveyFile,
      persona: study.persona.file,
      // The study's models and any other with stored answers (a `--model` run): all are analyzed.
      models: [...new Set([...s.models, ...tasks.tasks.map((t) => t.model)])],
      generations: s.generations,
      temperature: s.temperature,
      seed: s.seed,
      elicitation: s.elicitation,
      waves: study.waves.map(({ wave, frame }) => ({
        id: wave.id,
        role: wave.role,
        ...(wave.date === undefined ? {} : { date: wave.date }),
        frame: frame.source,
        respondents: frame.size,
        realItems: study.survey.items.filter((item) => frame.answers(item).some((v) => !Number.isNaN(v))).length,
        context: wave.context,
      })),
      items: study.survey.items.map((item) => ({ id: item.id, text: item.text })),
      levelMeanings: levelMeanings(study),
    },
    analysis,
    tasks: {
      rows: tasks.tasks.length,
      history: tasks.tasks.filter((t) => t.role === "history").length,
      target: tasks.tasks.filter((t) => t.role === "target").length,
      warnings: tasks.warnings,
    },
    provenance: {
      generatedAt: (context.now?.() ?? new Date()).toISOString(),
      version: siliconVersion(),
      command: context.command,
      ...(answers.store === undefined ? {} : { store: answers.store }),
      answers: answers.count,
      ...(answers.costUsd === undefined ? {} : { costUsd: answers.costUsd }),
    },
    files: Object.values(OUTPUT_FILES).filter((f) => f.name !== "report.html"),
  };
}
