/**
 * The tasks table of a study: its waves' frames as one survey design (a wave
 * per design, historical waves → role history, target waves → role target
 * with their real answers, if any, kept only for scoring), the synthetic
 * answers (from the store), and the study's `estimands` section: items with
 * their subgroups (frame or derived columns) and vector targets. The same
 * `estimateTasks` as `silicon estimate --real --synthetic` does the work, so
 * both give identical rows for the same answers.
 */
import type { LoadedStudy } from "../config/load.ts";
import type { TaskRow } from "../config/tasks.ts";
import type { SyntheticAnswers } from "./answers.ts";
import { surveyDesign, type SurveyDesign } from "./design.ts";
import { specName, subgroupLabel, type SubgroupSpec } from "./domains.ts";
import { estimateTasks, type EstimateResult, type ItemEstimand } from "./estimate.ts";

/** The study's respondents, all waves, with every subgroup column its estimands use. */
export function studyDesign(study: LoadedStudy): SurveyDesign {
  const { analysis } = study;
  const columns = new Set<string>();
  for (const plan of analysis.items) for (const spec of plan.by) for (const c of spec.columns) columns.add(c);
  for (const v of analysis.vectors) {
    columns.add(v.target.coordinate);
    for (const c of v.by.columns) columns.add(c);
  }
  const id: string[] = [];
  const weight: number[] = [];
  const wave: string[] = [];
  const attributes: Record<string, (string | null)[]> = Object.fromEntries([...columns].map((c) => [c, []]));
  const answers: Record<string, number[]> = Object.fromEntries(study.survey.items.map((item) => [item.id, []]));
  study.waves.forEach(({ wave: w, frame }, k) => {
    const derived = analysis.derived[k]!;
    for (let r = 0; r < frame.size; r++) {
      id.push(frame.ids[r]!);
      weight.push(frame.weights[r]!);
      wave.push(w.id);
    }
    for (const column of columns) {
      const values = derived[column] ?? frame.labelled(column).map((cell) => (cell === null || String(cell).trim() === "" ? null : String(cell)));
      attributes[column]!.push(...values);
    }
    for (const item of study.survey.items) answers[item.id]!.push(...frame.answers(item));
  });
  const optionLabels: Record<string, Map<number, string>> = {};
  for (const item of study.survey.items) {
    if ("options" in item) optionLabels[item.id] = new Map(item.options.map((o) => [o.code, o.label]));
  }
  return surveyDesign({
    source: study.file,
    id,
    weight,
    wave,
    attributes,
    levels: { wave: study.waves.map((w) => w.wave.id) },
    answers,
    optionLabels,
  });
}

/** Target waves of the study, in study order. */
export function targetWaves(study: LoadedStudy): string[] {
  return study.waves.filter((w) => w.wave.role === "target").map((w) => w.wave.id);
}

/**
 * Every task of the study: items (grouped by their subgroup specs, so that
 * items sharing them are one `estimateTasks` call), then vector targets.
 */
export function studyTasks(study: LoadedStudy, answers: SyntheticAnswers, design: SurveyDesign = studyDesign(study)): EstimateResult {
  const targetWave = targetWaves(study);
  const pilot = new Set(study.study.calibration.pilot.flatMap((set) => set.items));
  const groups = new Map<string, { by: SubgroupSpec[]; items: ItemEstimand[]; pilot: boolean }>();
  for (const plan of study.analysis.items) {
    // Pilot items have no real answers in historical waves by design: their own call, without that warning.
    const isPilot = pilot.has(plan.item.id);
    const key = `${isPilot}|${plan.by.map(specName).join(",")}`;
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { by: plan.by, items: [], pilot: isPilot }));
    // Options as `silicon estimate --per-option` takes them (every answer seen, in code order), so both agree.
    group.items.push({ item: plan.item.id, ...(plan.perOption ? { perOption: true } : {}) });
  }
  const itemOrder = new Map(study.analysis.items.map((p, i) => [p.item.id, i]));
  const list = [...groups.values()];
  const results = list.map((g) => estimateTasks(design, answers, { items: g.items, by: g.by, targetWave }));
  const warnings = results.flatMap((r, i) => (list[i]!.pilot ? r.warnings.filter((w) => !w.includes("history tasks with no real answer")) : r.warnings));
  let tasks = results.flatMap((r) => r.tasks);
  if (results.length > 1) {
    const models = results[0]!.models;
    const waveOrder = new Map(study.waves.map((w, i) => [w.wave.id, i]));
    const key = (row: TaskRow) => [models.indexOf(row.model), waveOrder.get(row.group ?? "") ?? 0, itemOrder.get(row.item ?? "") ?? 0];
    tasks = tasks
      .map((row, i) => ({ row, i, k: key(row) }))
      .sort((a, b) => a.k[0]! - b.k[0]! || a.k[1]! - b.k[1]! || a.k[2]! - b.k[2]! || a.i - b.i)
      .map((x) => x.row);
  }
  for (const vector of study.analysis.vectors) {
    const result = vectorTasks(design, answers, vector, targetWave);
    tasks.push(...result.tasks);
    warnings.push(...result.warnings);
  }
  // Each row's kind (the pool src/pipeline/kinds.ts calibrates it in), so a tasks table
  // read back by calibrate/evaluate/compare --tasks never pools thermometers with shares.
  const scaleOf = new Map(study.analysis.items.map((p) => [p.item.id, p.scale.key]));
  tasks = tasks.map((row) => {
    const vector = row.extra["vector"];
    const kind = vector !== undefined && vector !== "" ? `vector:${vector}` : scaleOf.get(row.item ?? "");
    return kind === undefined ? row : { ...row, extra: { ...row.extra, kind } };
  });
  const first = results[0];
  return {
    tasks,
    warnings,
    unmatched: first?.unmatched ?? { entries: 0, distinct: 0, examples: [] },
    models: first?.models ?? [],
    waves: design.waves,
  };
}

/**
 * A vector target's rows: domain estimates of (by columns × coordinate
 * column), reshaped so that the coordinate levels are the coordinates of one
 * task per (model, wave, by level). A task missing a coordinate (no
 * respondent of that level in its group) is left out with a warning, since
 * joint calibration needs every coordinate.
 */
export function vectorTasks(
  design: SurveyDesign,
  answers: SyntheticAnswers,
  vector: LoadedStudy["analysis"]["vectors"][number],
  targetWave: readonly string[],
): { tasks: TaskRow[]; warnings: string[] } {
  const { target, by } = vector;
  const estimand: ItemEstimand = target.option === undefined ? { item: target.item } : { item: target.item, perOption: true, options: [target.option] };
  const spec: SubgroupSpec = { columns: [...by.columns, target.coordinate] };
  const result = estimateTasks(design, answers, { items: [estimand], by: [spec], targetWave });
  const byName = specName(by);
  const groups = new Map<string, Map<string, TaskRow>>();
  const order: string[] = [];
  for (const row of result.tasks) {
    const level = row.extra[target.coordinate] ?? "";
    if (!target.levels.includes(level)) continue;
    const values = by.columns.map((c) => row.extra[c] ?? "");
    const subgroup = subgroupLabel(by, { wave: 0, values });
    const task = `${target.name}|${subgroup}${row.group === undefined ? "" : `@${row.group}`}`;
    const key = `${row.model}\u001f${task}`;
    let coords = groups.get(key);
    if (coords === undefined) {
      groups.set(key, (coords = new Map()));
      order.push(key);
    }
    const extra: Record<string, string> = { by: byName, vector: target.name };
    for (const [j, c] of by.columns.entries()) extra[c] = values[j]!;
    const { extra: _, ...rest } = row;
    coords.set(level, { ...rest, task, coord: level, subgroup, extra });
  }
  const tasks: TaskRow[] = [];
  const incomplete: string[] = [];
  for (const key of order) {
    const coords = groups.get(key)!;
    if (target.levels.every((level) => coords.has(level))) tasks.push(...target.levels.map((level) => coords.get(level)!));
    else incomplete.push(key.split("\u001f")[1]!);
  }
  const warnings = [...result.warnings];
  if (incomplete.length > 0) {
    const unique = [...new Set(incomplete)];
    warnings.push(
      `vector target "${target.name}": left out ${unique.length} task(s) missing a coordinate (${target.levels.join(", ")}) in their group: ${unique.slice(0, 3).join(", ")}${unique.length > 3 ? ", …" : ""}`,
    );
  }
  return { tasks, warnings };
}
