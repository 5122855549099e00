/**
 * Kinds of task: the pools a study's tasks are calibrated in. Scalar tasks
 * pool by scale (thermometer ratings with thermometer ratings, proportions
 * with proportions: a gap in points says nothing about a gap in shares);
 * each vector target is a kind of its own (its coordinates are calibrated
 * jointly). Within a kind, `calibration.strata` cuts further.
 */
import type { LoadedStudy } from "../config/load.ts";
import type { TaskRow } from "../config/tasks.ts";

export interface TaskKind {
  /** `thermometer`, `proportion`, `likert 1-5`, `vector:approval`, … */
  key: string;
  /** For people: "thermometer ratings (0–100)". */
  label: string;
  range: [number, number];
  /** Set for a vector target: its name and coordinates. */
  vector?: { name: string; coords: string[]; coordinate: string; by: string };
  /** Items whose tasks are of this kind, in survey order. */
  items: string[];
}

export interface KindRows {
  kind: TaskKind;
  /** The kind's rows, each a copy carrying `item_type` (usable as a stratum). */
  rows: TaskRow[];
}

/** Partitions tasks into kinds, in order of first appearance; rows of unknown items are an internal error. */
export function partitionByKind(study: LoadedStudy, tasks: readonly TaskRow[]): KindRows[] {
  const plans = new Map(study.analysis.items.map((p) => [p.item.id, p]));
  const vectors = new Map(study.analysis.vectors.map((v) => [v.target.name, v]));
  const types = new Map(study.survey.items.map((item) => [item.id, item.type]));
  const out = new Map<string, KindRows>();
  for (const row of tasks) {
    const vectorName = row.extra["vector"];
    let kind: TaskKind;
    if (vectorName !== undefined && vectors.has(vectorName)) {
      const v = vectors.get(vectorName)!;
      const scale = v.target.option !== undefined || v.item.type === "binary" ? [0, 1] : itemRange(v.item);
      kind = {
        key: `vector:${vectorName}`,
        label: `${vectorName}: ${v.target.levels.join(" × ")} by ${v.target.by}`,
        range: scale as [number, number],
        vector: { name: vectorName, coords: [...v.target.levels], coordinate: v.target.coordinate, by: v.target.by },
        items: [v.item.id],
      };
    } else {
      const plan = plans.get(row.item ?? "");
      if (plan === undefined) throw new Error(`task ${row.task} has item ${row.item ?? "(none)"}, which the study does not estimate`);
      kind = { key: plan.scale.key, label: plan.scale.label, range: plan.scale.range, items: [] };
    }
    let entry = out.get(kind.key);
    if (entry === undefined) out.set(kind.key, (entry = { kind, rows: [] }));
    if (row.item !== undefined && !entry.kind.items.includes(row.item)) entry.kind.items.push(row.item);
    entry.rows.push({ ...row, extra: { ...row.extra, item_type: types.get(row.item ?? "") ?? "" } });
  }
  return [...out.values()];
}

function itemRange(item: LoadedStudy["survey"]["items"][number]): [number, number] {
  if (item.type === "thermometer" || item.type === "numeric") return [item.min, item.max];
  if ("options" in item) {
    const codes = item.options.map((o) => o.code);
    return [Math.min(...codes), Math.max(...codes)];
  }
  return [0, 1];
}
