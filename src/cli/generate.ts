/**
 * `silicon generate`: options in, the study loaded, generate() run, one
 * summary out. Progress goes to stderr (a bar on a terminal, a plain line now
 * and then otherwise); the summary line and the dry-run table to stdout.
 */
import { loadStudy, type LoadedStudy } from "../config/load.ts";
import { BudgetError, InterruptedError, SiliconError, UsageError } from "../errors.ts";
import { MAX_VENDOR_FAILURE_SHARE, vendorFailureVerdict } from "../generation/breaker.ts";
import { generate, type DryRunSummary, type RunSummary } from "../generation/run.ts";
import { barProgress, formatUsd, lineProgress, silentProgress, type ProgressReporter } from "../generation/progress.ts";
import { redactSecrets } from "../util/secrets.ts";

export interface GenerateCommandOptions {
  model?: string;
  dryRun?: boolean;
  maxCost?: string;
  concurrency?: string;
  results?: string;
  wait?: string | boolean;
  timeout?: string;
  quiet?: boolean;
  batch?: boolean;
  pollInterval?: string;
  allowInfeasible?: boolean;
}

/**
 * Runs `silicon generate`; returns what the run did (undefined for a dry run), for a pipeline that goes on.
 * `loaded`: the study of `studyFile`, when the caller has loaded it already (`silicon run`).
 */
export async function runGenerateCommand(studyFile: string, raw: Record<string, unknown>, loaded?: LoadedStudy): Promise<RunSummary | undefined> {
  const options = raw as GenerateCommandOptions;
  const maxCostUsd = options.maxCost === undefined ? undefined : parseNumber("--max-cost", options.maxCost, { min: 0 }, "a number of US dollars, e.g. 5 or 0.50");
  const concurrency = options.concurrency === undefined ? undefined : parseNumber("--concurrency", options.concurrency, { min: 1, integer: true }, "a whole number of requests, at least 1");
  // Node's timers hold at most 2^31 - 1 ms (about 24.8 days); longer ones fire at once.
  const timeoutMs = 1000 * parseNumber("--timeout", options.timeout ?? "60", { min: 0.001, max: MAX_WAIT_SECONDS }, "a number of seconds from 0.001 to 86400 (24 hours)");
  // --wait [seconds] (for the store's lock) and --no-wait (for batches) share commander's `wait`:
  // undefined by default, true or a string with --wait, false with --no-wait.
  const waitForBatches = options.wait !== false;
  if (options.wait === false && options.batch !== true) throw new UsageError("--no-wait only applies to --batch runs");
  const lockWaitMs =
    options.wait === undefined || options.wait === false
      ? 0
      : options.wait === true
        ? Infinity
        : 1000 * parseNumber("--wait", options.wait, { min: 0 }, "a number of seconds");
  const pollIntervalMs = 1000 * parseNumber("--poll-interval", options.pollInterval ?? "30", { min: 0.001, max: MAX_WAIT_SECONDS }, "a number of seconds from 0.001 to 86400 (24 hours)");
  const quiet = options.quiet === true;
  let progress: ProgressReporter = silentProgress;
  const notice = (line: string) => {
    if (quiet) return;
    const text = `silicon: ${redactSecrets(line)}`;
    // Batch notices arrive while the bar is drawn: printed above it, not into it.
    if (progress.note !== undefined) progress.note(text);
    else process.stderr.write(`${text}\n`);
  };

  const study = loaded ?? (await loadStudy(studyFile));
  const label = `generate ${study.study.name}`;
  progress = quiet
    ? silentProgress
    : process.stderr.isTTY && process.stdout.isTTY
      ? barProgress(label)
      : lineProgress(`silicon: ${label}`);

  const stop = new AbortController();
  const abort = new AbortController();
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts += 1;
    if (interrupts === 1) {
      process.stderr.write("\nsilicon: stopping: no new requests; finishing those in flight (Ctrl-C again to abandon them)\n");
      stop.abort(new Error("interrupted"));
    } else abort.abort(new Error("interrupted"));
  };
  process.on("SIGINT", onInterrupt);
  process.on("SIGTERM", onInterrupt);
  try {
    const summary = await generate(study, {
      ...(options.model === undefined ? {} : { model: options.model }),
      dryRun: options.dryRun === true,
      ...(maxCostUsd === undefined ? {} : { maxCostUsd }),
      ...(concurrency === undefined ? {} : { concurrency }),
      resultsDir: options.results ?? "results",
      timeoutMs,
      lockWaitMs,
      ...(options.batch === true ? { batch: true, wait: waitForBatches, pollIntervalMs } : {}),
      progress,
      argv: process.argv.slice(2),
      stopSignal: stop.signal,
      abortSignal: abort.signal,
      log: notice,
    });
    if (summary.kind === "dry-run") {
      process.stdout.write(formatDryRun(summary));
      // Whether what these calls would buy can be calibrated at the study's α: refused (exit 2) when not.
      const { checkBeforeGenerating } = await import("./preflight-text.ts");
      checkBeforeGenerating(study, { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) }, { print: true, allow: options.allowInfeasible === true });
      return undefined;
    }
    process.stdout.write(formatRunSummary(summary) + "\n");
    const remaining = summary.pending - summary.totals.done;
    if (summary.status === "stopped") {
      throw new InterruptedError(`stopped by the user with ${remaining} cell(s) left; run the same command again to resume`);
    }
    if (summary.status === "budget") {
      throw new BudgetError(`${summary.message}; ${remaining} cell(s) left; rerun with a higher --max-cost (or budget) to continue`);
    }
    const verdict = vendorFailureVerdict(summary.totals.vendorFailures, summary.totals.done);
    if (verdict?.tooMany === true) {
      const last = summary.totals.lastFailure === undefined ? "" : `; the last failure: ${summary.totals.lastFailure}`;
      throw new SiliconError(
        `${summary.totals.vendorFailures} of the ${summary.totals.done} cells this run settled ended as nonresponse after vendor failures, ` +
          `more than the ${100 * MAX_VENDOR_FAILURE_SHARE}% a run may lose${last}; rerun to ask them again`,
      );
    }
    return summary;
  } finally {
    process.off("SIGINT", onInterrupt);
    process.off("SIGTERM", onInterrupt);
  }
}

/** The longest --timeout and --poll-interval: a day, well under what Node's timers can hold. */
const MAX_WAIT_SECONDS = 86_400;

function parseNumber(flag: string, text: string, rule: { min: number; max?: number; integer?: boolean }, expected: string): number {
  const value = Number(text);
  const tooLarge = rule.max !== undefined && value > rule.max;
  if (text.trim() === "" || !Number.isFinite(value) || value < rule.min || tooLarge || (rule.integer === true && !Number.isInteger(value))) {
    throw new UsageError(`${flag} expects ${expected}; got ${JSON.stringify(text)}`);
  }
  return value;
}

/** One line: what was asked, what came back, what it cost, where it went. */
export function formatRunSummary(summary: RunSummary): string {
  const t = summary.totals;
  const models = summary.models.join(", ");
  const outcome = [`${t.answered} answered`];
  if (t.refusals > 0) outcome.push(`${t.refusals} refused`);
  if (t.nonresponse > 0) outcome.push(`${t.nonresponse} nonresponse`);
  const batch = t.batchCalls > 0 ? ` (${t.batchCalls} in batches, at batch prices)` : "";
  const calls = `${t.callsSent} call${t.callsSent === 1 ? "" : "s"} sent${batch}${t.callsFailed > 0 ? ` (${t.callsFailed} failed)` : ""}, ${t.cacheHits} from the store, ${costNote(t)}`;
  const before = summary.done > 0 ? ` (${summary.done} already stored)` : "";
  const status = summary.status === "completed" ? "" : ` [${summary.status}]`;
  const extras = [vendorFailureVerdict(t.vendorFailures, t.done)?.note, cacheNote(summary), waitingNote(summary), distributionNote(summary), endpointNote(summary)].filter(
    (note) => note !== undefined,
  );
  return (
    `${summary.study}${status}: ${summary.cells} cells for ${models}${before}; this run ${outcome.join(", ")}; ${calls}; ` +
    extras.map((note) => `${note}; `).join("") +
    `${summary.exports.rewritten === false ? "unchanged:" : "wrote"} ${summary.exports.csv} and ${summary.exports.parquet} (${summary.exports.rows} rows)`
  );
}

/**
 * What the run cost: what the vendors' replies said they billed; and, when
 * some replies never told (timeouts, dropped connections, garbled bodies
 * without usage), the run's estimate of the whole bill with those calls
 * estimated and how, and its worst case: the vendor's bill lies between the
 * first figure and the last (docs/guarantees.md, "Cost against the vendor's bill").
 */
export function costNote(t: RunSummary["totals"]): string {
  if (t.unknownBillingCalls === 0) return formatUsd(t.costUsd);
  const about = usdToCentsOrThreeDigits(t.costUsd + t.unknownBillingEstimateUsd);
  const atMost = usdToCentsOrThreeDigits(t.costUsd + t.unknownBillingUsd);
  return `${usdToCentsOrThreeDigits(t.costUsd)} billed, about ${about} in all (${unknownBillingNote(t)}; at most ${atMost})`;
}

/** Cents from $0.10 up, else three significant digits: the three figures of a small run stay apart ($0.0287, $0.0306, $0.0538). */
function usdToCentsOrThreeDigits(usd: number): string {
  return usd >= 0.1 || usd === 0 ? formatUsd(usd) : `$${usd.toPrecision(3)}`;
}

/** "14 calls whose billing is unknown estimated from their retries", or how many were estimated each way. */
function unknownBillingNote(t: RunSummary["totals"]): string {
  const calls = `${t.unknownBillingCalls} call${t.unknownBillingCalls === 1 ? "" : "s"} whose billing is unknown`;
  const fromRetries = t.unknownBillingCalls - t.unknownBillingFromItemCalls - t.unknownBillingAtWorstCaseCalls;
  const ways = [
    { count: fromRetries, one: "from its retries", many: "from their retries" },
    { count: t.unknownBillingFromItemCalls, one: "from replies to its item", many: "from replies to their item" },
    { count: t.unknownBillingAtWorstCaseCalls, one: "at its worst case", many: "at their worst case" },
  ].filter((way) => way.count > 0);
  const how = (way: (typeof ways)[number]) => (way.count === 1 ? way.one : way.many);
  if (ways.length === 1) return `${calls} estimated ${how(ways[0]!)}`;
  return `${calls}, estimated: ${ways.map((way) => `${way.count} ${how(way)}`).join(", ")}`;
}

/** What the vendors' prompt caches read and what that saved against the same tokens uncached. */
function cacheNote(summary: RunSummary): string | undefined {
  const t = summary.totals;
  if (t.cachedInputTokens === 0 && t.cacheWriteTokens === 0) return undefined;
  const share = t.inputTokens > 0 ? Math.round((100 * t.cachedInputTokens) / t.inputTokens) : 0;
  const saved = t.cacheSavingsUsd >= 0 ? `saved ${formatUsd(t.cacheSavingsUsd)}` : `cost ${formatUsd(-t.cacheSavingsUsd)} more (cache writes)`;
  return `prompt cache: ${t.cachedInputTokens} of ${t.inputTokens} input tokens read from it (${share}%), ${saved}`;
}

function waitingNote(summary: RunSummary): string | undefined {
  if (summary.waitingInBatches === 0) return undefined;
  if (summary.batch === undefined) return `${summary.waitingInBatches} request(s) waiting in vendor batches: run silicon generate --batch to collect them`;
  const batches = `, ${summary.batch.submitted} batch${summary.batch.submitted === 1 ? "" : "es"} submitted now`;
  return `${summary.waitingInBatches} request(s) waiting in vendor batches${batches}: run silicon generate --batch again to collect them`;
}

function distributionNote(summary: RunSummary): string | undefined {
  const d = summary.distributions;
  if (d === undefined || d.answers === 0) return undefined;
  const percent = (p: number) => `${(100 * p).toFixed(p < 0.001 ? 2 : 1)}%`;
  return `${d.answers} answer distributions, probability off the options ${percent(d.meanNonOptionMass)} on average (at most ${percent(d.maxNonOptionMass)})`;
}

function endpointNote(summary: RunSummary): string | undefined {
  const parts = Object.entries(summary.endpoints).map(
    ([model, endpoints]) =>
      `${model}: ${endpoints.map((e) => `${e.name} ${e.sent} sent${e.failed > 0 ? `/${e.failed} failed` : ""}${e.trips > 0 ? `, taken out ${e.trips}×` : ""}`).join(", ")}`,
  );
  return parts.length === 0 ? undefined : `endpoints ${parts.join("; ")}`;
}

export function formatDryRun(summary: DryRunSummary): string {
  const lines: string[] = [];
  lines.push(`Dry run of ${summary.studyFile} (study ${summary.study}): nothing sent, nothing written.`);
  const stored = summary.done > 0 || summary.stale > 0 || summary.retried > 0;
  lines.push(
    `Cells: ${summary.cells}` +
      (stored ? ` (${summary.done} already stored, ${summary.pending} to ask${summary.stale > 0 ? `, ${summary.stale} of them because the prompt changed` : ""})` : ", all to ask"),
  );
  if (summary.batch) lines.push("Priced at the vendors' batch prices (--batch).");
  if (summary.mode === "logprobs") lines.push("logprobs elicitation: choice items are asked once for one token (output 1 token per call).");
  if (summary.mode === "questionnaire") lines.push("questionnaire elicitation: one conversation per respondent and generation; each turn carries the questions and answers before it.");
  const header = ["model", "calls", "from store", "input tokens", "output tokens", "est. cost", "worst case"];
  const rows = summary.models.map((m) => [m.model, m.calls, m.cachedCalls, m.inputTokens, m.outputTokens, formatUsd(m.costUsd), formatUsd(m.worstCaseUsd)]);
  if (summary.models.length > 1) {
    const t = summary.total;
    rows.push(["total", t.calls, t.cachedCalls, t.inputTokens, t.outputTokens, formatUsd(t.costUsd), formatUsd(t.worstCaseUsd)]);
  }
  lines.push(...table([header, ...rows.map((row) => row.map(String))]));
  for (const m of summary.models) {
    lines.push(`  ${m.model}: USD per million tokens: input ${m.price.input}, output ${m.price.output}${m.price.cached_input === undefined ? "" : `, cached input ${m.price.cached_input}`}`);
  }
  lines.push(
    "Estimates: input tokens are the rendered prompts' characters / 4; output is 8 tokens per answer; re-asks of invalid answers come on top.",
    "Worst case: every request at its largest possible input (UTF-8 bytes) and max_tokens of output; --max-cost reserves this before each send.",
  );
  if (summary.maxCostUsd !== undefined) lines.push(`Cap: --max-cost ${formatUsd(summary.maxCostUsd)} for this run.`);
  else if (summary.studyBudgetUsd !== undefined) lines.push(`Cap: the study's budget.max_cost_usd, ${formatUsd(summary.studyBudgetUsd)} for this run (--max-cost overrides it).`);
  const waiting = summary.models.reduce((n, m) => n + m.waitingInBatches, 0);
  if (waiting > 0) lines.push(`${waiting} request(s) are waiting in vendor batches from earlier runs: --batch collects them; they are never sent again.`);
  if (summary.spentUsd > 0) lines.push(`Spent (or committed to batches) on this study by earlier runs: ${formatUsd(summary.spentUsd)}.`);
  return lines.join("\n") + "\n";
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  "));
}
