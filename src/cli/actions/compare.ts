/**
 * `silicon compare`: models side by side — their gaps (bias) over the
 * historical tasks and their held-out calibrated width and coverage (leave-
 * one-out by default) beside the naive baseline, narrowest first.
 */
import { compareModels, type ModelComparison } from "../../evaluation/compare.ts";
import { METHODS } from "../../inference/methods.ts";
import { tableOutput } from "./table-output.ts";
import { OutputSet } from "../../util/atomic-write.ts";
import type { TasksSource } from "../calibration-flags.ts";
import { calibrationOptions, describeRange, poolingNotes } from "../calibration-options.ts";
import { toCsv } from "../csv-output.ts";
import { fixed, formatNumber, renderTable } from "../text-table.ts";
import { processIo, type Io } from "../io.ts";
import { evaluationRows, parseProtocol, skippedNotes, type EvaluateCliOptions } from "./evaluate.ts";

export const COMPARISON_COLUMNS = [
  "model",
  "history",
  "gap_mean",
  "gap_sd",
  "gap_mean_abs",
  "gap_q05",
  "gap_q50",
  "gap_q95",
  "tasks",
  "coverage",
  "mean_width",
  "median_width",
  "naive_coverage",
  "naive_median_width",
] as const;

/** One comparison as a flat record of COMPARISON_COLUMNS. */
export function comparisonRecord(c: ModelComparison) {
  return {
    model: c.model,
    history: c.history,
    gap_mean: c.gap.mean,
    gap_sd: c.gap.sd,
    gap_mean_abs: c.gap.mean_abs,
    gap_q05: c.gap.q05,
    gap_q50: c.gap.q50,
    gap_q95: c.gap.q95,
    ...c.evaluation,
  };
}

export async function runCompare(source: TasksSource, raw: EvaluateCliOptions, io: Io = processIo): Promise<ModelComparison[]> {
  const protocol = parseProtocol(raw.protocol, "loo");
  const table = await source();
  const options = calibrationOptions(raw, table);
  const { history, scored, notes } = evaluationRows(table, protocol);
  notes.unshift(...poolingNotes(table));
  const { models: comparison, skipped, notes: planNotes } = compareModels(protocol, history, scored, { ...options, uncalibratable: "skip" });
  const evaluated = comparison.reduce((n, c) => n + c.evaluation.tasks, 0);
  notes.push(...skippedNotes(protocol === "loo" ? "leave-one-out" : "chronological", skipped, evaluated));
  const output = tableOutput(raw.out, io);
  return OutputSet.write((out) => {
    output.emit(out, () => toCsv(COMPARISON_COLUMNS, comparison.map(comparisonRecord)));
    if (raw.json) {
      output.messages.stdout(JSON.stringify({ protocol, method: options.method, alpha: options.alpha, models: comparison }, null, 2) + "\n");
    } else {
      const algorithm = METHODS[options.method];
      output.messages.stdout(
        [
          `Models side by side: gap = real − synthetic over each model's history; calibrated by ${options.method} (${protocol === "loo" ? "leave-one-out" : "chronological"}), narrowest first`,
          `${algorithm.title}; α = ${options.alpha}; ${describeRange(options.range, raw.range)}`,
          "",
          renderTable(
            ["model", "tasks", "mean gap", "sd gap", "mean |gap|", "gap 5%", "gap 95%", "coverage", "median width", "naive coverage", "naive median width"],
            comparison.map((c) => [
              c.model === "" ? "(all)" : c.model,
              c.evaluation.tasks,
              formatNumber(c.gap.mean),
              formatNumber(c.gap.sd),
              formatNumber(c.gap.mean_abs),
              formatNumber(c.gap.q05),
              formatNumber(c.gap.q95),
              fixed(c.evaluation.coverage),
              fixed(c.evaluation.median_width),
              fixed(c.evaluation.naive_coverage),
              fixed(c.evaluation.naive_median_width),
            ]),
          ),
        ].join("\n"),
      );
      if (raw.out !== undefined) output.messages.stdout(`wrote ${comparison.length} models to ${output.where}\n`);
    }
    for (const note of [...notes, ...planNotes]) io.stderr(`silicon: note: ${note}\n`);
    return comparison;
  });
}
