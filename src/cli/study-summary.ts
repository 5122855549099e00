/** The short tables `run`, `report`, `demo` and the study forms of calibrate/evaluate/compare print. */
import type { Protocol } from "../evaluation/evaluate.ts";
import type { CoverageSummary } from "../evaluation/metrics.ts";
import { protocolLabel, type KindAnalysis, type MethodResults, type StudyAnalysis } from "../pipeline/analyze.ts";
import { fixed, formatNumber, renderTable, type TableCell } from "./text-table.ts";


/** Coverage and width per kind, method, protocol and model: calibrated beside naive. */
export function coverageTable(analysis: StudyAnalysis, protocols: readonly (Protocol | "target")[] = ["loo", "chrono", "target"]): string {
  const rows: TableCell[][] = [];
  for (const kind of analysis.kinds) {
    for (const results of methodResults(kind)) {
      for (const protocol of protocols) {
        const byModel: Record<string, CoverageSummary> | undefined = protocol === "target" ? results.target : results.evaluations[protocol]?.report.by_model;
        for (const [model, s] of Object.entries(byModel ?? {})) {
          if (s.tasks === 0) continue;
          rows.push([kind.kind.label, results.method, protocol === "target" ? "target wave" : protocolLabel(protocol, analysis.settings), model, s.tasks, fixed(s.coverage), fixed(s.naive_coverage), formatNumber(s.median_width), formatNumber(s.naive_median_width)]);
        }
      }
    }
  }
  return renderTable(["kind", "method", "held out", "model", "tasks", "coverage", "naive coverage", "median width", "naive median width"], rows);
}

function methodResults(kind: KindAnalysis): MethodResults[] {
  return kind.alternative === undefined ? [kind] : [kind, kind.alternative];
}

/** Target intervals per kind and model: how many, the median width, the calibration sets. */
export function calibrationTable(analysis: StudyAnalysis): string {
  const rows: TableCell[][] = [];
  for (const kind of analysis.kinds) {
    for (const results of methodResults(kind)) {
      for (const cell of results.cells) {
        rows.push([kind.kind.label, results.method, cell.label, cell.tasks, cell.targets, fixed(cell.budget.exchangeability), formatNumber(cell.medianWidth)]);
      }
    }
  }
  return renderTable(["kind", "method", "calibration set", "history", "targets", "α_e", "median width"], rows);
}

/** Models side by side per kind: the gap distribution and the leave-one-out calibrated width. */
export function comparisonTable(analysis: StudyAnalysis): string {
  const rows: TableCell[][] = [];
  for (const kind of analysis.kinds) {
    for (const c of kind.comparison) {
      rows.push([kind.kind.label, c.model, c.history, formatNumber(c.gap.mean), formatNumber(c.gap.sd), formatNumber(c.gap.mean_abs), fixed(c.evaluation.coverage), formatNumber(c.evaluation.median_width), fixed(c.evaluation.naive_coverage)]);
    }
  }
  return renderTable(["kind", "model", "history", "mean gap", "sd gap", "mean |gap|", "coverage", "median width", "naive coverage"], rows);
}

/** Chronological evaluation per wave: tasks of one wave share its shock, so coverage varies more between waves than binomial error. */
export function byGroupTable(analysis: StudyAnalysis, protocol: "chrono" | "group" = "chrono", column = "wave"): string {
  const rows: TableCell[][] = [];
  for (const kind of analysis.kinds) {
    for (const [model, s] of Object.entries(kind.evaluations[protocol]?.report.by_model ?? {})) {
      for (const [group, g] of Object.entries(s.by_group ?? {})) {
        const interval = g.tasks > 0 ? `[${fixed(g.coverage_lower)}, ${fixed(g.coverage_upper)}]` : "";
        rows.push([kind.kind.label, model, group, g.history, g.tasks, g.skipped, fixed(g.coverage), interval, formatNumber(g.median_width), fixed(g.naive_coverage)]);
      }
    }
  }
  return renderTable(["kind", "model", column, "history", "tasks", "skipped", "coverage", "95% interval", "median width", "naive coverage"], rows);
}
