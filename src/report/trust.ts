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

export function checkWords(protocol: string): CheckWords {
  return CHECKS[protocol] ?? { name: protocol, how: `held out by the ${protocol} protocol`, canFail: true };
}

export interface CheckResult {
  protocol: string;
  summary: CoverageSummary;
  /** What the reader should know about this check (e.g. that it cannot fail). */
  notes: string[];
  /** The evaluation says its coverage is fixed by arithmetic: shown, never counted as evidence. */
  fixed?: boolean;
}

/** A check counted as evidence: of a kind that can fail, and not fixed by arithmetic here. */
function canFail(check: CheckResult): boolean {
  return checkWords(check.protocol).canFail && check.fixed !== true;
}

/** The checks that ran for one model of one kind, in the order run, the forecast wave last. */
export function checksFor(results: MethodResults, model: string): CheckResult[] {
  const out: CheckResult[] = [];
  for (const [protocol, evaluation] of Object.entries(results.evaluations) as [Protocol, Evaluation][]) {
    const summary = evaluation.report.by_model[model];
    if (summary === undefined || summary.tasks === 0) continue;
    const fixed = summary.arithmetic_coverage !== undefined;
    const notes = fixed ? ["Here this check cannot fail: with this method its result is fixed by arithmetic (the number of past results and the promise), whatever the data."] : [];
    out.push({ protocol, summary, notes, fixed });
  }
  const target = results.target[model];
  if (target !== undefined && target.tasks > 0) out.push({ protocol: "target", summary: target, notes: [] });
  // The checks that can fail first: they are the evidence.
  return [...out.filter(canFail), ...out.filter((c) => !canFail(c))];
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
    const words = checkWords(c.protocol);
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
  const names = (list: readonly CheckResult[]) => prose(list.map((c) => `“${checkWords(c.protocol).name}”`));
  const total = testing.reduce((sum, c) => sum + c.summary.tasks, 0);
  const small = Math.min(...testing.map((c) => c.summary.tasks));
  const smallNote = small < 30 ? ` With ${plural(small, "result")} in the smallest check, a single miss moves it by ${Math.round(100 / small)} points: read it as rough.` : "";
  const naiveNote = testing.every((c) => c.summary.naive_coverage < confidence - 1e-9)
    ? " The naive range, which treats the model's answers as a real poll, held far less often: the model's errors are larger than its sampling error, which is why the calibrated range is wider."
    : "";
  if (short.length > 0) {
    return `<p><span class="verdict warn">Fell short.</span> In the ${names(short)} ${short.length === 1 ? "check" : "checks"} the range held less often than the promised ${percent}. Treat these forecasts as less certain than their ranges say: the model's errors have not stayed like its past ones.${smallNote}</p>`;
  }
  const held = testing.reduce((sum, c) => sum + covered(c.summary), 0) / total;
  // A method aiming at the population value widens for the real poll's own sampling error too: it holds the poll's estimate more often than promised.
  const population = method === "alg4" ? "" : " The ranges aim at the population value, so they also leave room for the real poll's own sampling error; that is one reason they contain the poll's estimate more often than promised.";
  const wide =
    (held >= (1 + confidence) / 2 ? ` Overall ${Math.round(held * 100)}% held, well above the promise: the ranges are not too narrow, and may be wider than needed.${population}` : "") +
    " This shows how the method did on the past; it cannot show that the forecast wave errs like the past ones.";
  return `<p><span class="verdict ok">Held as promised.</span> In the ${names(testing)} ${testing.length === 1 ? "check" : "checks"} the range held at least ${percent} of the time.${wide}${naiveNote}${smallNote}</p>`;
}

/** One line for the forecasts section: the strongest check that could fail, with a pointer to the rest. */
export function checkSummary(kind: KindAnalysis, model: string, confidence: number): string {
  const checks = checksFor(kind, model);
  const testing = checks.filter((c) => canFail(c) && c.protocol !== "target");
  const best = testing[0] ?? checks.find(canFail) ?? checks[0];
  if (best === undefined) return "No held-out check could run.";
  const s = best.summary;
  const ok = s.coverage >= confidence - 1e-9;
  return `Checked ${checkWords(best.protocol).name}: held ${formatShare(covered(s), s.tasks)} (promised: at least ${Math.round(confidence * 100)}%)${ok ? "" : " — fell short"}.`;
}

/** The held-out checks of one kind, every model. */
export function checksBlock(kind: KindAnalysis, models: readonly string[]): string {
  const confidence = 1 - kind.options.alpha;
  const parts = [`<h3>${escapeXml(kindTitle(kind))}</h3>`];
  for (const model of models) {
    if (!kind.history.some((r) => r.model === model) && !kind.targets.some((r) => r.model === model)) continue;
    parts.push(`<h4>${escapeXml(model)}</h4>`, checksParagraph(kind, model, confidence));
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
  const words = checkWords(protocol);
  return `<details><summary>${escapeXml(words.name.charAt(0).toUpperCase() + words.name.slice(1))}, in detail</summary>
<p>${escapeXml(words.how.charAt(0).toUpperCase() + words.how.slice(1))}. Results of one wave share that wave's events, so how often the range held varies from wave to wave more than chance alone would make it.</p>
<div class="table-wrap"><table class="by-wave"><thead><tr><th>model</th><th>wave forecast</th><th class="num">past results used</th><th class="num">results checked</th><th class="num">skipped</th><th class="num">calibrated range held</th><th class="num">typical width</th><th class="num">naive range held</th></tr></thead>
<tbody>${rows.join("")}</tbody></table></div></details>`;
}
