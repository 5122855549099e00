/**
 * The known truth behind a simulated study: for each task (wave × item ×
 * subgroup), the expected weighted mean of the population's answers and of a
 * simulated model's answers over the frame's respondents, and their gap.
 * These are exact expectations over answer draws (no sampling noise), so
 * a demo or a coverage study can say how far each estimate really is off.
 */
import type { Frame } from "../config/frame.ts";
import type { SurveyItem } from "../config/schema.ts";
import type { Cell } from "../tables/types.ts";
import { distributionMean, probabilityOf, type AnswerDistribution } from "./distribution.ts";
import { itemModel } from "./items.ts";
import { populationDistribution, siliconDistribution, type WaveInfo } from "./respondent.ts";

export interface TaskTruth {
  wave: string;
  item: string;
  /** For unordered choice items: the option whose share this row gives. */
  option?: number;
  /** `all`, or e.g. `party=Democrat` or `party=Democrat+region=South`. */
  group: string;
  /** Expected weighted mean of the population's (real) answers. */
  population: number;
  /** Expected weighted mean of the model's answers (at temperature 1). */
  silicon: number;
  /** population − silicon: the gap Δ the calibration must learn. */
  gap: number;
  /** Respondents in the group. */
  n: number;
}

export interface TruthOptions {
  /** A simulated model name, e.g. `biased` or `polarized@2`. */
  model: string;
  frame: Frame;
  wave: WaveInfo;
  items: SurveyItem[];
  /** Profile columns to group by, crossed with `+` (e.g. `party+region`); default: everyone. */
  by?: string;
}

export function expectedTaskMeans(options: TruthOptions): TaskTruth[] {
  const { frame, wave, items, model } = options;
  const columns = options.by === undefined || options.by === "" ? [] : options.by.split("+").map((c) => c.trim());
  const labelled = columns.map((c) => frame.labelled(c));
  const groupOf = (r: number): string | undefined => {
    if (columns.length === 0) return "all";
    const parts: string[] = [];
    for (const [j, column] of columns.entries()) {
      const cell: Cell = labelled[j]![r] ?? null;
      if (cell === null || String(cell).trim() === "") return undefined;
      parts.push(`${column}=${String(cell)}`);
    }
    return parts.join("+");
  };

  const rows: TaskTruth[] = [];
  for (const item of items) {
    const nominal = itemModel(item).kind === "nominal";
    const targets: (number | undefined)[] = nominal && "options" in item ? item.options.map((o) => o.code) : [undefined];
    const sums = new Map<string, { w: number; pop: number[]; sil: number[]; n: number }>();
    for (let r = 0; r < frame.size; r++) {
      const group = groupOf(r);
      if (group === undefined) continue;
      const profile = frame.profile(r);
      const pop = populationDistribution(item, profile, wave);
      const sil = siliconDistribution(model, item, profile, wave);
      const w = frame.weights[r]!;
      let sum = sums.get(group);
      if (sum === undefined) sums.set(group, (sum = { w: 0, pop: targets.map(() => 0), sil: targets.map(() => 0), n: 0 }));
      sum.w += w;
      sum.n += 1;
      targets.forEach((option, k) => {
        sum.pop[k]! += w * value(pop, option);
        sum.sil[k]! += w * value(sil, option);
      });
    }
    for (const [group, sum] of [...sums].sort(([a], [b]) => a.localeCompare(b))) {
      if (sum.w <= 0) continue;
      targets.forEach((option, k) => {
        const population = sum.pop[k]! / sum.w;
        const silicon = sum.sil[k]! / sum.w;
        rows.push({ wave: wave.id, item: item.id, ...(option !== undefined ? { option } : {}), group, population, silicon, gap: population - silicon, n: sum.n });
      });
    }
  }
  return rows;
}

/** The mean answer, or the probability of one option. */
function value(dist: AnswerDistribution, option: number | undefined): number {
  return option === undefined ? distributionMean(dist) : probabilityOf(dist, option);
}
