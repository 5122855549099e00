/**
 * Pre-flight: from the study alone (frames, estimands, calibration), before
 * any answer is generated or paid for, the historical tasks each kind of
 * task will have per model and calibration cell, and whether calibration at
 * the study's α is feasible with them. The tasks are built by the very code
 * that builds them after generation (studyTasks on placeholder answers:
 * every respondent answers every item once), so the counts cannot disagree
 * with what `run` will find. Also: subgroups too small to estimate well.
 */
import type { LoadedStudy } from "../config/load.ts";
import { InfeasibleError } from "../errors.ts";
import type { SyntheticAnswers } from "../estimands/answers.ts";
import { domainsOf, subgroupLabel, type SubgroupSpec } from "../estimands/domains.ts";
import { studyDesign, studyTasks } from "../estimands/from-study.ts";
import { calibrateSample, type Algorithm } from "../inference/algorithm.ts";
import type { GapSample } from "../inference/bounds.ts";
import { planOptions } from "../inference/calibrate.ts";
import { METHODS } from "../inference/methods.ts";
import { planCalibration } from "../inference/plan.ts";
import type { TaskRecord } from "../inference/task-record.ts";
import { stratumLabel } from "../inference/mondrian.ts";
import { partitionByKind } from "./kinds.ts";
import { kindOptions, methodFor, type AnalysisSettings } from "./settings.ts";

/** Fewer respondents than this in a subgroup of a wave: warned about (its estimates are noisy). */
export const SMALL_SUBGROUP = 30;
const PLACEHOLDER_MODEL = "(each model)";

export interface CellCheck {
  kind: string;
  /** The kind's label, with the stratum or coordinate when the kind has several cells. */
  label: string;
  method: string;
  /** Historical tasks the cell will have per model (whole tasks for a joint method). */
  tasks: number;
  /** What they are made of: items × subgroups × waves. */
  makeup: string;
  /** Fewest tasks the method needs at α (with unit weights). */
  needed: number;
  feasible: boolean;
  /** Why not, as calibration would say it. */
  reason?: string;
}

export interface Preflight {
  alpha: number;
  /** Whether the study has target waves (else the check is for leave-one-out, which needs one task more). */
  targets: boolean;
  cells: CellCheck[];
  /** "wave w1: party=Independent (12 respondents)". */
  smallSubgroups: string[];
}

export function preflight(study: LoadedStudy, settings: AnalysisSettings): Preflight {
  const { tasks } = studyTasks(study, placeholderAnswers(study));
  const targets = tasks.some((t) => t.role === "target");
  const cells: CellCheck[] = [];
  for (const { kind, rows } of partitionByKind(study, tasks)) {
    const history = rows.filter((r) => r.role === "history");
    if (history.length === 0) continue;
    const method = methodFor(settings, kind);
    const algorithm = METHODS[method];
    const options = kindOptions(settings, kind, history, method);
    const plan = planCalibration(history, [], planOptions(options));
    const several = plan.pools.length > 1 || plan.pools.some((p) => p.cells.size > 1);
    for (const pool of plan.pools) {
      for (const cell of pool.cells.values()) {
        const where = [pool.coords.length === 1 && pool.coords[0] !== "" ? `coordinate ${pool.coords[0]}` : "", options.strata ? `stratum ${stratumLabel(cell.stratum, options.strata)}` : ""];
        const reason = infeasibility(algorithm, cell.sample, settings.alpha, !targets, cell.scale);
        cells.push({
          kind: kind.key,
          label: several ? [kind.label, ...where.filter((w) => w !== "")].join(", ") : kind.label,
          method,
          tasks: cell.members.length,
          makeup: makeup(cell.members.flatMap((m) => m.rows)),
          needed: neededTasks(algorithm, settings.alpha, cell.sample.dims) + (targets ? 0 : 1),
          feasible: reason === undefined,
          ...(reason === undefined ? {} : { reason }),
        });
      }
    }
  }
  return { alpha: settings.alpha, targets, cells, smallSubgroups: smallSubgroups(study) };
}

/** The refusal `run` and `generate --dry-run` give when some cell cannot be calibrated; undefined when all can. */
export function infeasibleMessage(study: LoadedStudy, check: Preflight): string | undefined {
  const bad = check.cells.filter((c) => !c.feasible);
  if (bad.length === 0) return undefined;
  const what = bad
    .map((c) => `${c.label} will have ${c.tasks} historical task${c.tasks === 1 ? "" : "s"} per model (${c.makeup}) and ${c.method} needs at least ${c.needed}`)
    .join("; ");
  const fewest = Math.min(...bad.map((c) => c.tasks));
  const remedies = [
    "more subgroups (estimands by:), items or historical waves",
    `a larger calibration.alpha (with ${fewest} tasks: ${smallestAlpha(METHODS[bad[0]!.method as keyof typeof METHODS], fewest - (check.targets ? 0 : 1))} or more)`,
  ];
  if (bad.some((c) => c.method !== "alg4" && !METHODS[c.method as keyof typeof METHODS].joint)) {
    remedies.push(`method: alg4 (needs ${neededTasks(METHODS.alg4, check.alpha, 1) + (check.targets ? 0 : 1)})`);
  }
  return (
    `${study.file}: calibration at α = ${check.alpha} is infeasible, so nothing was generated: ${what}. ` +
    `Remedies: ${remedies.join("; ")}`
  );
}

/** Throws the refusal when calibration is infeasible: before any answer is generated. */
export function requireFeasible(study: LoadedStudy, check: Preflight): void {
  const message = infeasibleMessage(study, check);
  if (message !== undefined) throw new InfeasibleError(message);
}

/** Every respondent answers every item once, with codes spread over the options (per-option tasks see each). */
function placeholderAnswers(study: LoadedStudy): SyntheticAnswers {
  const id: string[] = [];
  const item: string[] = [];
  const value: number[] = [];
  const wave: string[] = [];
  for (const { wave: w, frame } of study.waves) {
    for (let r = 0; r < frame.size; r++) {
      for (const it of study.survey.items) {
        id.push(frame.ids[r]!);
        item.push(it.id);
        wave.push(w.id);
        value.push("options" in it ? it.options[r % it.options.length]!.code : r % 2 === 0 ? it.min : it.max);
      }
    }
  }
  return { source: study.file, id, item, value, wave, model: id.map(() => PLACEHOLDER_MODEL) };
}

function infeasibility(algorithm: Algorithm, sample: GapSample, alpha: number, leaveOneOut: boolean, scale?: Float64Array): string | undefined {
  try {
    const options = scale === undefined ? {} : { scale };
    if (leaveOneOut) algorithm.prepare(sample, alpha, true, options)(0);
    else calibrateSample(algorithm, sample, alpha, options);
    return undefined;
  } catch (error) {
    if (error instanceof InfeasibleError) return error.message;
    throw error;
  }
}

function zeroSample(tasks: number, dims: number): GapSample {
  return { size: tasks, dims, gap: Array.from({ length: dims }, () => new Float64Array(tasks)), se: Array.from({ length: dims }, () => new Float64Array(tasks)) };
}

function feasibleWith(algorithm: Algorithm, tasks: number, alpha: number, dims: number): boolean {
  return tasks > 0 && infeasibility(algorithm, zeroSample(tasks, dims), alpha, false) === undefined;
}

/** Fewest tasks `algorithm` needs at α (feasibility only grows with T): by bisection. */
export function neededTasks(algorithm: Algorithm, alpha: number, dims = 1): number {
  let hi = 1;
  while (!feasibleWith(algorithm, hi, alpha, dims)) hi *= 2;
  let lo = Math.floor(hi / 2);
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (feasibleWith(algorithm, mid, alpha, dims)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The smallest α (to 2 decimals, rounded up) at which `tasks` suffice. */
function smallestAlpha(algorithm: Algorithm, tasks: number): number {
  for (let hundredths = 1; hundredths < 100; hundredths++) if (feasibleWith(algorithm, tasks, hundredths / 100, 1)) return hundredths / 100;
  return 0.99;
}

function makeup(rows: readonly TaskRecord[]): string {
  const count = (f: (r: TaskRecord) => string | undefined) => new Set(rows.map(f)).size;
  const items = count((r) => r.item);
  const subgroups = count((r) => r.subgroup);
  const waves = count((r) => r.group);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return `${plural(items, "item")} × ${plural(subgroups, "subgroup")} × ${plural(waves, "historical wave")}`;
}

/** Subgroups (of every wave, for every `by` of the estimands) with fewer than SMALL_SUBGROUP respondents. */
function smallSubgroups(study: LoadedStudy): string[] {
  const design = studyDesign(study);
  const specs = new Map<string, SubgroupSpec>();
  for (const plan of study.analysis.items) for (const spec of plan.by) specs.set(spec.columns.join("+"), spec);
  for (const v of study.analysis.vectors) specs.set([...v.by.columns, v.target.coordinate].join("+"), { columns: [...v.by.columns, v.target.coordinate] });
  const out: string[] = [];
  for (const spec of specs.values()) {
    const domains = domainsOf(design, spec);
    const sizes = new Int32Array(domains.levels.length);
    for (const d of domains.index) if (d >= 0) sizes[d]! += 1;
    domains.levels.forEach((level, d) => {
      if (sizes[d]! < SMALL_SUBGROUP) out.push(`wave ${design.waves[level.wave]}: ${subgroupLabel(spec, level)} (${sizes[d]} respondents)`);
    });
  }
  return out;
}
