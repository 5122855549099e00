/**
 * "Should I trust these ranges?": the held-out checks in plain words, per
 * kind of question and model. Each check says how it was run, how often the
 * calibrated and the naive ranges held, and whether it could have failed at
 * all (one-at-a-time largely passes by construction; wave by wave, question
 * by question and the forecast wave's own answers can fail). Protocols this
 * module does not know are shown under their own name.
 */
import type { Evaluation, Protocol } from "../evaluation/evaluate.ts";
import type { CoverageSummary } from "../evaluation/metrics.ts";
import type { KindAnalysis, MethodResults } from "../pipeline/analyze.ts";
import { formatShare, formatWidth, plural, prose } from "./format.ts";
import { escapeXml } from "./svg.ts";
import { kindTitle } from "./words.ts";

interface CheckWords {
  name: string;
  how: string;
  /** False where the check passes by construction: it is shown, but never counted as evidence. */
  canFail: boolean;
}

const CHECKS: Record<string, CheckWords> = {
  chrono: {
    name: "wave by wave",
    how: "each past wave forecast from the earlier waves only, the way the forecast itself is made",
    canFail: true,
  },
  group: {
    name: "one group at a time",
    how: "all past results sharing a value (by default a wave) held out together and forecast from the rest",
    canFail: true,
  },
  loo: {
    name: "one result at a time",
    how: "each past result forecast from all the others, its own wave's included: an easier check than a real forecast, since the result's wave-mates stay in the history",
    canFail: true,
  },
  target: {
    name: "the forecast wave's real answers",
    how: "the forecast wave's own real answers, which this study happens to have (a back-test)",
    canFail: true,
  },
};

/** The words for a check; the group protocol's depend on the column it holds out by. */
export function checkWords(protocol: string, groupBy?: string): CheckWords {
  if (protocol === "group" && groupBy === "item") {
    return { name: "question by question", how: "all past results of one question held out together and forecast from the other questions only", canFail: true };
  }
  if (protocol === "group" && groupBy !== undefined && groupBy !== "group") {
    return { name: `one ${groupBy} at a time`, how: `all past results sharing a ${groupBy} held out together and forecast from the rest`, canFail: true };
  }
  return CHECKS[protocol] ?? { name: protocol, how: `held out by the ${protocol} protocol`, canFail: true };
}

export interface CheckResult {
  protocol: string;
  summary: CoverageSummary;
  /** What the reader should know about this check (e.g. that it cannot fail). */
  notes: string[];
  /** The evaluation says its coverage is fixed by arithmetic: shown, never counted as evidence. */
  fixed?: boolean;
  /** The group protocol's column. */
  groupBy?: string;
}

function wordsOf(check: CheckResult): CheckWords {
  return checkWords(check.protocol, check.groupBy);
}

/** A check counted as evidence: of a kind that can fail, and not fixed by arithmetic here. */
function canFail(check: CheckResult): boolean {
  return wordsOf(check).canFail && check.fixed !== true;
}

/** The checks that ran for one model of one kind, in the order run, the forecast wave last. */
export function checksFor(results: MethodResults, model: string): CheckResult[] {
  const out: CheckResult[] = [];
  for (const [protocol, evaluation] of Object.entries(results.evaluations) as [Protocol, Evaluation][]) {
    const summary = evaluation.report.by_model[model];
    if (summary === undefined || summary.tasks === 0) continue;
    const fixed = summary.arithmetic_coverage !== undefined;
    const notes = fixed ? ["Here this check cannot fail: with this method its result is fixed by arithmetic (the number of past results and the promise), whatever the data."] : [];
    const groupBy = evaluation.report.group_by;
    out.push({ protocol, summary, notes, fixed, ...(groupBy === undefined ? {} : { groupBy }) });
  }
  const target = results.target[model];
  if (target !== undefined && target.tasks > 0) out.push({ protocol: "target", summary: target, notes: [] });
  // The checks that can fail first, the one most like a real forecast first: they are the evidence.
  const order = (c: CheckResult) => (canFail(c) ? 0 : 10) + Math.max(0, ["chrono", "group", "target", "loo"].indexOf(c.protocol));
  return out.sort((a, b) => order(a) - order(b));
}

/** The exact 95% interval of a coverage, where the evaluation gives one. */
function plausible(summary: CoverageSummary): string {
  const { coverage_lower: lower, coverage_upper: upper } = summary as { coverage_lower?: number; coverage_upper?: number };
  if (lower === undefined || upper === undefined || !Number.isFinite(lower)) return "";
  return ` (from this many results, the long-run rate is plausibly ${Math.round(lower * 100)}% to ${Math.round(upper * 100)}%)`;
}

function covered(summary: CoverageSummary, naive = false): number {
  return Math.round((naive ? summary.naive_coverage : summary.coverage) * summary.tasks);
}

/** One model's checks in sentences, ending with a verdict. */
export function checksParagraph(kind: KindAnalysis, model: string, confidence: number): string {
  const checks = checksFor(kind, model);
  const range = kind.kind.range;
  const percent = `${Math.round(confidence * 100)}%`;
  if (checks.length === 0) return `<p class="problem">No held-out check could run for ${escapeXml(model)} (see "What could not run" below).</p>`;
  const items = checks.map((c) => {
    const words = wordsOf(c);
    const s = c.summary;
    return (
      `<li><strong>${escapeXml(words.name)}</strong> (${escapeXml(words.how)}): the calibrated range held ${formatShare(covered(s), s.tasks)}${plausible(s)}` +
      `, typically ${escapeXml(formatWidth(s.median_width, range))} wide; the naive range held ${formatShare(covered(s, true), s.tasks)}.` +
      c.notes.map((n) => ` <span class="muted">${escapeXml(n)}</span>`).join("") +
      `</li>`
    );
  });
  return `<ul class="checks">${items.join("")}</ul>${verdict(checks, confidence, percent, kind.method)}`;
}

/** The verdict on the checks that could fail: held as promised, fell short, or nothing that could fail ran. */
function verdict(checks: readonly CheckResult[], confidence: number, percent: string, method: string): string {
  const testing = checks.filter(canFail);
  if (testing.length === 0) {
    return `<p><span class="verdict warn">No evidence yet.</span> Only checks that pass by construction could run, so there is no evidence yet either way; a study with more waves (or questions) allows a check that can fail.</p>`;
  }
  const short = testing.filter((c) => c.summary.coverage < confidence - 1e-9);
  const names = (list: readonly CheckResult[]) => prose(list.map((c) => `“${wordsOf(c).name}”`));
  const total = testing.reduce((sum, c) => sum + c.summary.tasks, 0);
  const held = testing.reduce((sum, c) => sum + covered(c.summary), 0) / total;
  const small = Math.min(...testing.map((c) => c.summary.tasks));
  const naive = testing.map((c) => Math.round(c.summary.naive_coverage * 100));
  const sentences: string[] = [];
  if (short.length > 0) {
    sentences.push(
      `<span class="verdict warn">Fell short.</span> In the ${names(short)} ${short.length === 1 ? "check" : "checks"} the range held less often than the promised ${percent}.`,
      "Treat these forecasts as less certain than their ranges say: the model's errors have not stayed like its past ones.",
    );
  } else {
    sentences.push(`<span class="verdict ok">Held as promised.</span> In every check that could fail the range held at least ${percent} of the time (overall ${Math.round(held * 100)}%).`);
    // A method aiming at the population value widens for the real poll's own sampling error too: it holds the poll's estimate more often than promised.
    if (held >= (1 + confidence) / 2) {
      sentences.push(`The ranges may be wider than needed${method === "alg4" ? "" : ": they aim at the population value, so they also leave room for the real poll's own sampling error"}.`);
    }
  }
  if (naive.every((n) => n < confidence * 100)) {
    const [least, most] = [Math.min(...naive), Math.max(...naive)];
    sentences.push(`The naive range held only ${least === most ? least : `${least}–${most}`}% of the time: the model's errors are larger than its sampling error.`);
  }
  if (small < 30) sentences.push(`Small checks (${plural(small, "result")}) are rough: one miss moves them by ${Math.round(100 / small)} points.`);
  sentences.push("No check on the past can show that the forecast wave errs like the past waves; that is the assumption.");
  return `<p>${sentences.join(" ")}</p>`;
}

/** One line for the forecasts section: the strongest check that could fail, with a pointer to the rest. */
export function checkSummary(kind: KindAnalysis, model: string, confidence: number): string {
  const checks = checksFor(kind, model);
  const testing = checks.filter((c) => canFail(c) && c.protocol !== "target");
  const best = testing[0] ?? checks.find(canFail) ?? checks[0];
  if (best === undefined) return "No held-out check could run.";
  const s = best.summary;
  const ok = s.coverage >= confidence - 1e-9;
  return `Checked ${wordsOf(best).name}: held ${formatShare(covered(s), s.tasks)} (promised: at least ${Math.round(confidence * 100)}%)${ok ? "" : " — fell short"}.`;
}

/** The held-out checks of one kind, every model. */
export function checksBlock(kind: KindAnalysis, models: readonly string[]): string {
  const confidence = 1 - kind.options.alpha;
  const parts = [`<h3>${escapeXml(kindTitle(kind))}</h3>`];
  for (const model of models) {
    if (!kind.history.some((r) => r.model === model) && !kind.targets.some((r) => r.model === model)) continue;
    parts.push(`<h4>${escapeXml(model)}</h4>`, checksParagraph(kind, model, confidence), driftParagraph(kind, model));
  }
  parts.push(byWaveTable(kind, confidence));
  return parts.join("\n");
}

/**
 * The wave-by-wave check wave by wave (evaluation.json's by_group): how many
 * past results each wave was forecast from, how many were skipped, and how
 * often the calibrated and naive ranges held.
 */
function byWaveTable(kind: KindAnalysis, confidence: number): string {
  return (Object.entries(kind.evaluations) as [Protocol, Evaluation][]).map(([protocol, evaluation]) => byGroupTable(kind, protocol, evaluation, confidence)).join("");
}

function byGroupTable(kind: KindAnalysis, protocol: Protocol, evaluation: Evaluation, confidence: number): string {
  const rows: string[] = [];
  for (const [model, summary] of Object.entries(evaluation.report.by_model)) {
    for (const [group, g] of Object.entries(summary.by_group ?? {})) {
      const scored = g.tasks > 0;
      const low = scored && g.coverage < confidence - 1e-9 ? " low" : "";
      rows.push(
        `<tr><td>${escapeXml(model)}</td><td>${escapeXml(group)}</td><td class="num">${g.history}</td><td class="num">${g.tasks}</td><td class="num">${g.skipped}</td>` +
          `<td class="num${low}">${scored ? formatShare(covered(g), g.tasks) : "—"}</td><td class="num">${scored ? escapeXml(formatWidth(g.median_width, kind.kind.range)) : "—"}</td><td class="num">${scored ? formatShare(covered(g, true), g.tasks) : "—"}</td></tr>`,
      );
    }
  }
  if (rows.length === 0) return "";
  const words = checkWords(protocol, evaluation.report.group_by);
  return `<details><summary>${escapeXml(words.name.charAt(0).toUpperCase() + words.name.slice(1))}, in detail</summary>
<p>${escapeXml(words.how.charAt(0).toUpperCase() + words.how.slice(1))}. Results of one wave share that wave's events, so how often the range held varies from wave to wave more than chance alone would make it.</p>
<div class="table-wrap"><table class="by-wave"><thead><tr><th>model</th><th>wave forecast</th><th class="num">past results used</th><th class="num">results checked</th><th class="num">skipped</th><th class="num">calibrated range held</th><th class="num">typical width</th><th class="num">naive range held</th></tr></thead>
<tbody>${rows.join("")}</tbody></table></div></details>`;
}

/** The exchangeability diagnostics as evaluation.json has them (kind.exchangeability), read structurally. */
interface Diagnostics {
  level: number;
  tests: number;
  pools: {
    model: string;
    coord: string;
    trend?: { flagged: boolean; slope: number; waves: number };
    heterogeneity: Record<string, { flagged: boolean; means: number[]; labels: string[] }>;
  }[];
}

/**
 * Did the model's errors drift between past waves? The diagnostics' answer in
 * words: a steady trend, or waves that differ more than chance allows — the
 * warning signs that the forecast wave may err differently again.
 */
export function driftParagraph(kind: KindAnalysis, model: string): string {
  const diagnostics = (kind as { exchangeability?: Diagnostics }).exchangeability;
  if (diagnostics === undefined) return "";
  const intro = "<strong>Drift check.</strong>";
  if (diagnostics.tests === 0) return `<p>${intro} Not run: it needs past results in two or more waves.</p>`;
  const range = kind.kind.range;
  const findings: string[] = [];
  for (const pool of diagnostics.pools.filter((p) => p.model === model)) {
    const who = pool.coord === "" ? "its error" : `its error for ${pool.coord}`;
    if (pool.trend?.flagged === true) {
      findings.push(`${who} ${pool.trend.slope > 0 ? "grew" : "fell"} by about ${formatWidth(Math.abs(pool.trend.slope), range)} a wave over ${pool.trend.waves} waves`);
    }
    const waves = pool.heterogeneity["group"];
    if (waves?.flagged === true) {
      const low = waves.means.indexOf(Math.min(...waves.means));
      const high = waves.means.indexOf(Math.max(...waves.means));
      findings.push(`${who} differed between waves more than chance allows (on average ${signedWidth(waves.means[low]!, range)} in ${waves.labels[low]}, ${signedWidth(waves.means[high]!, range)} in ${waves.labels[high]})`);
    }
  }
  const alarm = `${Math.round(diagnostics.level * 100)}%`;
  if (findings.length === 0) {
    return `<p>${intro} Whether this model's average error (real minus model) moved steadily from wave to wave, or jumped between waves, was tested; nothing beyond chance showed (at most a ${alarm} chance of a false alarm over all ${diagnostics.tests} tests). That supports the assumption that the forecast wave errs like the past ones; it cannot prove it.</p>`;
  }
  return `<p><span class="verdict warn">Drift.</span> Between past waves ${prose(findings)}. A model whose errors change may change them again in the forecast wave: rely on the wave-by-wave check above, and consider weighting recent waves more (method alg2 with a decay). (At most a ${alarm} chance of a false alarm over all ${diagnostics.tests} tests.)</p>`;
}

function signedWidth(value: number, range: readonly [number, number]): string {
  return `${value < 0 ? "−" : "+"}${formatWidth(Math.abs(value), range)}`;
}
