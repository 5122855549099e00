/**
 * `silicon evaluate`: held-out coverage and width of a calibration method on
 * a tasks table, per model, beside the naive synthetic-only baseline. Human
 * tables on stdout, or DESIGN.md's JSON with --json; --out writes one row per
 * held-out task (CSV) through an OutputSet.
 */
import { InfeasibleError, InputError, UsageError } from "../../errors.ts";
import { evaluate, PROTOCOLS, skippedByModel, type Evaluation, type EvaluationReport, type Protocol } from "../../evaluation/evaluate.ts";
import { DEFAULT_GROUP_COLUMN } from "../../evaluation/groups.ts";
import { diagnosticsSummary, tableDiagnostics } from "../../evaluation/diagnostics.ts";
import type { TasksTable } from "../../config/tasks.ts";
import type { CalibrationOptions } from "../../inference/calibrate.ts";
import type { EvaluatedTask } from "../../evaluation/metrics.ts";
import { METHODS } from "../../inference/methods.ts";
import { hasColumn } from "../../inference/task-record.ts";
import { tableOutput } from "./table-output.ts";
import { OutputSet } from "../../util/atomic-write.ts";
import type { RawCalibrationOptions, TasksSource } from "../calibration-flags.ts";
import { calibrationOptions, describeRange, poolingNotes } from "../calibration-options.ts";
import { toCsv } from "../csv-output.ts";
import { fixed, renderTable } from "../text-table.ts";
import { processIo, type Io } from "../io.ts";

export interface EvaluateCliOptions extends RawCalibrationOptions {
  protocol?: string;
  groupBy?: string;
  json?: boolean;
  out?: string;
}

export const EVALUATED_COLUMNS = [
  "task",
  "model",
  "coord",
  "group",
  "method",
  "alpha",
  "lower",
  "upper",
  "estimate",
  "naive_lower",
  "naive_upper",
  "real_est",
  "covered",
  "naive_covered",
  "task_covered",
  "task_naive_covered",
] as const;

export function parseProtocol(text: string | undefined, fallback?: Protocol): Protocol {
  if (text === undefined) {
    if (fallback !== undefined) return fallback;
    throw new UsageError("--protocol is required: loo (leave one task out), chrono (expanding window over group) or group (leave one group out, --group-by)");
  }
  if (!(PROTOCOLS as readonly string[]).includes(text)) throw new UsageError(`--protocol must be loo, chrono or group, got ${JSON.stringify(text)}`);
  return text as Protocol;
}

/** The rows a protocol evaluates on, with the checks it needs, and notes on what it leaves aside. */
export function evaluationRows(table: TasksTable, protocol: Protocol, groupBy = DEFAULT_GROUP_COLUMN): { history: TasksTable["rows"]; scored: TasksTable["rows"]; notes: string[] } {
  const history = table.rows.filter((r) => r.role === "history");
  const targets = table.rows.filter((r) => r.role === "target");
  const withReal = targets.filter((r) => r.real_est !== undefined);
  const notes: string[] = [];
  if (protocol === "loo") {
    if (targets.length > 0) notes.push(`leave-one-out uses the ${history.length} history rows; ${targets.length} target rows are left aside (--protocol chrono scores targets that have a real_est)`);
    return { history, scored: [], notes };
  }
  if (protocol === "group") {
    if (!hasColumn(history, groupBy)) throw new UsageError(`--group-by ${groupBy}: no history row of ${table.source} has a value in a column "${groupBy}"`);
    if (targets.length > 0) notes.push(`leave-one-group-out uses the ${history.length} history rows; ${targets.length} target rows are left aside (--protocol chrono scores targets that have a real_est)`);
    return { history, scored: [], notes };
  }
  for (const row of [...history, ...withReal]) {
    if (row.group === undefined) throw new InputError(table.locate(row, "group"), "missing value: --protocol chrono orders tasks by their group (e.g. the wave)");
  }
  if (withReal.length < targets.length) notes.push(`${targets.length - withReal.length} target rows without a real_est cannot be scored and are left aside`);
  return { history, scored: withReal, notes };
}

export async function runEvaluate(source: TasksSource, raw: EvaluateCliOptions, io: Io = processIo): Promise<Evaluation> {
  const protocol = parseProtocol(raw.protocol);
  const table = await source();
  const options = calibrationOptions(raw, table);
  const groupBy = raw.groupBy ?? DEFAULT_GROUP_COLUMN;
  const { history, scored, notes } = evaluationRows(table, protocol, groupBy);
  notes.unshift(...poolingNotes(table));
  // A model (a calibration cell) with too little history for α is skipped and named; only when every one is, it is an error.
  const evaluation = evaluate(protocol, history, scored, { ...options, uncalibratable: "skip" }, { groupBy });
  notes.push(...skippedNotes("leave-one-out", evaluation.skipped, evaluation.tasks.length));
  const diagnostics = tableDiagnostics(history, options.range, protocol === "group" ? [groupBy] : []);
  const output = tableOutput(raw.out, io);
  return OutputSet.write((out) => {
    output.emit(out, () => evaluatedCsv(evaluation));
    if (raw.json) output.messages.stdout(JSON.stringify({ ...evaluation.report, exchangeability: diagnostics }, null, 2) + "\n");
    else output.messages.stdout(evaluationText(evaluation, options, raw.range) + `\n${diagnosticsSummary(diagnostics)}\n`);
    if (raw.out !== undefined && !raw.json) output.messages.stdout(`wrote ${evaluation.tasks.length} evaluated tasks to ${output.where}\n`);
    for (const note of [...notes, ...evaluation.notes]) io.stderr(`silicon: note: ${note}\n`);
    for (const warning of diagnostics.warnings) io.stderr(`silicon: warning: ${warning}\n`);
    return evaluation;
  });
}

/**
 * Notes naming each model whose held-out tasks were skipped for too little
 * history; throws the first reason when nothing at all could be evaluated.
 */
export function skippedNotes(what: string, skipped: readonly { model: string; reason: string }[], evaluated: number): string[] {
  if (skipped.length === 0) return [];
  if (evaluated === 0) throw new InfeasibleError(skipped[0]!.reason);
  return skippedByModel(skipped).map(
    (s) => `${what}: model ${s.model} skipped (${s.tasks} task${s.tasks === 1 ? "" : "s"}), the others evaluated: ${s.reason}`,
  );
}

export function evaluatedCsv(evaluation: Evaluation): string {
  return toCsv(EVALUATED_COLUMNS, evaluatedRecords(evaluation));
}

/**
 * One record per held-out task and coordinate: its interval, real_est, and
 * whether each interval covered it — `covered`/`naive_covered` for this
 * coordinate, `task_covered`/`task_naive_covered` for the task as the
 * evaluation scores it (jointly over its coordinates for a rectangle; the
 * same as `covered` for a scalar method), so the JSON's coverage is the mean
 * of `task_covered` over one row per task.
 */
export function evaluatedRecords(evaluation: Evaluation) {
  return evaluatedTaskRecords(evaluation.tasks);
}

export function evaluatedTaskRecords(tasks: readonly EvaluatedTask[]) {
  return tasks.flatMap((t) =>
    t.rows.map((r) => ({
      ...r,
      group: t.group ?? "",
      covered: r.real_est >= r.lower && r.real_est <= r.upper,
      naive_covered: r.real_est >= r.naive_lower && r.real_est <= r.naive_upper,
      task_covered: t.covered,
      task_naive_covered: t.naiveCovered,
    })),
  );
}

const PROTOCOL_NAMES: Record<Protocol, string> = {
  loo: "leave-one-task-out",
  chrono: "chronological (expanding window over group)",
  group: "leave-one-group-out",
};

/**
 * The line evaluate prints when leave-one-out coverage is fixed by
 * arithmetic (alg4): it cannot show a failure, and says so.
 */
export function fixedCoverageLine(report: EvaluationReport): string | undefined {
  if (!report.coverage_fixed_by_arithmetic) return undefined;
  const figures = [...new Set(Object.values(report.by_model).map((m) => m.arithmetic_coverage).filter((c) => c !== undefined).map((c) => fixed(c)))];
  return (
    `This coverage cannot fail: under leave-one-out, alg4 covers a held-out task exactly when its gap ranks in (k_lo, k_hi] of its calibration, ` +
    `so coverage is (k_hi − k_lo)/(T+1) = ${figures.join(", ")} whatever the data. For a check that can fail use --protocol group --group-by item, or --protocol chrono.`
  );
}

/** "0.871 [0.835, 0.902]": coverage with its exact 95% interval. */
function coverageWithInterval(s: { coverage: number; coverage_lower?: number; coverage_upper?: number }): string {
  if (s.coverage_lower === undefined || !Number.isFinite(s.coverage)) return fixed(s.coverage);
  return `${fixed(s.coverage)} [${fixed(s.coverage_lower)}, ${fixed(s.coverage_upper!)}]`;
}

/** Models whose held-out coverage is significantly below 1 − α (the interval's upper end under it). */
export function underCoverageLines(report: EvaluationReport): string[] {
  const target = 1 - report.alpha;
  return Object.entries(report.by_model)
    .filter(([, s]) => s.coverage_upper !== undefined && s.coverage_upper < target)
    .map(
      ([model, s]) =>
        `${model === "" ? "The tasks" : `Model ${model}`} under-cover: ${coverageWithInterval(s)} is below 1 − α = ${Number(target.toFixed(6))}; ` +
        `its held-out ${report.protocol === "chrono" ? "waves" : "groups"} are not exchangeable with the rest of its history.`,
    );
}

export function evaluationText(evaluation: Evaluation, options: CalibrationOptions, rawRange: string): string {
  const { report } = evaluation;
  const algorithm = METHODS[options.method];
  const heldOutBy = report.protocol === "group" ? ` by ${report.group_by}` : "";
  const lines = [
    `${PROTOCOL_NAMES[report.protocol]}${heldOutBy} evaluation of ${algorithm.title}`,
    `α = ${report.alpha}; ${describeRange(options.range, rawRange)}; coverage judged against each held-out task's real estimate θ̂` +
      (algorithm.joint ? " (jointly over its coordinates)" : ""),
    "",
    renderTable(
      ["model", "tasks", "coverage", "mean width", "median width", "naive coverage", "naive median width"],
      Object.entries(report.by_model).map(([model, s]) => [
        model === "" ? "(all)" : model,
        s.tasks,
        coverageWithInterval(s),
        fixed(s.mean_width),
        fixed(s.median_width),
        fixed(s.naive_coverage),
        fixed(s.naive_median_width),
      ]),
    ),
  ];
  const fixedLine = fixedCoverageLine(report);
  if (fixedLine !== undefined) lines.push(fixedLine);
  if (report.protocol !== "loo") {
    lines.push(`Coverage intervals are exact (Clopper–Pearson) 95% binomial intervals; they treat tasks as independent, and tasks of one group share its shock.`);
    lines.push(...underCoverageLines(report));
    const column = report.protocol === "group" ? report.group_by! : "group";
    for (const [model, s] of Object.entries(report.by_model)) {
      lines.push("");
      lines.push(`${model === "" ? `By ${column}` : `Model ${model}, by ${column}`} (each held out, calibrated on ${report.protocol === "chrono" ? "the earlier groups" : "the others"}):`);
      lines.push(
        renderTable(
          [column, "history", "tasks", "skipped", "coverage [95%]", "median width", "naive coverage"],
          Object.entries(s.by_group ?? {}).map(([group, g]) => [
            group,
            g.history,
            g.tasks,
            g.skipped,
            coverageWithInterval(g),
            fixed(g.median_width),
            fixed(g.naive_coverage),
          ]),
        ),
      );
    }
  }
  return lines.join("\n");
}
