/**
 * report.html: one self-contained page (inline CSS and SVG; no script, no
 * network) showing a study's results: coverage and width, per task the
 * naive and calibrated intervals against the truth, the 2-D panels of vector
 * targets, the models side by side, and the settings and data provenance.
 */
import type { Evaluation, Protocol } from "../evaluation/evaluate.ts";
import { quantile, type CoverageSummary, type EvaluatedTask } from "../evaluation/metrics.ts";
import type { IntervalRow } from "../inference/calibrate.ts";
import { gapOf } from "../inference/task-record.ts";
import type { KindAnalysis, MethodResults, StudyAnalysis } from "../pipeline/analyze.ts";
import { describeSettings } from "../pipeline/settings.ts";
import { gapFigure, intervalFigure, rectangleFigure, widthFigure, type IntervalPoint, type RectanglePanel } from "./figures.ts";
import { escapeXml } from "./svg.ts";

export interface WaveProvenance {
  id: string;
  role: string;
  date?: string;
  frame: string;
  respondents: number;
  /** Items with real answers in the frame. */
  realItems: number;
}

export interface ReportInput {
  study: {
    name: string;
    description?: string;
    file: string;
    survey: string;
    persona: string;
    models: string[];
    generations: number;
    temperature: number;
    seed: number;
    elicitation: string;
    waves: WaveProvenance[];
  };
  analysis: StudyAnalysis;
  tasks: { rows: number; history: number; target: number; warnings: string[] };
  provenance: { generatedAt: string; version: string; command: string; store?: string; answers?: number; costUsd?: number };
  /** Files written beside the report, for links. */
  files: { name: string; what: string }[];
}

const PROTOCOL_LABEL: Record<Protocol | "target", string> = {
  loo: "leave-one-out (history)",
  chrono: "chronological (by wave)",
  group: "leave-one-group-out",
  target: "target wave vs its real answers",
};

export function renderReport(input: ReportInput): string {
  const { study, analysis } = input;
  const sections = [
    headerSection(input),
    // At the top, before any number: what the numbers assume (pilot mode) and what could not run.
    analysis.warnings.length > 0 ? `<section class="warnings"><h2>Read this first</h2><ul>${analysis.warnings.map((w) => `<li>${escapeXml(w)}</li>`).join("")}</ul></section>` : "",
    summarySection(analysis),
    ...analysis.kinds.map((kind, k) => kindSection(kind, k)),
    comparisonSection(analysis),
    provenanceSection(input),
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(`silicon report: ${study.name}`)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${sections.join("\n")}
</main>
</body>
</html>
`;
}

function headerSection(input: ReportInput): string {
  const { study, tasks } = input;
  const waves = study.waves.map((w) => `${w.id} (${w.role})`).join(", ");
  return `<header>
<h1>${escapeXml(study.name)}: silicon samples, calibrated</h1>
${study.description === undefined ? "" : `<p class="lede">${escapeXml(study.description)}</p>`}
<p>${study.models.length} model${study.models.length === 1 ? "" : "s"} (${escapeXml(study.models.join(", "))}) answered the survey for every respondent of ${study.waves.length} wave${study.waves.length === 1 ? "" : "s"} (${escapeXml(waves)}), ${study.generations} time${study.generations === 1 ? "" : "s"} each. The tasks table has ${tasks.rows} rows (${tasks.history} history, ${tasks.target} target). ${escapeXml(describeSettings(input.analysis.settings))}.</p>
<p class="how">How to read it: a <span class="key calibrated-key">calibrated</span> interval widens and re-centres the synthetic estimate by how far synthetic estimates landed from real ones on the historical tasks; the <span class="key naive-key">naive</span> interval treats the synthetic sample as if it were real. Coverage is the share of held-out tasks whose real estimate lies inside the interval; the calibrated one should reach 1 − α = ${fmt(1 - input.analysis.settings.alpha)}.</p>
</header>`;
}

function summarySection(analysis: StudyAnalysis): string {
  const rows: string[] = [];
  for (const kind of analysis.kinds) {
    for (const [label, results] of methodsOf(kind)) {
      for (const [protocol, byModel] of protocolSummaries(results)) {
        for (const [model, s] of Object.entries(byModel)) {
          if (s.tasks === 0) continue;
          rows.push(
            `<tr><td>${escapeXml(kind.kind.label)}</td><td>${escapeXml(label)}</td><td>${escapeXml(PROTOCOL_LABEL[protocol])}</td><td>${escapeXml(model)}</td>` +
              `<td class="num">${s.tasks}</td><td class="num ${coverageClass(s.coverage, analysis.settings.alpha)}">${fixed(s.coverage)}</td><td class="num">${fixed(s.naive_coverage)}</td>` +
              `<td class="num">${fmt(s.median_width)}</td><td class="num">${fmt(s.naive_median_width)}</td></tr>`,
          );
        }
      }
    }
  }
  return `<section><h2>Coverage and width</h2>
<p>Held-out tasks, per kind of task, method, protocol and model. Widths are in the scale's units.</p>
<table><thead><tr><th>kind</th><th>method</th><th>held out</th><th>model</th><th>tasks</th><th>coverage</th><th>naive coverage</th><th>median width</th><th>naive median width</th></tr></thead>
<tbody>${rows.join("") || `<tr><td colspan="9">No evaluation could run (see the notes above).</td></tr>`}</tbody></table></section>`;
}

function methodsOf(kind: KindAnalysis): [string, MethodResults][] {
  const out: [string, MethodResults][] = [[kind.method, kind]];
  if (kind.alternative !== undefined) out.push([`${kind.alternative.method} (alternative)`, kind.alternative]);
  return out;
}

function protocolSummaries(results: MethodResults): [Protocol | "target", Record<string, CoverageSummary>][] {
  const out: [Protocol | "target", Record<string, CoverageSummary>][] = [];
  for (const [protocol, evaluation] of Object.entries(results.evaluations) as [Protocol, Evaluation][]) out.push([protocol, evaluation.report.by_model]);
  if (Object.keys(results.target).length > 0) out.push(["target", results.target]);
  return out;
}

function kindSection(kind: KindAnalysis, k: number): string {
  const parts: string[] = [`<section><h2>${escapeXml(kind.kind.label)}</h2>`];
  parts.push(`<p>${kind.history.length} historical and ${kind.targets.length} target task rows (items: ${escapeXml(kind.kind.items.join(", "))}); calibrated with ${escapeXml(kind.method)}${kind.alternative !== undefined && kind.alternative.intervals.length > 0 ? `, ${escapeXml(kind.alternative.method)} (the other rectangle) beside it` : ""}, clipped to [${kind.kind.range[0]}, ${kind.kind.range[1]}].</p>`);
  for (const problem of kind.problems) parts.push(`<p class="problem">${escapeXml(problem)}</p>`);
  // The other rectangle is for comparison only: why it is missing (all or some models) is said here, not as a warning.
  // One line per model and step would crowd the section: folded, with the count.
  const alternativeProblems = kind.alternative?.problems ?? [];
  if (alternativeProblems.length > 0) {
    const method = escapeXml(kind.alternative!.method);
    const count = `${alternativeProblems.length} ${alternativeProblems.length === 1 ? "step" : "steps"}`;
    parts.push(
      `<details class="note"><summary>${method}, the other rectangle, shown for comparison: too little history for α in ${count}</summary>` +
        alternativeProblems.map((problem) => `<p>${method}: ${escapeXml(problem)}</p>`).join("") +
        `</details>`,
    );
  }
  for (const pilot of kind.pilot) parts.push(pilotCheck(pilot, alphaOf(kind)));
  parts.push(byWaveTable(kind, alphaOf(kind)));
  const models = [...new Set([...kind.history, ...kind.targets].map((r) => r.model))];
  const unit = kind.kind.label;
  const what = kind.kind.vector === undefined ? "tasks" : "task coordinates";
  models.forEach((model, m) => {
    const safe = `k${k}m${m}`;
    parts.push(`<h3>${escapeXml(model)}</h3>`);
    const targets = kind.intervals.filter((i) => i.model === model);
    if (kind.kind.vector !== undefined && kind.kind.vector.coords.length === 2 && targets.length > 0) {
      parts.push(figureBlock(rectanglePanels(kind, model, `${safe}-rect`), `Target tasks of ${model}: the joint region for (${kind.kind.vector.coords.join(", ")}) per task.`));
    }
    if (targets.length > 0) {
      const points = targetPoints(kind, targets);
      const truth = points.filter((p) => p.truth !== undefined).length;
      parts.push(
        figureBlock(
          intervalFigure(`${safe}-target`, `${model}: target tasks (${kind.method})`, points, kind.kind.range, unit, what),
          truth > 0 ? `The target wave's intervals against its real estimates (${truth} of ${points.length} known).` : `The target wave's intervals (no real answers to compare with).`,
        ),
      );
    }
    const loo = kind.evaluations.loo?.tasks.filter((t) => t.model === model) ?? [];
    if (loo.length > 0) {
      parts.push(figureBlock(intervalFigure(`${safe}-loo`, `${model}: historical tasks held out one at a time (${kind.method})`, heldOutPoints(loo), kind.kind.range, unit, what), "Each historical task calibrated on all the others, against its real estimate."));
    }
  });
  parts.push("</section>");
  return parts.join("\n");
}

/** The check pilot mode rests on: held-out coverage on the items the pilot items are said to be like. */
function pilotCheck(pilot: KindAnalysis["pilot"][number], alpha: number): string {
  const rows = (Object.entries(pilot.evaluations) as [Protocol, Record<string, CoverageSummary>][]).flatMap(([protocol, byModel]) =>
    Object.entries(byModel)
      .filter(([, s]) => s.tasks > 0)
      .map(
        ([model, s]) =>
          `<tr><td>${escapeXml(PROTOCOL_LABEL[protocol])}</td><td>${escapeXml(model)}</td><td class="num">${s.tasks}</td><td class="num ${coverageClass(s.coverage, alpha)}">${fixed(s.coverage)}</td><td class="num">${fixed(s.naive_coverage)}</td><td class="num">${fmt(s.median_width)}</td></tr>`,
      ),
  );
  const items = pilot.items.join(", ");
  if (rows.length === 0) return `<p class="problem">Pilot items ${escapeXml(items)}: no held-out check on the items they are like could run.</p>`;
  return `<h3>Pilot items ${escapeXml(items)}: the check on the items they are like</h3>
<p>The pilot intervals are calibrated on the gaps of ${escapeXml(pilot.like.join(", "))}. Held out in turn, those items' historical tasks show whether the method works on them; whether the new items err like them no data can show until they are fielded.</p>
<table><thead><tr><th>held out</th><th>model</th><th>tasks</th><th>coverage</th><th>naive coverage</th><th>median width</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function alphaOf(kind: KindAnalysis): number {
  return kind.options.alpha;
}

/**
 * The chronological evaluation wave by wave (evaluation.json's by_group):
 * how much earlier history each wave was calibrated on, what was predicted
 * or skipped, and coverage beside the naive interval's. Tasks of one wave
 * share its shock, so coverage varies between waves more than binomial error.
 */
function byWaveTable(kind: KindAnalysis, alpha: number): string {
  const chrono = kind.evaluations.chrono;
  if (chrono === undefined) return "";
  const rows: string[] = [];
  for (const [model, summary] of Object.entries(chrono.report.by_model)) {
    for (const [group, g] of Object.entries(summary.by_group ?? {})) {
      const scored = g.tasks > 0;
      rows.push(
        `<tr><td>${escapeXml(model)}</td><td>${escapeXml(group)}</td><td class="num">${g.history}</td><td class="num">${g.tasks}</td><td class="num">${g.skipped}</td>` +
          `<td class="num ${scored ? coverageClass(g.coverage, alpha) : ""}">${scored ? fixed(g.coverage) : ""}</td><td class="num">${scored ? fmt(g.median_width) : ""}</td><td class="num">${scored ? fixed(g.naive_coverage) : ""}</td></tr>`,
      );
    }
  }
  if (rows.length === 0) return "";
  return `<h3>By wave (chronological, ${escapeXml(kind.method)})</h3>
<p>Each wave calibrated on all earlier ones only. History, tasks and skipped count tasks; tasks of one wave share its shock, so coverage varies between waves more than binomial error suggests.</p>
<table class="by-wave"><thead><tr><th>model</th><th>wave</th><th>history</th><th>tasks</th><th>skipped</th><th>coverage</th><th>median width</th><th>naive coverage</th></tr></thead>
<tbody>${rows.join("")}</tbody></table>`;
}

function targetPoints(kind: KindAnalysis, intervals: readonly IntervalRow[]): IntervalPoint[] {
  const rowOf = new Map(kind.targets.map((t) => [`${t.model}\u001f${t.task}\u001f${t.coord ?? ""}`, t]));
  const pilotItems = new Set(kind.pilot.flatMap((p) => p.items));
  return intervals
    .filter((i) => !Number.isNaN(i.lower))
    .map((i) => {
      const row = rowOf.get(`${i.model}\u001f${i.task}\u001f${i.coord}`);
      const truth = row?.real_est;
      const pilot = pilotItems.has(row?.item ?? "");
      return {
        label: `${i.coord === "" ? i.task : `${i.task} [${i.coord}]`}${pilot ? " (pilot item, calibrated on the items it is like)" : ""}`,
        lower: i.lower,
        upper: i.upper,
        naiveLower: i.naive_lower,
        naiveUpper: i.naive_upper,
        estimate: i.estimate,
        ...(truth === undefined ? {} : { truth }),
        ...(pilot ? { pilot: true } : {}),
      };
    });
}

function heldOutPoints(tasks: readonly EvaluatedTask[]): IntervalPoint[] {
  return tasks.flatMap((t) =>
    t.rows.map((r) => ({ label: r.coord === "" ? r.task : `${r.task} [${r.coord}]`, lower: r.lower, upper: r.upper, naiveLower: r.naive_lower, naiveUpper: r.naive_upper, estimate: r.estimate, truth: r.real_est })),
  );
}

function rectanglePanels(kind: KindAnalysis, model: string, id: string): string {
  const vector = kind.kind.vector!;
  const [cx, cy] = vector.coords as [string, string];
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
    const rectangles: RectanglePanel["rectangles"] = [
      { name: `naive`, kind: "naive", x: [a.naive_lower, a.naive_upper], y: [b.naive_lower, b.naive_upper] },
    ];
    const other = alt.get(task);
    const oa = other?.get(cx);
    const ob = other?.get(cy);
    if (oa !== undefined && ob !== undefined) rectangles.push({ name: oa.method, kind: "alternative", x: [oa.lower, oa.upper], y: [ob.lower, ob.upper] });
    rectangles.push({ name: a.method, kind: "calibrated", x: [a.lower, a.upper], y: [b.lower, b.upper] });
    const ra = real.get(`${task}\u001f${cx}`);
    const rb = real.get(`${task}\u001f${cy}`);
    const synA = ra?.syn_est ?? (a.naive_lower + a.naive_upper) / 2;
    const synB = rb?.syn_est ?? (b.naive_lower + b.naive_upper) / 2;
    panels.push({
      label: ra?.subgroup ?? task,
      rectangles,
      estimate: [synA, synB],
      ...(ra?.real_est !== undefined && rb?.real_est !== undefined ? { truth: [ra.real_est, rb.real_est] as [number, number] } : {}),
    });
  }
  return rectangleFigure(id, `${model}: ${vector.name}, ${cx} (x) and ${cy} (y), target tasks`, panels, [cx, cy], kind.kind.range);
}

function comparisonSection(analysis: StudyAnalysis): string {
  const parts = [`<section><h2>Models side by side</h2><p>The gap is real − synthetic over each model's historical tasks: a model centred on 0 is unbiased on average, a narrow spread means its errors are predictable. The calibrated width (leave-one-out) is what a model's silicon sample is worth: narrower at the same coverage is better.</p>`];
  analysis.kinds.forEach((kind, k) => {
    if (kind.history.length === 0) return;
    const models = [...new Set(kind.history.map((r) => r.model))];
    const gaps = models.map((model) => {
      const values = kind.history.filter((r) => r.model === model).map(gapOf).filter(Number.isFinite);
      return { model, gaps: values, q05: quantile(values, 0.05), q25: quantile(values, 0.25), q50: quantile(values, 0.5), q75: quantile(values, 0.75), q95: quantile(values, 0.95) };
    });
    parts.push(`<h3>${escapeXml(kind.kind.label)}</h3>`);
    parts.push(figureBlock(gapFigure(`cmp${k}-gaps`, `Gaps per model: ${kind.kind.label}`, gaps, kind.kind.label), "Box: quartiles; whiskers: 5% to 95%; dots: one per historical task row."));
    const loo = kind.evaluations.loo?.report.by_model;
    if (loo !== undefined) {
      const widths = models.filter((m) => loo[m] !== undefined).map((model) => ({ model, calibrated: loo[model]!.median_width, naive: loo[model]!.naive_median_width }));
      parts.push(figureBlock(widthFigure(`cmp${k}-widths`, `Calibrated and naive median width per model: ${kind.kind.label}`, widths, kind.kind.label), `Leave-one-out, ${kind.method}.`));
    }
    const rows = kind.comparison.map(
      (c) =>
        `<tr><td>${escapeXml(c.model)}</td><td class="num">${c.history}</td><td class="num">${fmt(c.gap.mean)}</td><td class="num">${fmt(c.gap.sd)}</td><td class="num">${fmt(c.gap.mean_abs)}</td><td class="num">${fixed(c.evaluation.coverage)}</td><td class="num">${fmt(c.evaluation.median_width)}</td><td class="num">${fixed(c.evaluation.naive_coverage)}</td></tr>`,
    );
    if (rows.length > 0) {
      parts.push(`<table><thead><tr><th>model</th><th>history rows</th><th>mean gap</th><th>sd gap</th><th>mean |gap|</th><th>coverage</th><th>median width</th><th>naive coverage</th></tr></thead><tbody>${rows.join("")}</tbody></table>`);
    }
  });
  parts.push("</section>");
  return parts.join("\n");
}

function provenanceSection(input: ReportInput): string {
  const { study, provenance, analysis } = input;
  const waves = study.waves
    .map((w) => `<tr><td>${escapeXml(w.id)}</td><td>${escapeXml(w.role)}</td><td>${escapeXml(w.date ?? "")}</td><td><code>${escapeXml(w.frame)}</code></td><td class="num">${w.respondents}</td><td class="num">${w.realItems}</td></tr>`)
    .join("");
  const facts: [string, string][] = [
    ["study file", study.file],
    ["survey", study.survey],
    ["persona", study.persona],
    ["models", study.models.join(", ")],
    ["generations per respondent and item", String(study.generations)],
    ["temperature, seed, elicitation", `${study.temperature}, ${study.seed}, ${study.elicitation}`],
    ["calibration", describeSettings(analysis.settings)],
    ["store", provenance.store ?? "—"],
    ["answers used", provenance.answers === undefined ? "—" : String(provenance.answers)],
    ["cost recorded in the store", provenance.costUsd === undefined ? "—" : `$${provenance.costUsd.toFixed(4)}`],
    ["made by", `silicon ${provenance.version}: ${provenance.command}`],
    ["at", provenance.generatedAt],
  ];
  const notes = [...input.tasks.warnings, ...analysis.notes];
  return `<section><h2>Settings and data provenance</h2>
<table class="facts"><tbody>${facts.map(([k, v]) => `<tr><th scope="row">${escapeXml(k)}</th><td>${escapeXml(v)}</td></tr>`).join("")}</tbody></table>
<h3>Waves</h3>
<table><thead><tr><th>wave</th><th>role</th><th>date</th><th>frame</th><th>respondents</th><th>items with real answers</th></tr></thead><tbody>${waves}</tbody></table>
<h3>Files beside this report</h3>
<ul>${input.files.map((f) => `<li><a href="${escapeXml(f.name)}"><code>${escapeXml(f.name)}</code></a>: ${escapeXml(f.what)}</li>`).join("")}</ul>
${notes.length > 0 ? `<h3>Notes</h3><ul>${notes.map((n) => `<li>${escapeXml(n)}</li>`).join("")}</ul>` : ""}
</section>`;
}

function figureBlock(svg: string, caption: string): string {
  return `<figure>${svg}<figcaption>${escapeXml(caption)}</figcaption></figure>`;
}

function coverageClass(coverage: number, alpha: number): string {
  return Number.isFinite(coverage) && coverage < 1 - alpha ? "low" : "";
}

function fixed(value: number): string {
  return Number.isFinite(value) ? value.toFixed(3) : "—";
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) return "—";
  return String(Number(value.toPrecision(3)));
}

const CSS = `
:root { --calibrated: #1f5fa8; --naive: #d0741b; --alt: #2e8b57; --truth: #222; --missed: #c0262d; --pilot: #7b3fa0; --grid: #e4e4e4; --ink: #1d1d1f; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1040px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 1.8rem; margin: 0.2em 0 0.4em; }
h2 { font-size: 1.35rem; margin-top: 2.2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
h3 { font-size: 1.05rem; margin-top: 1.6em; }
.lede { font-size: 1.1rem; color: #444; }
.how { color: #444; }
.key { padding: 0 4px; border-radius: 3px; color: #fff; }
.calibrated-key { background: var(--calibrated); }
.naive-key { background: var(--naive); }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.88rem; }
th, td { padding: 4px 10px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid #ccc; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.low { color: var(--missed); font-weight: 600; }
table.facts th { font-weight: 500; color: #555; }
.warnings { background: #fff6e5; border-left: 4px solid #e0a030; padding: 4px 16px; }
.problem { color: var(--missed); }
figure { margin: 1em 0 1.6em; overflow-x: auto; }
figcaption { font-size: 0.85rem; color: #555; }
svg.figure { font: 11px system-ui, sans-serif; max-width: 100%; height: auto; }
svg .grid { stroke: var(--grid); }
svg .axis { stroke: #888; }
svg .zero { stroke: #888; stroke-dasharray: 3 3; }
svg .tick { fill: #555; }
svg .axis-label, svg .panel-title { fill: #333; font-size: 12px; }
svg .legend text { fill: #333; }
svg line.calibrated { stroke: var(--calibrated); stroke-width: 2.2; }
svg line.naive { stroke: var(--naive); stroke-width: 1.2; }
svg line.alternative { stroke: var(--alt); stroke-width: 1.5; stroke-dasharray: 4 2; }
svg line.calibrated.pilot { stroke: var(--pilot); stroke-width: 2.6; }
svg circle.truth { fill: var(--truth); }
svg circle.truth.missed { fill: var(--missed); }
svg rect.calibrated { fill: rgba(31, 95, 168, 0.12); stroke: var(--calibrated); stroke-width: 1.6; }
svg rect.alternative { fill: none; stroke: var(--alt); stroke-width: 1.2; stroke-dasharray: 4 2; }
svg rect.naive { fill: rgba(208, 116, 27, 0.15); stroke: var(--naive); stroke-width: 1; }
svg path.estimate { stroke: var(--calibrated); stroke-width: 1.6; fill: none; }
svg circle.gap { fill: rgba(31, 95, 168, 0.35); }
svg rect.box { fill: rgba(31, 95, 168, 0.12); stroke: var(--calibrated); }
svg line.whisker { stroke: #666; }
svg line.median { stroke: var(--ink); stroke-width: 2; }
svg line.bar { stroke: #bbb; stroke-width: 2; }
svg circle.calibrated-dot { fill: var(--calibrated); }
svg circle.naive-dot { fill: #fff; stroke: var(--naive); stroke-width: 2; }
code { font-size: 0.85em; }
`;
