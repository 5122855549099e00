/**
 * Checks a study's `estimands` and `calibration` sections against its survey
 * and frames when the study loads, so that a typo stops every command before
 * a call is paid for: items that exist, subgroup columns that every wave's
 * frame has (or derives), derived expressions that parse and evaluate,
 * vector levels that occur, strata that name task columns, pilot sets on one
 * scale. Every problem is one InputError naming the study file, line and field.
 */
import { InputError, UsageError, type InputLocation } from "../errors.ts";
import { parseSubgroupSpecs, specName, type SubgroupSpec } from "../estimands/domains.ts";
import type { Calibration, Estimands, VectorTarget } from "./analysis-schema.ts";
import { deriveColumns, type SubgroupValues } from "./derived.ts";
import type { Frame } from "./frame.ts";
import { itemScale, perOptionByDefault, type Scale } from "./scale.ts";
import type { Survey, SurveyItem, Wave } from "./schema.ts";
import type { YamlPath } from "./yaml.ts";

/** One item to estimate, resolved. */
export interface ItemPlan {
  item: SurveyItem;
  perOption: boolean;
  by: SubgroupSpec[];
  scale: Scale;
}

export interface VectorPlan {
  target: VectorTarget;
  item: SurveyItem;
  by: SubgroupSpec;
}

export interface AnalysisPlan {
  items: ItemPlan[];
  vectors: VectorPlan[];
  /** Per wave (study order): the derived columns' values, one per respondent. */
  derived: Record<string, SubgroupValues>[];
}

/** Task-table columns every study's tasks have, usable as strata or split. */
export const TASK_ATTRIBUTES = ["task", "item", "item_type", "subgroup", "by", "coord", "group"] as const;

function taskColumnSet(specs: readonly SubgroupSpec[]): Set<string> {
  return new Set<string>([...TASK_ATTRIBUTES, ...specs.flatMap((s) => s.columns)]);
}

/** The columns a study's tasks have (usable as strata or split): the fixed ones and every subgroup column. */
export function taskColumns(plan: AnalysisPlan): string[] {
  return [...taskColumnSet([...plan.items.flatMap((p) => p.by), ...plan.vectors.map((v) => v.by)])];
}

export function checkAnalysis(
  where: (path: YamlPath) => InputLocation,
  estimands: Estimands,
  calibration: Calibration,
  survey: Survey,
  waves: readonly { wave: Wave; frame: Frame }[],
): AnalysisPlan {
  const derived = waves.map(({ wave, frame }) => deriveColumns(frame, wave, estimands.derived, (name) => where(["estimands", "derived", name])));
  const items = new Map(survey.items.map((item) => [item.id, item]));
  const findItem = (id: string, path: YamlPath): SurveyItem => {
    const item = items.get(id);
    if (item === undefined) throw new InputError(where(path), `unknown item "${id}": the survey's items are ${survey.items.map((i) => i.id).join(", ")}`);
    return item;
  };
  const checkColumn = (column: string, path: YamlPath, what: string) => {
    waves.forEach(({ wave, frame }, w) => {
      if (frame.columnNames.includes(column) || Object.hasOwn(derived[w]!, column)) return;
      const names = Object.keys(estimands.derived);
      throw new InputError(
        where(path),
        `${what} "${column}" is not a column of ${frame.source} (wave "${wave.id}") nor a derived column${names.length > 0 ? ` (${names.join(", ")})` : ""}; the frame has: ${frame.columnNames.join(", ")}`,
      );
    });
  };
  const specs = (texts: readonly string[], path: YamlPath): SubgroupSpec[] =>
    texts.flatMap((text, i) => {
      const parsed = parseSpec(text, [...path, i], where);
      for (const spec of parsed) for (const column of spec.columns) checkColumn(column, [...path, i], "subgroup column");
      return parsed;
    });

  const globalBy = specs(estimands.by, ["estimands", "by"]);
  const vectors = estimands.vectors.map((target, v) => checkVector(target, ["estimands", "vectors", v], findItem, checkColumn, where, waves, derived));
  const vectorNames = new Set<string>();
  vectors.forEach(({ target }, v) => {
    if (vectorNames.has(target.name)) throw new InputError(where(["estimands", "vectors", v, "name"]), `vector target "${target.name}" is named twice`);
    if (items.has(target.name)) throw new InputError(where(["estimands", "vectors", v, "name"]), `vector target "${target.name}" has the name of an item: rename it`);
    vectorNames.add(target.name);
  });

  const vectorItems = new Set(vectors.map((v) => v.item.id));
  const listed = estimands.items ?? survey.items.filter((item) => !vectorItems.has(item.id)).map((item) => item.id);
  const seen = new Set<string>();
  const itemPlans = listed.map((spec, i): ItemPlan => {
    const path: YamlPath = ["estimands", "items", i];
    const id = typeof spec === "string" ? spec : spec.item;
    const item = findItem(id, typeof spec === "string" ? path : [...path, "item"]);
    if (seen.has(id)) throw new InputError(where(path), `item "${id}" is listed twice`);
    seen.add(id);
    const perOption = typeof spec === "string" || spec.per_option === undefined ? perOptionByDefault(item) : spec.per_option;
    if (perOption && !("options" in item)) {
      throw new InputError(where([...path, "per_option"]), `item "${id}" is a ${item.type} item: per_option needs answer options (binary, single_choice or likert)`);
    }
    if (!perOption && perOptionByDefault(item)) {
      throw new InputError(where([...path, "per_option"]), `item "${id}" is an unordered single choice: the mean of its codes means nothing; estimate it per option (per_option: true) or mark it ordered: true in the survey`);
    }
    const by = typeof spec !== "string" && spec.by !== undefined ? specs(spec.by, [...path, "by"]) : globalBy;
    return { item, perOption, by, scale: itemScale(item, perOption) };
  });

  checkCalibration(where, calibration, itemPlans, [...globalBy, ...itemPlans.flatMap((p) => p.by), ...vectors.map((v) => v.by)], findItem);
  return { items: itemPlans, vectors, derived };
}

function parseSpec(text: string, path: YamlPath, where: (path: YamlPath) => InputLocation): SubgroupSpec[] {
  try {
    return parseSubgroupSpecs(text);
  } catch (error) {
    if (error instanceof UsageError) throw new InputError(where(path), error.message.replace(/^--by: /, ""), { cause: error });
    throw error;
  }
}

function checkVector(
  target: VectorTarget,
  path: YamlPath,
  findItem: (id: string, path: YamlPath) => SurveyItem,
  checkColumn: (column: string, path: YamlPath, what: string) => void,
  where: (path: YamlPath) => InputLocation,
  waves: readonly { wave: Wave; frame: Frame }[],
  derived: readonly Record<string, SubgroupValues>[],
): VectorPlan {
  const item = findItem(target.item, [...path, "item"]);
  if (target.option !== undefined) {
    if (!("options" in item) || !item.options.some((o) => o.code === target.option)) {
      const codes = "options" in item ? item.options.map((o) => o.code).join(", ") : "none (not a choice item)";
      throw new InputError(where([...path, "option"]), `item "${item.id}" has no option coded ${target.option}; its codes: ${codes}`);
    }
  } else if (perOptionByDefault(item)) {
    throw new InputError(where([...path, "option"]), `item "${item.id}" is an unordered single choice: name the option whose share each coordinate is (option: <code>)`);
  }
  checkColumn(target.coordinate, [...path, "coordinate"], "coordinate column");
  const [by] = parseSpec(target.by, [...path, "by"], where);
  if (by === undefined || target.by.includes(",")) throw new InputError(where([...path, "by"]), `expected one subgroup spec (e.g. region or region+education), got ${JSON.stringify(target.by)}`);
  for (const column of by.columns) {
    checkColumn(column, [...path, "by"], "subgroup column");
    if (column === target.coordinate) throw new InputError(where([...path, "by"]), `"${column}" is the coordinate column; a task's grouping must be another column`);
  }
  const present = new Set<string>();
  waves.forEach(({ frame }, w) => {
    const values = derived[w]![target.coordinate] ?? frame.labelled(target.coordinate).map((c) => (c === null ? null : String(c)));
    for (const value of values) if (value !== null) present.add(value);
  });
  if (new Set(target.levels).size !== target.levels.length) throw new InputError(where([...path, "levels"]), "a level is listed twice");
  target.levels.forEach((level, k) => {
    if (!present.has(level)) {
      throw new InputError(
        where([...path, "levels", k]),
        `level "${level}" of "${target.coordinate}" occurs in no wave; its values are: ${[...present].sort().join(", ")}`,
      );
    }
  });
  return { target, item, by };
}

function checkCalibration(
  where: (path: YamlPath) => InputLocation,
  calibration: Calibration,
  items: readonly ItemPlan[],
  specs: readonly SubgroupSpec[],
  findItem: (id: string, path: YamlPath) => SurveyItem,
): void {
  const columns = taskColumnSet(specs);
  const describe = () => [...columns].join(", ");
  (calibration.strata ?? []).forEach((column, i) => {
    if (!columns.has(column)) throw new InputError(where(["calibration", "strata", i]), `unknown task column "${column}": strata may be ${describe()}`);
  });
  if (typeof calibration.adjust === "object") {
    const split = calibration.adjust.split_by;
    if (split !== undefined && !columns.has(split)) throw new InputError(where(["calibration", "adjust", "split_by"]), `unknown task column "${split}": expected one of ${describe()}`);
  }
  if (calibration.method === "alg2" && calibration.decay === undefined) {
    throw new InputError(where(["calibration", "method"]), "alg2 weighs historical tasks: set calibration.decay (γ in (0, 1]; each task weighs γ^age in waves)");
  }
  if (calibration.method !== "alg2" && calibration.decay !== undefined) {
    throw new InputError(where(["calibration", "decay"]), `decay weights tasks for alg2 only; the method is ${calibration.method}`);
  }
  const plans = new Map(items.map((p) => [p.item.id, p]));
  const pilotItems = new Set<string>();
  calibration.pilot.forEach((set, s) => {
    const path: YamlPath = ["calibration", "pilot", s];
    const scaleOf = (id: string, p: YamlPath) => {
      findItem(id, p);
      const plan = plans.get(id);
      if (plan === undefined) throw new InputError(where(p), `item "${id}" is not estimated (estimands.items): a pilot set works on the items' tasks`);
      return plan.scale;
    };
    const scales = set.items.map((id, i) => {
      if (pilotItems.has(id)) throw new InputError(where([...path, "items", i]), `item "${id}" is in two pilot sets`);
      pilotItems.add(id);
      return scaleOf(id, [...path, "items", i]);
    });
    set.like.forEach((id, i) => {
      if (set.items.includes(id)) throw new InputError(where([...path, "like", i]), `item "${id}" is both a pilot item and one it is like`);
      const scale = scaleOf(id, [...path, "like", i]);
      if (scale.key !== scales[0]!.key) {
        throw new InputError(
          where([...path, "like", i]),
          `item "${id}" is on another scale (${scale.label}) than the pilot items (${scales[0]!.label}): their gaps are not exchangeable`,
        );
      }
    });
    scales.forEach((scale, i) => {
      if (scale.key !== scales[0]!.key) throw new InputError(where([...path, "items", i]), `pilot items of one set must share a scale: ${scale.label} vs ${scales[0]!.label}`);
    });
  });
  calibration.pilot.forEach((set, s) =>
    set.like.forEach((id, i) => {
      if (pilotItems.has(id)) throw new InputError(where(["calibration", "pilot", s, "like", i]), `item "${id}" is a pilot item (no history): it cannot be one the others are like`);
    }),
  );
}

export { specName };
