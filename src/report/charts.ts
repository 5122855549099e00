/**
 * The report's figures built from a kind's analysis: the forecasts of one
 * model (rows labelled by question and subgroup; a vector target's 2-D
 * panels), the held-out past results, and the models' gaps and widths.
 */
import type { TaskRow } from "../config/tasks.ts";
import type { EvaluatedTask } from "../evaluation/metrics.ts";
import { quantile } from "../evaluation/metrics.ts";
import type { IntervalRow } from "../inference/calibrate.ts";
import { gapOf } from "../inference/task-record.ts";
import type { KindAnalysis } from "../pipeline/analyze.ts";
import { gapFigure, intervalFigure, rectangleFigure, widthFigure, type IntervalPoint, type RectanglePanel } from "./figures.ts";
import { formatTick, formatWidth, shortLabel, subgroupLabel } from "./format.ts";
import { coordLabel, type ForecastRow } from "./forecasts.ts";
import { escapeXml } from "./svg.ts";
import { checkWords } from "./trust.ts";
import { kindTitle } from "./words.ts";

export function figureBlock(svg: string, caption: string): string {
  return `<figure>${svg}<figcaption>${escapeXml(caption)}</figcaption></figure>`;
}

/** The question a row is drawn under: the item, and for a vector target the coordinate. */
function questionOf(item: string, coord: string | undefined): string {
  return coord === undefined || coord === "" ? shortLabel(item) : `${shortLabel(item)}: ${coord}`;
}

function unitOf(kind: KindAnalysis): string {
  return kind.kind.range[1] - kind.kind.range[0] <= 1 ? `${kindTitle(kind)} (share)` : kindTitle(kind);
}

/** One model's forecasts of one kind as a labelled figure (and the 2-D panels for a two-value target). */
export function forecastCharts(
  kind: KindAnalysis,
  model: string,
  rows: readonly ForecastRow[],
  id: string,
  pilotItems: ReadonlySet<string>,
  meanings: Readonly<Record<string, string>> = {},
): string {
  const format = (v: number) => formatTick(v, kind.kind.range);
  const points: IntervalPoint[] = [];
  const coords = kind.kind.vector?.coords ?? [""];
  // A vector target's rows under one heading per coordinate, so co-partisans and the opposition are never on one line.
  for (const coord of coords) {
    for (const row of rows) {
      const cell = row.cells.find((c) => c.coord === coord);
      if (cell?.interval === undefined || !Number.isFinite(cell.interval.lower)) continue;
      const pilot = pilotItems.has(row.item);
      points.push({
        question: `${questionOf(row.item, coordLabel(coord, meanings))}${pilot ? " (pilot item)" : ""}`,
        label: subgroupLabel(row.subgroup),
        ...intervalPart(cell.interval),
        ...(cell.target.real_est === undefined ? {} : { truth: cell.target.real_est }),
        ...(pilot ? { pilot: true } : {}),
      });
    }
  }
  const parts: string[] = [];
  const vector = kind.kind.vector;
  if (vector !== undefined && vector.coords.length === 2) {
    const panels = rectanglePanels(kind, model);
    if (panels.length > 0) {
      const [cx, cy] = (vector.coords as [string, string]).map((c) => coordLabel(c, meanings)) as [string, string];
      parts.push(
        figureBlock(
          rectangleFigure(`${id}-rect`, `${model}: ${vector.name} among ${cx} (across) and ${cy} (up), per ${vector.by}`, panels, [cx, cy], kind.kind.range, format),
          `Each panel is one ${vector.by}: the calibrated rectangle is the range for both values at once; the naive one trusts the model's answers as if they were a real poll.` +
            (panels.some((p) => p.rectangles.some((r) => r.kind === "alternative"))
              ? ` The dashed rectangle is ${kind.alternative!.method}, the other way to build the joint range, shown for comparison.`
              : ""),
        ),
      );
    }
  }
  if (points.length > 0) {
    const truth = points.filter((p) => p.truth !== undefined).length;
    parts.push(
      figureBlock(
        intervalFigure(`${id}-target`, `${model}: forecasts, ${kindTitle(kind)}`, points, kind.kind.range, unitOf(kind), format),
        truth > 0
          ? `Forecasts beside the real values this study happens to know (${truth} of ${points.length}); ✕ marks a real value outside its calibrated range.`
          : "Forecasts; no real values are known for this wave yet.",
      ),
    );
  }
  return parts.join("\n");
}

function intervalPart(i: IntervalRow): Pick<IntervalPoint, "lower" | "upper" | "naiveLower" | "naiveUpper" | "estimate"> {
  return { lower: i.lower, upper: i.upper, naiveLower: i.naive_lower, naiveUpper: i.naive_upper, estimate: i.estimate };
}

/** The held-out past results of the check that can fail (wave by wave where it ran), in a collapsed section. */
export function heldOutChart(kind: KindAnalysis, model: string, id: string): string {
  const protocol = kind.evaluations.chrono !== undefined ? "chrono" : Object.keys(kind.evaluations)[0];
  if (protocol === undefined) return "";
  const tasks = (kind.evaluations[protocol as keyof typeof kind.evaluations]?.tasks ?? []).filter((t) => t.model === model);
  if (tasks.length === 0) return "";
  const rowOf = new Map([...kind.history, ...kind.targets].filter((r) => r.model === model).map((r) => [`${r.task}\u001f${r.coord ?? ""}`, r]));
  const points = heldOutPoints(tasks, rowOf).sort((a, b) => a.question.localeCompare(b.question));
  const words = checkWords(protocol);
  const format = (v: number) => formatTick(v, kind.kind.range);
  return (
    `<details><summary>${escapeXml(`All ${points.length} past results of ${model}, held out ${words.name}`)}</summary>` +
    figureBlock(intervalFigure(`${id}-heldout`, `${model}: past results held out ${words.name}`, points, kind.kind.range, unitOf(kind), format), `Each past result's range, made without it (${words.how}), beside its real value.`) +
    `</details>`
  );
}

function heldOutPoints(tasks: readonly EvaluatedTask[], rowOf: ReadonlyMap<string, TaskRow>): IntervalPoint[] {
  return tasks.flatMap((t) =>
    t.rows.map((r) => {
      const row = rowOf.get(`${r.task}\u001f${r.coord}`);
      const wave = t.group ?? row?.group;
      return {
        question: questionOf(row?.item ?? r.task, r.coord),
        label: `${subgroupLabel(row?.subgroup)}${wave === undefined ? "" : `, ${wave}`}`,
        ...intervalPart(r),
        truth: r.real_est,
      };
    }),
  );
}

function rectanglePanels(kind: KindAnalysis, model: string): RectanglePanel[] {
  const [cx, cy] = kind.kind.vector!.coords as [string, string];
  const byTask = (rows: readonly IntervalRow[]) => {
    const map = new Map<string, Map<string, IntervalRow>>();
    for (const r of rows.filter((r) => r.model === model)) {
      let coords = map.get(r.task);
      if (coords === undefined) map.set(r.task, (coords = new Map()));
      coords.set(r.coord, r);
    }
    return map;
  };
  const main = byTask(kind.intervals);
  const alt = byTask(kind.alternative?.intervals ?? []);
  const real = new Map(kind.targets.filter((t) => t.model === model).map((t) => [`${t.task}\u001f${t.coord ?? ""}`, t]));
  const panels: RectanglePanel[] = [];
  for (const [task, coords] of main) {
    const a = coords.get(cx);
    const b = coords.get(cy);
    if (a === undefined || b === undefined || Number.isNaN(a.lower) || Number.isNaN(b.lower)) continue;
    const rectangles: RectanglePanel["rectangles"] = [{ name: "naive", kind: "naive", x: [a.naive_lower, a.naive_upper], y: [b.naive_lower, b.naive_upper] }];
    const other = alt.get(task);
    const oa = other?.get(cx);
    const ob = other?.get(cy);
    if (oa !== undefined && ob !== undefined) rectangles.push({ name: oa.method, kind: "alternative", x: [oa.lower, oa.upper], y: [ob.lower, ob.upper] });
    rectangles.push({ name: a.method, kind: "calibrated", x: [a.lower, a.upper], y: [b.lower, b.upper] });
    const ra = real.get(`${task}\u001f${cx}`);
    const rb = real.get(`${task}\u001f${cy}`);
    panels.push({
      label: subgroupLabel(ra?.subgroup ?? task),
      rectangles,
      estimate: [ra?.syn_est ?? (a.naive_lower + a.naive_upper) / 2, rb?.syn_est ?? (b.naive_lower + b.naive_upper) / 2],
      ...(ra?.real_est !== undefined && rb?.real_est !== undefined ? { truth: [ra.real_est, rb.real_est] as [number, number] } : {}),
    });
  }
  return panels;
}

/** Each model's past gaps (bias and spread) and calibrated width, for one kind. */
export function comparisonCharts(kind: KindAnalysis, k: number): string {
  const models = [...new Set(kind.history.map((r) => r.model))];
  const unit = unitOf(kind);
  const gaps = models.map((model) => {
    const values = kind.history.filter((r) => r.model === model).map(gapOf).filter(Number.isFinite);
    return { model, gaps: values, q05: quantile(values, 0.05), q25: quantile(values, 0.25), q50: quantile(values, 0.5), q75: quantile(values, 0.75), q95: quantile(values, 0.95) };
  });
  const parts = [
    figureBlock(
      gapFigure(`cmp${k}-gaps`, `How far each model's answers landed from the real ones: ${kindTitle(kind)}`, gaps, unit),
      "Gap = real minus model, one dot per past result. A model centred on 0 has no bias on average; a narrow spread means its errors are predictable, which makes its ranges narrow.",
    ),
  ];
  const loo = kind.evaluations.loo?.report.by_model;
  if (loo !== undefined) {
    const widths = models.filter((m) => loo[m] !== undefined).map((model) => ({ model, calibrated: loo[model]!.median_width, naive: loo[model]!.naive_median_width }));
    if (widths.length > 0) {
      const best = [...widths].sort((a, b) => a.calibrated - b.calibrated)[0]!;
      parts.push(
        figureBlock(
          widthFigure(`cmp${k}-widths`, `Typical width of each model's ranges: ${kindTitle(kind)}`, widths, unit),
          `Median width of the ranges over the past results held out one at a time. Narrower calibrated ranges at the same promise make a model more useful: here ${best.model} (${formatWidth(best.calibrated, kind.kind.range)}).`,
        ),
      );
    }
  }
  return parts.join("\n");
}
