/**
 * The files a study's analysis writes under results/<study>/, as text:
 * tasks.csv (DESIGN.md's tasks table), intervals.csv (its intervals table,
 * plus kind, group, item, subgroup, syn_est and real_est; for a vector
 * target both rectangles, told apart by `method`), evaluation.json
 * (per kind: leave-one-out and chronological reports in the shape of
 * `evaluate --json`, the target wave scored), evaluation.csv (one row per
 * held-out or scored target task and coordinate, protocol loo, chrono or
 * target), comparison.csv (models side by side) and report.html.
 * The caller writes them together through an OutputSet.
 */
import { formatTasksCsv } from "../estimands/tasks-writer.ts";
import type { TaskRow } from "../config/tasks.ts";
import { INTERVAL_COLUMNS } from "../cli/actions/calibrate.ts";
import { COMPARISON_COLUMNS, comparisonRecord } from "../cli/actions/compare.ts";
import { EVALUATED_COLUMNS, evaluatedRecords, evaluatedTaskRecords } from "../cli/actions/evaluate.ts";
import { toCsv } from "../cli/csv-output.ts";
import type { Evaluation } from "../evaluation/evaluate.ts";
import type { KindAnalysis, MethodResults, StudyAnalysis } from "./analyze.ts";

export const OUTPUT_FILES = {
  tasks: { name: "tasks.csv", what: "the tasks table: real and synthetic estimates per task, per model" },
  intervals: { name: "intervals.csv", what: "calibrated and naive intervals for the target tasks" },
  evaluation: { name: "evaluation.json", what: "coverage and width per kind of task, model and protocol (leave-one-out, chronological, target wave)" },
  evaluated: { name: "evaluation.csv", what: "one row per held-out task: its interval, its real estimate, whether it was covered" },
  comparison: { name: "comparison.csv", what: "models side by side: gap distribution, calibrated width and coverage" },
  report: { name: "report.html", what: "this report" },
} as const;

export const STUDY_INTERVAL_COLUMNS = [...INTERVAL_COLUMNS, "kind", "group", "item", "subgroup", "syn_est", "real_est"] as const;

/** intervals.csv text: each target's interval with what it measures and, where known, its real estimate. */
export function intervalsCsv(analysis: StudyAnalysis): string {
  const records = analysis.kinds.flatMap((kind) => {
    const rowOf = new Map(kind.targets.map((t) => [`${t.model}\u001f${t.task}\u001f${t.coord ?? ""}`, t]));
    // For a vector target the other rectangle too (its own `method`), so a user can pick either.
    return [...kind.intervals, ...(kind.alternative?.intervals ?? [])].map((interval) => {
      const row = rowOf.get(`${interval.model}\u001f${interval.task}\u001f${interval.coord}`);
      return { ...interval, kind: kind.kind.key, group: row?.group, item: row?.item, subgroup: row?.subgroup, syn_est: row?.syn_est, real_est: row?.real_est };
    });
  });
  return toCsv(STUDY_INTERVAL_COLUMNS, records);
}

function methodJson(results: MethodResults) {
  return {
    method: results.method,
    ...Object.fromEntries(Object.entries(results.evaluations).map(([protocol, e]) => [protocol, (e as Evaluation).report])),
    target: { tasks: results.targetTasks.length, by_model: results.target },
    problems: results.problems,
  };
}

/** Where evaluation.json came from, as report.html records it. */
export interface OutputProvenance {
  version: string;
  /** The command line, secrets redacted. */
  command: string;
  /** ISO 8601. */
  generatedAt: string;
}

export function evaluationJson(study: string, analysis: StudyAnalysis, provenance?: OutputProvenance): string {
  const kinds = analysis.kinds.map((kind: KindAnalysis) => ({
    kind: kind.kind.key,
    label: kind.kind.label,
    range: kind.kind.range,
    items: kind.kind.items,
    history_rows: kind.history.length,
    target_rows: kind.targets.length,
    // The regression adjustment as this kind ran it (its split and features resolved).
    ...(kind.options.adjust === undefined
      ? {}
      : {
          adjust: {
            mode: kind.options.adjust.mode ?? "cv",
            split_by: kind.options.adjust.splitBy,
            features: kind.options.adjust.features,
            ridge: kind.options.adjust.ridge,
            seed: kind.options.adjust.seed,
          },
        }),
    ...methodJson(kind),
    ...(kind.alternative === undefined ? {} : { alternative: methodJson(kind.alternative) }),
    pilot: kind.pilot,
    exchangeability: kind.exchangeability,
  }));
  const { settings } = analysis;
  const adjust = settings.adjust;
  const recorded = {
    alpha: settings.alpha,
    method: settings.method,
    vector_method: settings.vectorMethod,
    strata: settings.strata ?? [],
    adjust:
      adjust === undefined
        ? false
        : { mode: adjust.mode ?? "cv", split_by: adjust.splitBy ?? "default", features: adjust.features ?? "auto", ridge: adjust.ridge, seed: adjust.seed },
    decay: settings.decay ?? null,
    pilot: settings.pilot,
    protocols: settings.protocols,
    group_by: settings.groupBy,
  };
  return (
    JSON.stringify(
      {
        study,
        alpha: settings.alpha,
        method: settings.method,
        vector_method: settings.vectorMethod,
        settings: recorded,
        ...(provenance === undefined ? {} : { provenance: { silicon_version: provenance.version, command: provenance.command, generated_at: provenance.generatedAt } }),
        kinds,
        warnings: analysis.warnings,
      },
      null,
      2,
    ) + "\n"
  );
}

export function evaluatedCsv(analysis: StudyAnalysis): string {
  const records = analysis.kinds.flatMap((kind) =>
    [kind as MethodResults, ...(kind.alternative === undefined ? [] : [kind.alternative])].flatMap((results) =>
      [
        ...Object.entries(results.evaluations).flatMap(([protocol, e]) =>
          evaluatedRecords(e as Evaluation).map((r) => ({ kind: kind.kind.key, protocol, ...r })),
        ),
        // The target wave's intervals scored against its real estimates, where the frame has them.
        ...evaluatedTaskRecords(results.targetTasks).map((r) => ({ kind: kind.kind.key, protocol: "target", ...r })),
      ],
    ),
  );
  return toCsv(["kind", "protocol", ...EVALUATED_COLUMNS], records);
}

export function comparisonCsv(analysis: StudyAnalysis): string {
  const records = analysis.kinds.flatMap((kind) => kind.comparison.map((c) => ({ kind: kind.kind.key, ...comparisonRecord(c) })));
  return toCsv(["kind", ...COMPARISON_COLUMNS], records);
}

export function tasksCsv(tasks: readonly TaskRow[]): string {
  return formatTasksCsv(tasks);
}
