/**
 * report.html: one self-contained page (inline CSS, SVG and a small sorting
 * script; no network) for the people who use the numbers. In order: the
 * forecasts of the target wave (a table per model, then the same as labelled
 * charts), whether to trust them (the held-out checks in plain words), what
 * could not run, the models side by side, and the settings and data
 * provenance, with the formulas in a collapsed section for methodologists.
 */
import type { Evaluation, Protocol } from "../evaluation/evaluate.ts";
import type { CoverageSummary } from "../evaluation/metrics.ts";
import type { KindAnalysis, StudyAnalysis } from "../pipeline/analyze.ts";
import { describeSettings } from "../pipeline/settings.ts";
import { comparisonCharts, forecastCharts, heldOutChart } from "./charts.ts";
import { formatShare, formatWidth, plural, prose } from "./format.ts";
import { byWaveAndModel, forecastRows, forecastTable, type ForecastRow, type QuestionText } from "./forecasts.ts";
import { CSS, SCRIPT } from "./page-assets.ts";
import { escapeXml } from "./svg.ts";
import { checksBlock, checkSummary, checkWords } from "./trust.ts";
import { historyWords, kindTitle, methodFormula, methodWords, plainProblem, plainWarning, targetWords } from "./words.ts";

export interface WaveProvenance {
  id: string;
  role: string;
  date?: string;
  frame: string;
  respondents: number;
  /** Items with real answers in the frame. */
  realItems: number;
  /** The wave's context (e.g. president, president_party): what its questions and derived subgroups refer to. */
  context?: Record<string, unknown>;
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
    /** The survey's questions (id and wording), for the forecasts table. */
    items?: QuestionText[];
    /**
     * What a derived subgroup's level means in a wave, where the frame shows
     * it (every "Co-partisan" of w2024 has party Democrat): wave → level → words.
     */
    levelMeanings?: Record<string, Record<string, string>>;
  };
  analysis: StudyAnalysis;
  tasks: { rows: number; history: number; target: number; warnings: string[] };
  provenance: { generatedAt: string; version: string; command: string; store?: string; answers?: number; costUsd?: number };
  /** Files written beside the report, for links. */
  files: { name: string; what: string }[];
}

export function renderReport(input: ReportInput): string {
  const { study, analysis } = input;
  const rows = forecastRows(analysis.kinds);
  const sections = [
    headerSection(input, rows),
    warningsSection(analysis),
    forecastsSection(input, rows),
    trustSection(input),
    problemsSection(analysis),
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
${sections.filter((s) => s !== "").join("\n")}
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

function confidenceOf(analysis: StudyAnalysis): number {
  return 1 - analysis.settings.alpha;
}

function percent(confidence: number): string {
  return `${Math.round(confidence * 100)}%`;
}

function waveName(input: ReportInput, id: string): string {
  const wave = input.study.waves.find((w) => w.id === id);
  return wave?.date === undefined ? id : `${id} (${wave.date})`;
}

function historyWaves(input: ReportInput): string[] {
  return input.study.waves.filter((w) => w.role !== "target").map((w) => w.id);
}

function headerSection(input: ReportInput, rows: readonly ForecastRow[]): string {
  const { study, analysis } = input;
  const confidence = confidenceOf(analysis);
  const targets = [...new Set(rows.map((r) => r.wave))].map((w) => waveName(input, w));
  const past = historyWaves(input);
  const models = study.models.length;
  return `<header>
<h1>${escapeXml(study.name)}: forecasts from AI-simulated survey answers</h1>
${study.description === undefined ? "" : `<p class="lede">${escapeXml(study.description)}</p>`}
<div class="in-short">
<p><strong>What this is.</strong> ${plural(models, "AI model")} (${escapeXml(study.models.join(", "))}) answered the survey once for each real respondent of ${plural(study.waves.length, "wave")}, playing that person. Their answers give a <em>forecast</em> for ${escapeXml(prose(targets) || "the target wave")}. Because a model's answers are not a real poll, each forecast comes with a <span class="key calibrated-key">calibrated range</span>, learned from how far the same model's answers landed from the real survey in the past waves (${escapeXml(prose(past))}).</p>
<p><strong>What the range promises.</strong> Across questions like these, at least ${percent(confidence)} of calibrated ranges contain ${escapeXml(targetWords(analysis.settings.method))} — <em>provided the model errs in the new wave the way it erred in the past waves</em>. It is a promise about the set of forecasts, not about each one, and it rests on that proviso, which no data from the past can prove. The <span class="key naive-key">naive range</span> beside it treats the model's answers as if they were a real poll, for comparison: how often it held in the past is in the checks below.</p>
<p><strong>Should I trust it?</strong> See <a href="#trust">the held-out checks</a>: the same method was used to forecast past results it had not seen, and we count how often the range held.</p>
</div>
</header>`;
}

function warningsSection(analysis: StudyAnalysis): string {
  if (analysis.warnings.length === 0) return "";
  return (
    `<section class="warnings"><h2>Read this first</h2><ul>${[...new Set(analysis.warnings.map(plainWarning))].map((w) => `<li>${escapeXml(w)}</li>`).join("")}</ul>` +
    `<details><summary>The warnings in full</summary><ul>${analysis.warnings.map((w) => `<li><code>${escapeXml(w)}</code></li>`).join("")}</ul></details></section>`
  );
}

function questionTexts(input: ReportInput, wave: string): QuestionText[] {
  const context = input.study.waves.find((w) => w.id === wave)?.context ?? {};
  // The wording as this wave asked it: {{president}} filled in from the wave's context.
  return (input.study.items ?? []).map((q) => ({ id: q.id, text: q.text.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (whole, key: string) => (key in context ? String(context[key]) : whole)) }));
}

function forecastsSection(input: ReportInput, rows: readonly ForecastRow[]): string {
  const { analysis } = input;
  const confidence = confidenceOf(analysis);
  if (rows.length === 0) return `<section id="forecasts"><h2>Forecasts</h2><p class="problem">No target task could be forecast (see "What could not run").</p></section>`;
  const pilotItems = new Set(analysis.kinds.flatMap((k) => k.pilot.flatMap((p) => p.items)));
  const parts = [`<section id="forecasts">`];
  for (const { wave, model, rows: group } of byWaveAndModel(rows)) {
    const id = `${wave}-${model}`.replace(/[^A-Za-z0-9_-]+/g, "-");
    parts.push(`<h2 id="forecast-${escapeXml(id)}">Forecasts for ${escapeXml(waveName(input, wave))} by ${escapeXml(model)}</h2>`);
    parts.push(waveContext(input, wave));
    const kinds = [...new Set(group.map((r) => r.kind))];
    parts.push(`<ul class="promises">${kinds.map((kind) => `<li>${promiseLine(kind, model, confidence)}</li>`).join("")}</ul>`);
    const meanings = input.study.levelMeanings?.[wave] ?? {};
    parts.push(forecastTable(group, questionTexts(input, wave), confidence, `forecasts-${id}.csv`, meanings, pilotItems));
    kinds.forEach((kind, k) => {
      parts.push(forecastCharts(kind, model, group.filter((r) => r.kind === kind), `f-${id}-${k}`, pilotItems, meanings));
    });
  }
  parts.push(`</section>`);
  return parts.join("\n");
}

/** The wave's context and what its derived subgroups mean in it ("Co-partisan: party Democrat"). */
function waveContext(input: ReportInput, wave: string): string {
  const context = Object.entries(input.study.waves.find((w) => w.id === wave)?.context ?? {}).filter(([, v]) => v !== null && typeof v !== "object");
  const meanings = Object.entries(input.study.levelMeanings?.[wave] ?? {});
  const parts: string[] = [];
  if (context.length > 0) parts.push(`In this wave: ${context.map(([k, v]) => `${escapeXml(k.replace(/_/g, " "))} ${escapeXml(String(v))}`).join("; ")}.`);
  if (meanings.length > 0) parts.push(`Here ${meanings.map(([level, words]) => `<strong>${escapeXml(level)}</strong> means ${escapeXml(words)}`).join("; ")}.`);
  return parts.length === 0 ? "" : `<p class="muted">${parts.join(" ")}</p>`;
}

function promiseLine(kind: KindAnalysis, model: string, confidence: number): string {
  const both = kind.kind.vector === undefined ? "" : ` (both values at once: ${escapeXml(prose(kind.kind.vector.coords))})`;
  return (
    `<strong>${escapeXml(kindTitle(kind))}</strong>: each range${both} is ${escapeXml(methodWords(kind.method))}, ` +
    `learned from ${escapeXml(historyWords(kind, model))}. ${escapeXml(checkSummary(kind, model, confidence))} <a href="#trust">More below.</a>`
  );
}

function trustSection(input: ReportInput): string {
  const { analysis, study } = input;
  const confidence = confidenceOf(analysis);
  const parts = [
    `<section id="trust"><h2>Should I trust these ranges?</h2>`,
    `<p>A range can only be checked against real answers, so silicon checks the method on the past: it hides some real results, forecasts them from the rest exactly as it forecasts the new wave, and counts how often the range contained the real value. The promise is at least ${percent(confidence)}. A check that held is evidence the method works on this study's past waves; whether the new wave behaves like them is the assumption every forecast here rests on.</p>`,
  ];
  analysis.kinds.forEach((kind, k) => {
    parts.push(checksBlock(kind, study.models));
    for (const pilot of kind.pilot) parts.push(pilotCheck(pilot, confidence));
    for (const model of study.models) parts.push(heldOutChart(kind, model, `h${k}-${model.replace(/[^A-Za-z0-9_-]+/g, "-")}`));
  });
  parts.push(`</section>`);
  return parts.join("\n");
}

/** The check pilot mode rests on: held-out coverage on the items the pilot items are said to be like. */
function pilotCheck(pilot: KindAnalysis["pilot"][number], confidence: number): string {
  const lines = (Object.entries(pilot.evaluations) as [Protocol, Record<string, CoverageSummary>][]).flatMap(([protocol, byModel]) =>
    Object.entries(byModel)
      .filter(([, s]) => s.tasks > 0)
      .map(([model, s]) => `<li>${escapeXml(model)}, ${escapeXml(checkWords(protocol).name)}: held ${formatShare(Math.round(s.coverage * s.tasks), s.tasks)}${s.coverage < confidence - 1e-9 ? " — fell short" : ""}.</li>`),
  );
  const items = prose(pilot.items);
  if (lines.length === 0) return `<p class="problem">New questions ${escapeXml(items)}: no check on the questions they are like could run.</p>`;
  return `<h4>New questions ${escapeXml(items)} (pilot)</h4>
<p>These questions have no past waves, so their ranges are learned from the questions they are said to be like (${escapeXml(prose(pilot.like))}). Those questions' past results, held out in turn, show whether the method works on them; whether the new questions err like them, no data can show until they are fielded.</p><ul>${lines.join("")}</ul>`;
}

function problemsSection(analysis: StudyAnalysis): string {
  const problems = analysis.kinds.flatMap((k) => [...k.problems.map((p) => [kindTitle(k), p, false] as const), ...(k.alternative?.problems ?? []).map((p) => [kindTitle(k), p, true] as const)]);
  if (problems.length === 0) return "";
  const items = problems.map(([kind, problem, alternative]) => `<li>${escapeXml(kind)}${alternative ? " (the other rectangle, shown for comparison only)" : ""}: ${escapeXml(plainProblem(problem))}</li>`);
  return `<section id="skipped"><h2>What could not run, and why</h2>
<p>A range needs enough past results for its promise: the stricter the promise, the more rare errors it must see. Steps with too few were skipped rather than given an endless range.</p>
<ul>${[...new Set(items)].join("")}</ul>
<details class="technical"><summary>The messages in full</summary><ul>${problems.map(([kind, p]) => `<li><code>${escapeXml(kind)}: ${escapeXml(p)}</code></li>`).join("")}</ul></details>
</section>`;
}

function comparisonSection(analysis: StudyAnalysis): string {
  const parts = [
    `<section id="models"><h2>Which model is more useful?</h2><p>Every model gets its own calibrated ranges, so a biased model is not wrong, only corrected; what matters is how <em>predictable</em> its errors are: the more predictable, the narrower its ranges at the same promise.</p>`,
  ];
  analysis.kinds.forEach((kind, k) => {
    if (kind.history.length === 0) return;
    parts.push(`<h3>${escapeXml(kindTitle(kind))}</h3>`, comparisonCharts(kind, k), comparisonTable(kind));
  });
  parts.push("</section>");
  return parts.join("\n");
}

function comparisonTable(kind: KindAnalysis): string {
  if (kind.comparison.length === 0) return "";
  const range = kind.kind.range;
  const rows = kind.comparison.map((c) => {
    const s = c.evaluation;
    return (
      `<tr><td>${escapeXml(c.model)}</td><td class="num">${c.history}</td><td class="num">${escapeXml(formatWidth(c.gap.mean, range))}</td><td class="num">${escapeXml(formatWidth(c.gap.sd, range))}</td>` +
      `<td class="num">${formatShare(Math.round(s.coverage * s.tasks), s.tasks)}</td><td class="num">${escapeXml(formatWidth(s.median_width, range))}</td><td class="num">${formatShare(Math.round(s.naive_coverage * s.tasks), s.tasks)}</td></tr>`
    );
  });
  return `<div class="table-wrap"><table><thead><tr><th>model</th><th class="num">past results</th><th class="num">average gap (real − model)</th><th class="num">spread of gaps (sd)</th><th class="num">range held (one at a time)</th><th class="num">typical width</th><th class="num">naive range held</th></tr></thead><tbody>${rows.join("")}</tbody></table></div>`;
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
    ["answers per respondent and question", String(study.generations)],
    ["temperature, seed, elicitation", `${study.temperature}, ${study.seed}, ${study.elicitation}`],
    ["calibration", describeSettings(analysis.settings)],
    ["tasks (question × subgroup × wave × model)", `${input.tasks.rows}: ${input.tasks.history} past, ${input.tasks.target} to forecast`],
    ["store", provenance.store ?? "—"],
    ["answers used", provenance.answers === undefined ? "—" : String(provenance.answers)],
    ["cost recorded in the store", provenance.costUsd === undefined ? "—" : `$${provenance.costUsd.toFixed(4)}`],
    ["made by", `silicon ${provenance.version}: ${provenance.command}`],
    ["at", provenance.generatedAt],
  ];
  return `<section id="settings"><h2>Settings and data</h2>
<div class="table-wrap"><table class="facts"><tbody>${facts.map(([k, v]) => `<tr><th scope="row">${escapeXml(k)}</th><td>${escapeXml(v)}</td></tr>`).join("")}</tbody></table></div>
<h3>Waves</h3>
<div class="table-wrap"><table><thead><tr><th>wave</th><th>role</th><th>date</th><th>frame</th><th class="num">respondents</th><th class="num">questions with real answers</th></tr></thead><tbody>${waves}</tbody></table></div>
<h3>Files beside this report</h3>
<ul>${input.files.map((f) => `<li><a href="${escapeXml(f.name)}"><code>${escapeXml(f.name)}</code></a>: ${escapeXml(f.what)}</li>`).join("")}</ul>
${technicalSection(input)}
</section>`;
}

/** For methodologists, collapsed: the formulas, every coverage figure, and the analysis' notes in their own notation. */
function technicalSection(input: ReportInput): string {
  const { analysis } = input;
  const methods = [...new Set(analysis.kinds.flatMap((k) => [k.method, ...(k.alternative === undefined ? [] : [k.alternative.method])]))];
  const notes = [...input.tasks.warnings, ...analysis.notes];
  return `<details class="technical"><summary>Method details and formulas (for methodologists)</summary>
<p>Notation of the method paper: θ̂_j and θ̃̂_j the real and synthetic estimates of task j, T historical tasks, α = ${analysis.settings.alpha} the error level (${percent(confidenceOf(analysis))} = 1 − α).</p>
<ul>${methods.map((m) => `<li>${escapeXml(methodFormula(m))}</li>`).join("")}</ul>
<p>Coverage is judged against the held-out task's real estimate θ̂ (its finite-sample value), as the paper's evaluation does; a method aiming at the population value θ (all but alg4) is therefore expected to cover θ̂ more often than 1 − α.</p>
${coverageTable(analysis)}
${notes.length > 0 ? `<h4>Notes</h4><ul>${notes.map((n) => `<li>${escapeXml(n)}</li>`).join("")}</ul>` : ""}
</details>`;
}

function coverageTable(analysis: StudyAnalysis): string {
  const rows: string[] = [];
  for (const kind of analysis.kinds) {
    const results = [kind as Pick<KindAnalysis, "method" | "evaluations" | "target">, ...(kind.alternative === undefined ? [] : [kind.alternative])];
    for (const result of results) {
      const protocols: [string, Record<string, CoverageSummary>][] = [
        ...(Object.entries(result.evaluations) as [Protocol, Evaluation][]).map(([p, e]) => [p, e.report.by_model] as [string, Record<string, CoverageSummary>]),
        ...(Object.keys(result.target).length > 0 ? [["target", result.target] as [string, Record<string, CoverageSummary>]] : []),
      ];
      for (const [protocol, byModel] of protocols) {
        for (const [model, s] of Object.entries(byModel)) {
          if (s.tasks === 0) continue;
          rows.push(
            `<tr><td>${escapeXml(kind.kind.key)}</td><td>${escapeXml(result.method)}</td><td>${escapeXml(protocol)}</td><td>${escapeXml(model)}</td><td class="num">${s.tasks}</td>` +
              `<td class="num">${fixed(s.coverage)}</td><td class="num">${fixed(s.naive_coverage)}</td><td class="num">${fmt(s.median_width)}</td><td class="num">${fmt(s.naive_median_width)}</td></tr>`,
          );
        }
      }
    }
  }
  if (rows.length === 0) return "";
  return `<div class="table-wrap"><table><thead><tr><th>kind</th><th>method</th><th>protocol</th><th>model</th><th class="num">tasks</th><th class="num">coverage</th><th class="num">naive coverage</th><th class="num">median width</th><th class="num">naive median width</th></tr></thead><tbody>${rows.join("")}</tbody></table></div>`;
}

function fixed(value: number): string {
  return Number.isFinite(value) ? value.toFixed(3) : "—";
}

function fmt(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(3))) : "—";
}
