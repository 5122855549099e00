/**
 * The tasks table from a survey design and synthetic answers: one task per
 * item (per option, as coordinates, for choice items on request), subgroup
 * and wave, per model. Real estimates come from the design's answers,
 * synthetic ones from respondent-level generation averages carried the real
 * weights; the gap SE is paired wherever twins exist (src/estimands/gap.ts).
 *
 * This is the one implementation both `silicon estimate --real --synthetic`
 * and the pipeline (stored answers) call.
 */
import { InputError, UsageError } from "../errors.ts";
import { TASK_COLUMNS, type TaskRow } from "../config/tasks.ts";
import { domainMean, type DomainSums } from "../inference/survey.ts";
import { partitionOf, resolveAnswers, type ResolveOptions, type SyntheticAnswers, type UnmatchedIds } from "./answers.ts";
import type { SurveyDesign } from "./design.ts";
import { domainsOf, EVERYONE, specName, subgroupLabel, type Domains, type SubgroupSpec } from "./domains.ts";
import { domainGaps, type GapEstimate } from "./gap.ts";
import { domainSums, indicator } from "./mean.ts";
import { answerCodes, partitionAnswers, respondentValues, type PartitionAnswers, type ValueTarget } from "./respondent-values.ts";

export interface ItemEstimand {
  item: string;
  /** Proportions per answer option, as coordinates of one task, instead of the mean. */
  perOption?: boolean;
  /** Option codes, in coordinate order; default: every code answered, ascending. Other codes count as "not this option". */
  options?: readonly number[];
}

export interface EstimateOptions extends ResolveOptions {
  /** Items and how to estimate them; default: the mean of every item answered, in order of appearance. */
  items?: readonly (string | ItemEstimand)[];
  /** Subgroup specs; default: everyone. */
  by?: readonly SubgroupSpec[];
  /** Tasks of this wave (or these waves) get role `target` (their real data, if any, kept only to score evaluation). */
  targetWave?: string | readonly string[];
}

export interface EstimateResult {
  tasks: TaskRow[];
  /** Things the user should know (dropped tasks), one line each. */
  warnings: string[];
  unmatched: UnmatchedIds;
  models: readonly string[];
  waves: readonly string[];
}

/** Builds the tasks table. Tasks without synthetic answers, and history tasks without real ones, are dropped with a warning. */
export function estimateTasks(design: SurveyDesign, answers: SyntheticAnswers, options: EstimateOptions = {}): EstimateResult {
  const resolved = resolveAnswers(design, answers, options);
  const estimands = (options.items ?? resolved.items).map((item) => (typeof item === "string" ? { item } : item));
  const itemIndex = estimands.map(({ item }) => {
    const k = resolved.items.indexOf(item);
    if (k < 0) throw new InputError({ file: resolved.source, field: item }, `no synthetic answers to item ${JSON.stringify(item)}`);
    return k;
  });
  const targetWaves = new Set((typeof options.targetWave === "string" ? [options.targetWave] : (options.targetWave ?? [])).map((w) => targetWaveIndex(design, w)));
  const specs = options.by === undefined || options.by.length === 0 ? [EVERYONE] : options.by;
  const domains = specs.map((spec) => domainsOf(design, spec));
  const subgroupColumns = [...new Set(specs.flatMap((s) => s.columns))].filter(
    (c) => c !== "by" && !(TASK_COLUMNS as readonly string[]).includes(c),
  );

  const keyed: { key: number[]; row: TaskRow }[] = [];
  const dropped = { noSynthetic: [] as string[], noReal: [] as string[], oneRespondent: [] as string[] };
  estimands.forEach((estimand, itemOrder) => {
    const modelAnswers = resolved.models.map((_, m) => partitionAnswers(resolved, partitionOf(resolved, m, itemIndex[itemOrder]!)));
    const real = design.answers[estimand.item];
    const targets = valueTargets(design, estimand, real, modelAnswers);
    targets.forEach(({ target: valueTarget, coord }, coordOrder) => {
      const realY = real === undefined ? undefined : valueTarget.kind === "mean" ? real : indicator(real, valueTarget.code);
      const realSums = domains.map((d) => (realY === undefined ? undefined : domainSums(design, d, realY)));
      resolved.models.forEach((model, m) => {
        const synY = respondentValues(design, modelAnswers[m]!, valueTarget);
        domains.forEach((d, specOrder) => {
          const synSums = domainSums(design, d, synY, resolved.askedPerWave[m]);
          const gaps = realY === undefined ? undefined : domainGaps(design, d, realY, synY, realSums[specOrder]!, synSums);
          d.levels.forEach((level, levelOrder) => {
            const row = taskRow({
              design, domains: d, level: levelOrder, item: estimand.item, model, coord,
              role: targetWaves.has(level.wave) ? "target" : "history",
              real: realSums[specOrder]?.[levelOrder], synthetic: synSums[levelOrder]!, gap: gaps?.[levelOrder], subgroupColumns,
            });
            // A subgroup of zero-weight respondents has answers but no estimate.
            if (!Number.isFinite(row.syn_est)) dropped.noSynthetic.push(row.task);
            else if (row.role === "history" && row.real_est === undefined) dropped.noReal.push(row.task);
            else {
              if (row.syn_n === 1 || row.real_n === 1) dropped.oneRespondent.push(row.task);
              keyed.push({ key: [m, level.wave, itemOrder, specOrder, levelOrder, coordOrder], row });
            }
          });
        });
      });
    });
  });

  keyed.sort((a, b) => compareKeys(a.key, b.key));
  return {
    tasks: keyed.map((k) => k.row),
    warnings: droppedWarnings(dropped),
    unmatched: resolved.unmatched,
    models: resolved.models,
    waves: design.hasWaves ? design.waves : [],
  };
}

/** `therm|party=Democrat`, with `@wave` when the design has waves. */
export function taskId(item: string, subgroup: string, wave?: string): string {
  return `${item}|${subgroup}${wave === undefined ? "" : `@${wave}`}`;
}

function targetWaveIndex(design: SurveyDesign, wave: string): number {
  if (!design.hasWaves) throw new UsageError(`a target wave (${wave}) needs waves: name the wave column of ${design.source} (--group)`);
  const k = design.waves.indexOf(wave);
  if (k < 0) throw new UsageError(`target wave ${JSON.stringify(wave)} is not a wave of ${design.source}; its waves are ${design.waves.join(", ")}`);
  return k;
}

function valueTargets(
  design: SurveyDesign,
  estimand: ItemEstimand,
  real: Float64Array | undefined,
  modelAnswers: readonly PartitionAnswers[],
): { target: ValueTarget; coord?: string }[] {
  if (!estimand.perOption) return [{ target: { kind: "mean" } }];
  let codes = estimand.options;
  if (codes === undefined) {
    const seen = new Set<number>();
    if (real !== undefined) for (const value of real) if (!Number.isNaN(value)) seen.add(value);
    for (const answers of modelAnswers) answerCodes(answers, seen);
    codes = [...seen].sort((a, b) => a - b);
  }
  const labels = design.optionLabels[estimand.item];
  return codes.map((code) => ({ target: { kind: "option", code }, coord: labels?.get(code) ?? String(code) }));
}

interface RowParts {
  design: SurveyDesign;
  domains: Domains;
  level: number;
  item: string;
  model: string;
  coord: string | undefined;
  role: TaskRow["role"];
  real: DomainSums | undefined;
  synthetic: DomainSums;
  gap: GapEstimate | undefined;
  subgroupColumns: readonly string[];
}

function taskRow(parts: RowParts): TaskRow {
  const { design, domains } = parts;
  const level = domains.levels[parts.level]!;
  const subgroup = subgroupLabel(domains.spec, level);
  const wave = design.hasWaves ? design.waves[level.wave]! : undefined;
  const syn = domainMean(parts.synthetic);
  const real = parts.real === undefined || parts.real.count === 0 || parts.real.sumW <= 0 ? undefined : domainMean(parts.real);
  const extra: Record<string, string> = { by: specName(domains.spec) };
  for (const column of parts.subgroupColumns) {
    const j = domains.spec.columns.indexOf(column);
    extra[column] = j < 0 ? "" : level.values[j]!;
  }
  return {
    task: taskId(parts.item, subgroup, wave),
    model: parts.model,
    role: parts.role,
    ...(wave === undefined ? {} : { group: wave }),
    ...(parts.coord === undefined ? {} : { coord: parts.coord }),
    item: parts.item,
    subgroup,
    ...(real === undefined ? {} : { real_est: real.estimate, real_se: real.se, real_n: real.n }),
    syn_est: syn.estimate,
    syn_se: syn.se,
    syn_n: syn.n,
    ...(real !== undefined && parts.gap?.paired ? { gap_se: parts.gap.se } : {}),
    extra,
  };
}

function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k]! - b[k]!;
  return 0;
}

function droppedWarnings(dropped: { noSynthetic: string[]; noReal: string[]; oneRespondent: string[] }): string[] {
  const warnings: string[] = [];
  const rows = (n: number) => `${n} task ${n === 1 ? "row" : "rows"}`;
  const examples = (tasks: string[]) => {
    const unique = [...new Set(tasks)];
    return `${unique.slice(0, 3).join(", ")}${unique.length > 3 ? ", …" : ""}`;
  };
  if (dropped.noSynthetic.length > 0) {
    warnings.push(`left out ${rows(dropped.noSynthetic.length)} with no synthetic answer of positive weight in the subgroup (${examples(dropped.noSynthetic)})`);
  }
  if (dropped.noReal.length > 0) {
    warnings.push(`left out ${rows(dropped.noReal.length)} of history tasks with no real answer of positive weight in the subgroup (${examples(dropped.noReal)})`);
  }
  if (dropped.oneRespondent.length > 0) {
    // As R's svyby, one respondent gives SE 0, which calibration would read as exact.
    warnings.push(
      `${rows(dropped.oneRespondent.length)} rest on a single respondent (SE 0), which calibration would treat as exact; ` +
        `consider coarser subgroups (${examples(dropped.oneRespondent)})`,
    );
  }
  return warnings;
}
