/** The pre-flight check as `generate --dry-run`, `silicon run` and scripts/check-study.ts print it. */
import type { LoadedStudy } from "../config/load.ts";
import { InfeasibleError } from "../errors.ts";
import { infeasibleMessage, preflight, SMALL_SUBGROUP, type Preflight } from "../pipeline/preflight.ts";
import { analysisSettings, type AnalysisSettings } from "../pipeline/settings.ts";
import { renderTable } from "./text-table.ts";

export function preflightTable(check: Preflight): string {
  const lines = [
    `Calibration at α = ${check.alpha}, from the study alone (historical tasks per model and calibration cell; "needs": the fewest the method can calibrate${check.targets ? "" : " and hold one out"} with):`,
    renderTable(
      ["kind", "method", "historical tasks", "made of", "needs", "feasible"],
      check.cells.map((c) => [c.label, c.method, c.tasks, c.makeup, c.needed, c.feasible ? "yes" : "NO"]),
    ),
  ];
  return lines.join("\n");
}

/** One warning line about subgroups too small to estimate well, or undefined. */
export function smallSubgroupWarning(check: Preflight): string | undefined {
  const small = check.smallSubgroups;
  if (small.length === 0) return undefined;
  return (
    `${small.length} subgroup${small.length === 1 ? " has" : "s have"} fewer than ${SMALL_SUBGROUP} respondents in a wave, so their real estimates are noisy ` +
    `and their gaps mostly sampling error: ${small.slice(0, 4).join("; ")}${small.length > 4 ? "; …" : ""}`
  );
}

/**
 * Runs the pre-flight check; prints its table (when `print`) and the small-subgroup
 * warning; throws the refusal when calibration at α is infeasible.
 */
export function checkBeforeGenerating(
  study: LoadedStudy,
  io: { stdout: (text: string) => void; stderr: (text: string) => void },
  options: { settings?: AnalysisSettings; print: boolean; allow?: boolean },
): Preflight {
  const check = preflight(study, options.settings ?? analysisSettings(study.study.calibration));
  if (options.print) io.stdout(`\n${preflightTable(check)}\n`);
  const warning = smallSubgroupWarning(check);
  if (warning !== undefined && options.print) io.stderr(`silicon: warning: ${warning}\n`);
  const refusal = infeasibleMessage(study, check);
  if (refusal === undefined) return check;
  // With --allow-infeasible the user has chosen to go on: the analysis names each kind it had to skip.
  if (options.allow !== true) throw new InfeasibleError(`${refusal}; or --allow-infeasible to generate anyway`);
  return check;
}
