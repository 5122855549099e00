/**
 * Calibration, evaluation and model comparison of a study's tasks table, kind
 * by kind (src/pipeline/kinds.ts): the target wave's tasks calibrated on the
 * historical ones of their model; leave-one-out and chronological
 * evaluation, naive beside calibrated; the models side by side; pilot items
 * calibrated on the gaps of the items the user named; the target intervals
 * scored against the target wave's real estimates where the frame has them.
 * Pure: no I/O.
 */
import type { LoadedStudy } from "../config/load.ts";
import type { TaskRow } from "../config/tasks.ts";
import { InfeasibleError } from "../errors.ts";
import { compareModels, type ModelComparison } from "../evaluation/compare.ts";
import { exchangeabilityDiagnostics, type ExchangeabilityDiagnostics } from "../evaluation/diagnostics.ts";
import { evaluate, skippedByModel, type Evaluation, type Protocol } from "../evaluation/evaluate.ts";
import { byModel, scoreTask, summarize, type CoverageSummary, type EvaluatedTask } from "../evaluation/metrics.ts";
import type { MethodName } from "../inference/algorithm.ts";
import { calibrate, type CalibrationOptions, type CellSummary, type IntervalRow } from "../inference/calibrate.ts";
import { METHODS } from "../inference/methods.ts";
import { partitionByKind, type TaskKind } from "./kinds.ts";
import { kindOptions, methodFor, type AnalysisSettings } from "./settings.ts";

/** Held-out and target results of one method on one kind. */
export interface MethodResults {
  method: MethodName;
  /** Intervals of the target tasks (pilot ones included). */
  intervals: IntervalRow[];
  cells: CellSummary[];
  evaluations: Partial<Record<Protocol, Evaluation>>;
  /** Target intervals scored against the target's real estimate, per model (only targets whose frame has real answers). */
  target: Record<string, CoverageSummary>;
  targetTasks: EvaluatedTask[];
  /**
   * Why a step could not run (too few tasks for α), one line each; per model
   * (per calibration cell) when the others ran: `<step> skipped N tasks of
   * model M: <reason>`.
   */
  problems: string[];
}

export interface PilotReport {
  items: string[];
  like: string[];
  /** Historical tasks of the `like` items, per model. */
  historyTasks: Record<string, number>;
  /**
   * The check pilot mode rests on: the held-out evaluation (each protocol
   * the study runs) of the pilot calibration, on the `like` items' history
   * only, per model.
   */
  evaluations: Partial<Record<Protocol, Record<string, CoverageSummary>>>;
  targets: number;
  warning: string;
}

export interface KindAnalysis extends MethodResults {
  kind: TaskKind;
  options: CalibrationOptions;
  history: TaskRow[];
  targets: TaskRow[];
  /** For vector targets: the other rectangle (alg3 beside alg3-bonferroni). */
  alternative?: MethodResults;
  comparison: ModelComparison[];
  pilot: PilotReport[];
  /** Trend and heterogeneity of the historical gaps across waves (and groups), at a stated false-alarm rate. */
  exchangeability: ExchangeabilityDiagnostics;
  notes: string[];
}

export interface StudyAnalysis {
  settings: AnalysisSettings;
  kinds: KindAnalysis[];
  /** Things the user should read (pilot assumptions, infeasible steps). */
  warnings: string[];
  notes: string[];
}

export interface AnalyzeOptions {
  /** Which steps to run; default all. */
  calibrate?: boolean;
  protocols?: readonly Protocol[];
  compare?: boolean;
  /** For vector targets, also run the other rectangle (alg3 beside alg3-bonferroni); default true. */
  alternative?: boolean;
  /**
   * "throw": a step that is infeasible for α stops (the single-step commands);
   * "record": a calibration cell (a model's, a stratum's) with too little
   * history is skipped and reported in `problems`, and the other cells and
   * steps go on (run, report, and the study forms of calibrate, evaluate, compare).
   */
  onInfeasible?: "throw" | "record";
}

export function analyzeStudy(study: LoadedStudy, tasks: readonly TaskRow[], settings: AnalysisSettings, options: AnalyzeOptions = {}): StudyAnalysis {
  const kinds = partitionByKind(study, tasks).map(({ kind, rows }) => analyzeKind(kind, rows, settings, options));
  const warnings = kinds.flatMap((k) => [
    ...k.pilot.map((p) => p.warning),
    ...k.problems.map((p) => `${k.kind.label}: ${p}`),
    ...k.exchangeability.warnings.map((w) => `${k.kind.label}: ${w}`),
  ]);
  // The other rectangle is shown for comparison only: that it needs more history is a note, not a warning.
  const alternatives = kinds.flatMap((k) =>
    k.alternative === undefined ? [] : k.alternative.problems.map((p) => `${k.kind.label}: ${k.alternative!.method}, shown beside ${k.method} for comparison: ${p}`),
  );
  const notes = [...new Set([...alternatives, ...kinds.flatMap((k) => k.notes)])];
  return { settings, kinds, warnings, notes };
}

function analyzeKind(kind: TaskKind, rows: TaskRow[], settings: AnalysisSettings, options: AnalyzeOptions): KindAnalysis {
  const history = rows.filter((r) => r.role === "history");
  const targets = rows.filter((r) => r.role === "target");
  const method = methodFor(settings, kind);
  const calibrationOptions = kindOptions(settings, kind, history, method);
  const notes: string[] = [];
  const pilot: PilotReport[] = [];
  const main = runMethod(method, calibrationOptions, history, targets, settings, options, notes, pilot);
  let alternative: MethodResults | undefined;
  if (kind.vector !== undefined && options.alternative !== false) {
    const other: MethodName = method === "alg3-bonferroni" ? "alg3" : "alg3-bonferroni";
    // Shown for comparison only: too little history for it never stops the command.
    alternative = runMethod(other, kindOptions(settings, kind, history, other), history, targets, settings, { ...options, onInfeasible: "record" }, [], []);
  }
  let comparison: ModelComparison[] = [];
  if (options.compare !== false && history.length > 0) {
    const result = guard(main.problems, options, "model comparison", () => compareModels("loo", history, [], skipping(calibrationOptions, options)));
    if (result !== undefined) {
      comparison = result.models;
      // The leave-one-out evaluation already named the models it skipped.
      if (main.evaluations.loo === undefined) recordSkipped(main.problems, "model comparison", result.skipped);
    }
  }
  // Between waves only: items always differ (that is what calibration absorbs), so a test by item would always alarm.
  const exchangeability = exchangeabilityDiagnostics(history, { range: kind.range, columns: ["group"] });
  return {
    ...main,
    kind,
    options: calibrationOptions,
    history,
    targets,
    ...(alternative === undefined ? {} : { alternative }),
    comparison,
    pilot,
    exchangeability,
    notes: [...new Set(notes)],
  };
}

function runMethod(
  method: MethodName,
  options: CalibrationOptions,
  history: TaskRow[],
  targets: TaskRow[],
  settings: AnalysisSettings,
  analyze: AnalyzeOptions,
  notes: string[],
  pilotReports: PilotReport[],
): MethodResults {
  const problems: string[] = [];
  const intervals: IntervalRow[] = [];
  const cells: CellSummary[] = [];
  const pilotOf = new Map(settings.pilot.flatMap((set) => set.items.map((item) => [item, set] as const)));
  const regular = targets.filter((t) => !pilotOf.has(t.item ?? ""));
  if (analyze.calibrate !== false && regular.length > 0 && history.length > 0) {
    const result = guard(problems, analyze, "calibration", () => calibrate(history, regular, skipping(options, analyze)));
    if (result !== undefined) {
      recordSkipped(problems, "calibration", result.skipped);
      intervals.push(...result.intervals);
      cells.push(...result.cells);
      notes.push(...result.notes);
    }
  }
  for (const set of settings.pilot) {
    const pilotTargets = targets.filter((t) => set.items.includes(t.item ?? ""));
    if (pilotTargets.length === 0 || analyze.calibrate === false) continue;
    const like = history.filter((h) => set.like.includes(h.item ?? ""));
    // The named items are the pilot items' stratum: strata by item would leave them alone.
    const strata = options.strata?.filter((s) => s !== "item" && s !== "task");
    const pilotOptions: CalibrationOptions = { ...options };
    if (strata === undefined || strata.length === 0) delete pilotOptions.strata;
    else pilotOptions.strata = strata;
    const result = guard(problems, analyze, `pilot items ${set.items.join(", ")}`, () => calibrate(like, pilotTargets, skipping(pilotOptions, analyze)));
    if (result !== undefined) {
      recordSkipped(problems, `pilot items ${set.items.join(", ")}`, result.skipped);
      intervals.push(...result.intervals);
      cells.push(...result.cells);
      notes.push(...result.notes);
    }
    const pilotEvaluations: PilotReport["evaluations"] = {};
    for (const protocol of analyze.protocols ?? settings.protocols) {
      if (like.length === 0) continue;
      const step = `${protocolLabel(protocol, settings)} evaluation of pilot items ${set.items.join(", ")} on the items they are like`;
      const evaluation = guard(problems, analyze, step, () => evaluate(protocol, like, [], skipping(pilotOptions, analyze), { groupBy: settings.groupBy }));
      if (evaluation === undefined) continue;
      recordSkipped(problems, step, evaluation.skipped);
      pilotEvaluations[protocol] = Object.fromEntries(Object.entries(evaluation.report.by_model).map(([model, { by_group: _, ...summary }]) => [model, summary]));
    }
    const perModel: Record<string, number> = {};
    for (const row of like) perModel[row.model] = (perModel[row.model] ?? 0) + 1;
    const counts = Object.values(perModel);
    pilotReports.push({
      items: set.items,
      like: set.like,
      historyTasks: perModel,
      evaluations: pilotEvaluations,
      targets: pilotTargets.length,
      warning: pilotWarning(set.items, set.like, counts.length === 0 ? 0 : Math.min(...counts)),
    });
  }
  const evaluations: Partial<Record<Protocol, Evaluation>> = {};
  for (const protocol of analyze.protocols ?? settings.protocols) {
    if (history.length === 0) continue;
    const scored = protocol === "chrono" ? targets.filter((t) => t.real_est !== undefined && !pilotOf.has(t.item ?? "")) : [];
    const step = `${protocolLabel(protocol, settings)} evaluation`;
    const evaluation = guard(problems, analyze, step, () => evaluate(protocol, history, scored, skipping(options, analyze), { groupBy: settings.groupBy }));
    if (evaluation !== undefined) {
      recordSkipped(problems, step, evaluation.skipped);
      evaluations[protocol] = evaluation;
      notes.push(...evaluation.notes);
    }
  }
  const targetTasks = scoreTargets(intervals, targets, METHODS[method].joint);
  const target: Record<string, CoverageSummary> = {};
  for (const [model, list] of byModel(targetTasks)) target[model] = summarize(list);
  return { method, intervals, cells, evaluations, target, targetTasks, problems };
}

/** The protocol as a step's name: "leave-one-out", "chronological", "leave-one-item-out". */
export function protocolLabel(protocol: Protocol, settings: Pick<AnalysisSettings, "groupBy">): string {
  if (protocol === "loo") return "leave-one-out";
  if (protocol === "chrono") return "chronological";
  return settings.groupBy === "group" ? "leave-one-wave-out" : `leave-one-${settings.groupBy}-out`;
}

/** The target intervals against the targets' real estimates, where known (the forecast, checked). */
function scoreTargets(intervals: readonly IntervalRow[], targets: readonly TaskRow[], joint: boolean): EvaluatedTask[] {
  const rowOf = new Map(targets.map((t) => [`${t.model}\u001f${t.task}\u001f${t.coord ?? ""}`, t]));
  const units = new Map<string, IntervalRow[]>();
  for (const interval of intervals) {
    const key = joint ? `${interval.model}\u001f${interval.task}` : `${interval.model}\u001f${interval.task}\u001f${interval.coord}`;
    const list = units.get(key);
    if (list === undefined) units.set(key, [interval]);
    else list.push(interval);
  }
  const out: EvaluatedTask[] = [];
  for (const unit of units.values()) {
    const rows = unit.map((i) => rowOf.get(`${i.model}\u001f${i.task}\u001f${i.coord}`));
    if (rows.some((r) => r?.real_est === undefined) || unit.some((i) => Number.isNaN(i.lower))) continue;
    out.push(scoreTask(unit[0]!.task, unit[0]!.model, rows[0]!.group, unit, rows.map((r) => r!.real_est!)));
  }
  return out;
}

/** In "record" mode a cell with too little history is skipped, not fatal to the whole step. */
function skipping(options: CalibrationOptions, analyze: AnalyzeOptions): CalibrationOptions {
  return analyze.onInfeasible === "record" ? { ...options, uncalibratable: "skip" } : options;
}

function recordSkipped(problems: string[], step: string, skipped: readonly { model: string; reason: string }[]): void {
  for (const s of skippedByModel(skipped)) {
    problems.push(`${step} skipped ${s.tasks} task${s.tasks === 1 ? "" : "s"} of model ${s.model}: ${s.reason}`);
  }
}

function guard<T>(problems: string[], options: AnalyzeOptions, step: string, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (options.onInfeasible !== "record" || !(error instanceof InfeasibleError)) throw error;
    problems.push(`${step} skipped: ${error.message}`);
    return undefined;
  }
}

export function pilotWarning(items: readonly string[], like: readonly string[], tasks: number): string {
  const these = items.length === 1 ? `item "${items[0]}" has` : `items ${items.map((i) => `"${i}"`).join(", ")} have`;
  return (
    `pilot mode: ${these} no history, so ${items.length === 1 ? "its" : "their"} intervals are calibrated on the gaps of ` +
    `${like.map((i) => `"${i}"`).join(", ")} (${tasks} historical tasks per model). This assumes the model errs on the new ` +
    `${items.length === 1 ? "question" : "questions"} as it does on a random one of these: if it errs more, the intervals ` +
    `under-cover, and no data can show it until the new questions are fielded.`
  );
}
