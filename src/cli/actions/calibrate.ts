/**
 * `silicon calibrate`: intervals for every target row of a tasks table,
 * calibrated on the history rows of its model. Writes the intervals table
 * (DESIGN.md) to --out through an OutputSet, so bad input leaves no file;
 * prints a per-cell summary (and, without --out, the intervals) on stdout.
 */
import type { TaskRow } from "../../config/tasks.ts";
import { InfeasibleError, UsageError } from "../../errors.ts";
import { median } from "../../evaluation/metrics.ts";
import type { MethodName } from "../../inference/algorithm.ts";
import { calibrate, DEFAULT_LAMBDA, describeAdjustments, validateAlpha, type CalibrationOptions, type IntervalRow } from "../../inference/calibrate.ts";
import { METHODS } from "../../inference/methods.ts";
import { tableOutput } from "./table-output.ts";
import { processIo, type Io } from "../io.ts";
import { OutputSet } from "../../util/atomic-write.ts";
import type { RawCalibrationOptions, TasksSource } from "../calibration-flags.ts";
import { calibrationOptions, describeRange, poolingNotes } from "../calibration-options.ts";
import { toCsv } from "../csv-output.ts";
import { fixed, formatNumber, renderTable } from "../text-table.ts";
import { tableDiagnostics } from "../../evaluation/diagnostics.ts";

export interface CalibrateCliOptions extends RawCalibrationOptions {
  out?: string;
  intersectReal?: boolean;
  lambda: string;
}

export const INTERVAL_COLUMNS = ["task", "model", "coord", "method", "alpha", "lower", "upper", "estimate", "naive_lower", "naive_upper"] as const;


/** The adjustment's settings in words (what each calibration chose comes in a note). */
export function describeFeatures(adjust: NonNullable<CalibrationOptions["adjust"]>): string {
  const mode = adjust.mode === "split" ? "split halves" : "cross-fitted";
  const features = adjust.features === "auto" ? "features chosen per calibration" : `features ${adjust.features.join(", ") || "intercept only"}`;
  return `${mode}; ${features}`;
}

export async function runCalibrate(source: TasksSource, raw: CalibrateCliOptions, io: Io = processIo): Promise<IntervalRow[]> {
  const table = await source();
  const options = calibrationOptions(raw, table);
  if (raw.intersectReal) {
    const lambda = Number(raw.lambda);
    validateAlpha(lambda, "--lambda");
    options.intersectReal = { lambda };
  } else if (raw.lambda !== String(DEFAULT_LAMBDA)) {
    throw new UsageError("--lambda only applies with --intersect-real");
  }
  const history = table.rows.filter((r) => r.role === "history");
  const targets = table.rows.filter((r) => r.role === "target");
  if (targets.length === 0) {
    throw new UsageError(`${table.source} has no target rows (role target): nothing to calibrate; silicon evaluate checks the method on history rows`);
  }
  const result = calibrate(history, targets, options);

  const output = tableOutput(raw.out, io);
  return OutputSet.write((out) => {
    output.emit(out, () => toCsv(INTERVAL_COLUMNS, result.intervals));
    const algorithm = METHODS[options.method];
    const lines: string[] = [];
    lines.push(`${algorithm.title}`);
    lines.push(`α = ${options.alpha}; ${describeRange(options.range, raw.range)}${options.adjust ? `; regression-adjusted (split by ${options.adjust.splitBy}; ${describeFeatures(options.adjust)})` : ""}${options.strata ? `; strata ${options.strata.join(", ")}` : ""}`);
    if (options.intersectReal !== undefined) {
      const { lambda } = options.intersectReal;
      const withReal = targets.filter((t) => t.real_est !== undefined && t.real_se !== undefined).length;
      lines.push(
        `section 4.4: ${withReal} targets with real_est and real_se get the calibrated interval at (1−λ)α = ${Number(((1 - lambda) * options.alpha).toPrecision(6))} ` +
          `intersected with their real interval at λα = ${Number((lambda * options.alpha).toPrecision(6))}; the bounds below are at α`,
      );
    }
    lines.push("");
    lines.push(
      renderTable(
        ["calibration", "T", "α_s", "α_g", "α_e", "L̂", "Û", "mean gap", "targets", "median width"],
        result.cells.map((cell) => [
          cell.label,
          cell.tasks,
          formatNumber(cell.budget.synthetic),
          formatNumber(cell.budget.gap),
          formatNumber(cell.budget.exchangeability),
          cell.lower.map((x) => formatNumber(x)).join(" "),
          cell.upper.map((x) => formatNumber(x)).join(" "),
          cell.meanGap.map((x) => formatNumber(x)).join(" "),
          cell.targets,
          fixed(cell.medianWidth),
        ]),
      ),
    );
    if (METHODS[options.method].joint) lines.push(rectangleComparison(history, targets, options, result.intervals));
    if (raw.out === undefined) {
      lines.push(
        renderTable(
          [...INTERVAL_COLUMNS],
          result.intervals.map((r) => [r.task, r.model, r.coord, r.method, String(r.alpha), fixed(r.lower, 4), fixed(r.upper, 4), fixed(r.estimate, 4), fixed(r.naive_lower, 4), fixed(r.naive_upper, 4)]),
        ),
      );
    } else {
      lines.push(`wrote ${result.intervals.length} intervals to ${output.where}`);
    }
    output.messages.stdout(lines.join("\n") + "\n");
    const adjustments = result.adjustments.length > 0 ? [describeAdjustments(result.adjustments)] : [];
    for (const note of [...poolingNotes(table), ...adjustments, ...result.notes]) io.stderr(`silicon: note: ${note}\n`);
    for (const warning of tableDiagnostics(history, options.range, []).warnings) io.stderr(`silicon: warning: ${warning}\n`);
    return result.intervals;
  });
}


/**
 * Algorithm 3 and its per-coordinate variant side by side (the spec asks for
 * both widths): median target width per model and coordinate under each.
 */
function rectangleComparison(
  history: readonly TaskRow[],
  targets: readonly TaskRow[],
  options: CalibrationOptions,
  intervals: readonly IntervalRow[],
): string {
  const other: MethodName = options.method === "alg3-bonferroni" ? "alg3" : "alg3-bonferroni";
  let otherIntervals: IntervalRow[] | undefined;
  let why = "";
  try {
    otherIntervals = calibrate(history, targets, { ...options, method: other }).intervals;
  } catch (error) {
    if (!(error instanceof InfeasibleError)) throw error;
    why = error.message;
  }
  const medians = (rows: readonly IntervalRow[]) => {
    const by = new Map<string, number[]>();
    for (const r of rows) {
      const key = `${r.model}\u001f${r.coord}`;
      by.set(key, [...(by.get(key) ?? []), r.upper - r.lower]);
    }
    return new Map([...by].map(([k, w]) => [k, median(w)]));
  };
  const mine = medians(intervals);
  const theirs = otherIntervals === undefined ? new Map<string, number>() : medians(otherIntervals);
  const table = renderTable(
    ["model", "coord", `${options.method} median width`, `${other} median width`],
    [...mine].map(([key, width]) => {
      const [model, coord] = key.split("\u001f");
      return [model!, coord!, fixed(width), theirs.has(key) ? fixed(theirs.get(key)!) : "infeasible"];
    }),
  );
  return `Rectangles: ${options.method} beside ${other} (pick either with --method)\n${table}${why === "" ? "" : `(${other}: ${why})\n`}`;
}
