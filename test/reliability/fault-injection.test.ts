/**
 * Fault injection: `generate()` with the real loader, the real OpenAI and
 * Anthropic providers (official SDKs over HTTP) and the real store, against
 * the fake vendor on loopback throwing a 429 storm (half of all requests)
 * plus 500/502/503/529, connection resets, responses slower than the
 * timeout, malformed and truncated bodies.
 *
 * The run completes; every cell ends answered, refused, or nonresponse with
 * its reason; and the store's accounts reconcile with the vendor's own:
 * every request the vendor received is one row of `calls`; every response
 * it delivered intact is one completed call (per request key), with the same
 * tokens; every response it billed but the client could not use (timed out,
 * garbled) is a failed call counted at its worst case; and no stored
 * response is ever paid for twice.
 */
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadStudy } from "../../src/config/load.ts";
import { costNote } from "../../src/cli/generate.ts";
import { generate, type RunSummary } from "../../src/generation/run.ts";
import { writeStudy } from "../helpers/cli.ts";
import { startFakeVendor, type Fault, type FakeVendor, type VendorStats } from "../helpers/fake-vendor.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir("silicon-faults-");
let vendor: FakeVendor | undefined;
afterEach(async () => {
  await vendor?.close();
  vendor = undefined;
});

/** Half of all requests get a 429; a few percent each of every other fault. */
const STORM: Partial<Record<Fault, number>> = {
  "429": 0.5,
  "500": 0.02,
  "502": 0.02,
  "503": 0.02,
  "529": 0.02,
  reset: 0.02,
  slow: 0.02,
  malformed: 0.02,
  truncated: 0.02,
  empty: 0.02,
};

/** The error class the provider raises for each injected fault. */
const ERROR_OF_FAULT: Record<Fault, string> = {
  "429": "RateLimitError",
  "500": "ServerError",
  "502": "ServerError",
  "503": "ServerError",
  "529": "OverloadedError",
  reset: "ConnectionError",
  slow: "TimeoutError",
  malformed: "MalformedResponseError",
  truncated: "MalformedResponseError",
  empty: "MalformedResponseError",
};

/** USD per million tokens, given in the study so costs are not zero. */
const PRICE = { input: 2, output: 8, cached_input: 0.2 };

/** Far beyond any answer's latency on a loaded machine; only the "slow" fault (held until abandoned) reaches it. */
const TIMEOUT_MS = 2_000;

const RESPONDENTS = 30;
const ITEMS = 3;
const GENERATIONS = 2;
const CELLS = RESPONDENTS * ITEMS * GENERATIONS;

interface CallRow {
  id: number;
  run_id: number;
  request_key: string;
  status: string;
  error_class: string | null;
  cost_usd: number | null;
  reserved_usd: number;
  vendor_request_id: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_input_tokens: number | null;
}

interface AnswerRow {
  respondent: string;
  item: string;
  generation: number;
  status: string;
  value: number | null;
  reason: string | null;
  transient: number;
  call_id: number | null;
}

function readStore(dir: string): { calls: CallRow[]; answers: AnswerRow[]; integrity: string } {
  const db = new DatabaseSync(join(dir, "results/cli-study/store.sqlite"), { readOnly: true });
  try {
    return {
      calls: db.prepare("SELECT * FROM calls ORDER BY id").all() as unknown as CallRow[],
      answers: db.prepare("SELECT * FROM answers").all() as unknown as AnswerRow[],
      integrity: (db.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check,
    };
  } finally {
    db.close();
  }
}

async function runStudy(dir: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<RunSummary> {
  const study = await loadStudy(join(dir, "study.yaml"));
  const summary = await generate(study, {
    env,
    resultsDir: join(dir, "results"),
    timeoutMs,
    concurrency: 8,
    // Backoff in milliseconds rather than seconds, so the storm passes quickly;
    // the policy (6 sends, then nonresponse) is the default one.
    retry: { baseDelayMs: 4, maxDelayMs: 40 },
  });
  if (summary.kind !== "run") throw new Error("expected a run");
  return summary;
}

/**
 * Every request the vendor saw is a row of `calls`, and the vendor's count of
 * billed responses per request key is exactly the completed calls for that
 * key plus the responses it billed but the client could not use.
 */
function reconcile(calls: CallRow[]): void {
  const v = vendor!;
  expect(calls).toHaveLength(v.stats.received);

  const completed = calls.filter((c) => c.status === "completed");
  const completedByVendorKey = new Map<string, number>();
  for (const call of completed) {
    const key = v.stats.keyOfResponse.get(call.vendor_request_id!);
    expect(key, `completed call ${call.id} has a response the vendor sent`).toBeDefined();
    completedByVendorKey.set(key!, (completedByVendorKey.get(key!) ?? 0) + 1);
  }
  for (const [key, count] of v.stats.byKey) {
    expect(count.billed - count.unusable, `request ${key.slice(0, 12)}`).toBe(completedByVendorKey.get(key) ?? 0);
  }
  // A response stored once is never paid for again: one completed call per request.
  // (Two generations may send identical bodies, e.g. Anthropic's, which take no
  // seed: the vendor sees one body twice, silicon two requests of two cells.)
  expect(new Set(completed.map((c) => c.request_key)).size).toBe(completed.length);

  // Each injected fault is one failed call of the matching class.
  const failedByClass = new Map<string, number>();
  for (const call of calls) if (call.status === "failed") failedByClass.set(call.error_class!, (failedByClass.get(call.error_class!) ?? 0) + 1);
  const injectedByClass = new Map<string, number>();
  for (const [fault, n] of Object.entries(v.stats.faults)) {
    const errorClass = ERROR_OF_FAULT[fault as Fault];
    injectedByClass.set(errorClass, (injectedByClass.get(errorClass) ?? 0) + n);
  }
  expect(Object.fromEntries(failedByClass)).toEqual(Object.fromEntries(injectedByClass));

  // Failures the vendor may have billed (it did the work) are counted at their
  // worst case, unless the reply said what it billed (`choices: []` with usage); the others cost nothing.
  for (const call of calls.filter((c) => c.status === "failed")) {
    const billingUnknown = ["TimeoutError", "ConnectionError", "MalformedResponseError"].includes(call.error_class!) && call.input_tokens === null;
    expect(call.cost_usd, `${call.error_class}`).toBe(billingUnknown ? null : call.input_tokens === null ? 0 : costOf(call));
  }
  const unusable = [...v.stats.byKey.values()].reduce((sum, c) => sum + c.unusable, 0);
  expect(unusable).toBe((v.stats.faults.slow ?? 0) + (v.stats.faults.malformed ?? 0) + (v.stats.faults.truncated ?? 0) + (v.stats.faults.empty ?? 0));
  // Every reply whose usage could be read is counted, failed or not: the store's cost is the vendor's
  // bill less the replies that never arrived readable, and those are covered by their worst case.
  const billed = v.stats.billedUsage;
  const unreadable = v.stats.unreadableUsage;
  const known = calls.reduce((s, c) => s + (c.cost_usd ?? 0), 0);
  expect(known).toBeCloseTo(priced(billed) - priced(unreadable), 12);
  const worstUnknown = calls.filter((c) => c.status === "failed" && c.cost_usd === null).reduce((s, c) => s + c.reserved_usd, 0);
  expect(priced(billed)).toBeLessThanOrEqual(known + worstUnknown);

  // Tokens and money: what was stored is what the vendor delivered.
  const sum = (pick: (c: CallRow) => number | null) => completed.reduce((s, c) => s + (pick(c) ?? 0), 0);
  expect(completed).toHaveLength(v.stats.delivered.responses);
  expect(sum((c) => c.input_tokens)).toBe(v.stats.delivered.inputTokens);
  expect(sum((c) => c.output_tokens)).toBe(v.stats.delivered.outputTokens);
  expect(sum((c) => c.cached_input_tokens)).toBe(v.stats.delivered.cachedInputTokens);
  const d = v.stats.delivered;
  const expectedUsd = ((d.inputTokens - d.cachedInputTokens) * PRICE.input + d.cachedInputTokens * PRICE.cached_input + d.outputTokens * PRICE.output) / 1e6;
  expect(sum((c) => c.cost_usd)).toBeCloseTo(expectedUsd, 12);
}

/** The test study for `model` at PRICE, and the environment pointing both vendors at the fake one. */
function pricedStudy(model: string, n: boolean, maxTokens?: number): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = tempDir();
  writeStudy(dir, {
    respondents: RESPONDENTS,
    generations: GENERATIONS,
    models: [model],
    extra:
      `prices:\n  "${model}": { input: ${PRICE.input}, output: ${PRICE.output}, cached_input: ${PRICE.cached_input} }\n` +
      (maxTokens !== undefined ? `max_tokens: ${maxTokens}\n` : ""),
  });
  const env: NodeJS.ProcessEnv = {
    OPENAI_BASE_URL: vendor!.baseURL,
    OPENAI_API_KEY: "sk-faults-test-000000",
    ANTHROPIC_BASE_URL: vendor!.anthropicBaseURL,
    ANTHROPIC_API_KEY: "sk-ant-faults-test-000000",
    SILICON_OPENAI_N: n ? "true" : "false",
  };
  return { dir, env };
}

function priced(usage: { inputTokens: number; outputTokens: number; cachedInputTokens: number }): number {
  return ((usage.inputTokens - usage.cachedInputTokens) * PRICE.input + usage.cachedInputTokens * PRICE.cached_input + usage.outputTokens * PRICE.output) / 1e6;
}

function costOf(call: CallRow): number {
  return priced({ inputTokens: call.input_tokens!, outputTokens: call.output_tokens!, cachedInputTokens: call.cached_input_tokens! });
}

/** Every cell has exactly one answer: a value, a refusal or a nonresponse with its reason. */
function expectEveryCellSettled(answers: AnswerRow[], calls: CallRow[]): void {
  expect(answers).toHaveLength(CELLS);
  expect(new Set(answers.map((a) => `${a.respondent}|${a.item}|${a.generation}`)).size).toBe(CELLS);
  const callById = new Map(calls.map((c) => [c.id, c]));
  for (const answer of answers) {
    const call = callById.get(answer.call_id!);
    expect(call, "every answer names the call that decided it").toBeDefined();
    if (answer.status === "answered") {
      expect(answer.value).not.toBeNull();
      expect(call!.status).toBe("completed");
    } else if (answer.status === "refusal") {
      expect(answer.reason).toMatch(/can't share/);
      expect(call!.status).toBe("completed");
    } else {
      expect(answer.status).toBe("nonresponse");
      expect(answer.transient).toBe(1);
      expect(answer.reason).toMatch(
        /^vendor failure: gave up after 6 tries; last (RateLimitError|ServerError|OverloadedError|ConnectionError|TimeoutError|MalformedResponseError): \S/,
      );
      expect(call!.status).toBe("failed");
    }
  }
}

describe.each([
  { vendorName: "OpenAI Chat Completions", model: "openai:fake-model", n: false },
  { vendorName: "OpenAI Chat Completions with n = 2", model: "openai:fake-model", n: true },
  { vendorName: "Anthropic Messages", model: "anthropic:claude-fake", n: false },
])("a storm of faults from $vendorName", ({ model, n }) => {
  it("completes; every cell is answered or nonresponse with its reason; the store reconciles with the vendor's billing", async () => {
    vendor = await startFakeVendor({
      faults: STORM,
      retryAfterMs: 5,
      // A slow response is answered only once the client has given up on it: a timeout by construction,
      // and no other response comes near the client's timeout, however busy the machine.
      slowMs: "abandoned",
      latencyMs: [0, 4],
      refusalRate: 0.03,
      prefixCaching: true,
      seed: 11,
    });
    const { dir, env } = pricedStudy(model, n);

    const first = await runStudy(dir, env, TIMEOUT_MS);
    await vendor.settled();
    expect(first.status).toBe("completed");
    const afterStorm = readStore(dir);
    expect(afterStorm.integrity).toBe("ok");
    expectEveryCellSettled(afterStorm.answers, afterStorm.calls);
    reconcile(afterStorm.calls);
    // The storm really happened, and some cells really ran out of tries.
    expect(vendor.stats.faults["429"]! / vendor.stats.received).toBeGreaterThan(0.4);
    for (const fault of Object.keys(STORM)) expect(vendor.stats.faults[fault as Fault], fault).toBeGreaterThan(0);
    const gaveUp = afterStorm.answers.filter((a) => a.status === "nonresponse").length;
    expect(gaveUp).toBeGreaterThan(0);
    expect(first.totals).toMatchObject({ nonresponse: gaveUp, done: CELLS, callsSent: afterStorm.calls.length });
    expect(first.totals.answered + first.totals.refusals + first.totals.nonresponse).toBe(CELLS);

    // The storm passes; the next run asks exactly the cells that ran out of tries.
    vendor.set({ faults: {} });
    const received = vendor.stats.received;
    const second = await runStudy(dir, env, TIMEOUT_MS);
    await vendor.settled();
    expect(second.status).toBe("completed");
    expect(second.done).toBe(CELLS - gaveUp);
    expect(second.totals.done).toBe(gaveUp);
    const calm = readStore(dir);
    expect(calm.integrity).toBe("ok");
    expect(calm.answers.filter((a) => a.status === "nonresponse")).toEqual([]);
    expect(calm.answers).toHaveLength(CELLS);
    reconcile(calm.calls);
    // With n = 2, a failed call covers both generations of a respondent and item.
    expect(vendor.stats.received - received).toBe(n ? gaveUp / 2 : gaveUp);
  });
});

describe("a batch run (OpenAI Batch API) with faults", () => {
  it("retries failed API calls and expired or failed lines in follow-up batches; every request billed once, every cell answered", async () => {
    vendor = await startFakeVendor({
      seed: 5,
      // The first create, the second poll and the first download fail; lines expire or fail now and then.
      batchCallFault: (call) =>
        (call.operation === "create" && call.number === 1) || (call.operation === "content" && call.number === 1)
          ? "500"
          : call.operation === "retrieve" && call.number === 2
            ? "reset"
            : undefined,
      batchLineFault: (request) => {
        const draw = parseInt(request.key.slice(0, 8), 16) / 0x1_0000_0000;
        const seen = vendor!.count(request.key).received;
        // A line fails in its first batch only, so the follow-up batch answers it.
        return seen > 1 ? undefined : draw < 0.1 ? "batch_expired" : draw < 0.15 ? "server_error" : undefined;
      },
    });
    const dir = tempDir();
    writeStudy(dir, { respondents: RESPONDENTS, generations: GENERATIONS, extra: `prices:\n  "openai:fake-model": { input: ${PRICE.input}, output: ${PRICE.output}, cached_input: ${PRICE.cached_input} }\n` });
    const study = await loadStudy(join(dir, "study.yaml"));
    const summary = await generate(study, {
      env: { OPENAI_BASE_URL: vendor.baseURL, OPENAI_API_KEY: "sk-batch-faults-000000", SILICON_OPENAI_N: "false" },
      resultsDir: join(dir, "results"),
      batch: true,
      pollIntervalMs: 10,
      retry: { baseDelayMs: 4, maxDelayMs: 40 },
    });
    if (summary.kind !== "run") throw new Error("expected a run");
    expect(summary.status).toBe("completed");
    const { calls, answers, integrity } = readStore(dir);
    expect(integrity).toBe("ok");
    expect(answers).toHaveLength(CELLS);
    expect(answers.every((a) => a.status === "answered")).toBe(true);
    // Some lines really failed and went into a follow-up batch.
    const failedLines = calls.filter((c) => c.status === "failed");
    expect(failedLines.length).toBeGreaterThan(0);
    expect(vendor.stats.batches.created).toBeGreaterThanOrEqual(2);
    // The failed batch API calls were retried.
    expect(vendor.stats.faults).toEqual({ "500": 2, reset: 1 });
    // Billing: each request billed exactly once, and that response is the one stored.
    const completed = calls.filter((c) => c.status === "completed");
    expect(vendor.repeatedPaidKeys()).toEqual([]);
    expect(vendor.stats.billed).toBe(completed.length);
    for (const call of completed) expect(vendor.count(vendor.stats.keyOfResponse.get(call.vendor_request_id!)!).billed).toBe(1);
    const d = vendor.stats.delivered;
    const stored = completed.reduce((s, c) => s + (c.cost_usd ?? 0), 0);
    // Batch requests cost half (the default batch_factor).
    expect(stored).toBeCloseTo((0.5 * ((d.inputTokens - d.cachedInputTokens) * PRICE.input + d.cachedInputTokens * PRICE.cached_input + d.outputTokens * PRICE.output)) / 1e6, 12);
  });
});

/** The dearest input rate at PRICE: a cache write (1.25 × input, the default when the study gives none). */
const DEAREST_INPUT = Math.max(PRICE.input, 1.25 * PRICE.input, PRICE.cached_input);

// max_tokens: 200 is the default (and the example study's); 16 is ample for these short answers.
describe.each([
  { vendorName: "OpenAI Chat Completions", model: "openai:fake-model", maxTokens: 200 },
  { vendorName: "Anthropic Messages", model: "anthropic:claude-fake", maxTokens: 200 },
  { vendorName: "OpenAI Chat Completions", model: "openai:fake-model", maxTokens: 16 },
  { vendorName: "Anthropic Messages", model: "anthropic:claude-fake", maxTokens: 16 },
])("the cost a run reports against the vendor's bill (GET /__stats), $vendorName, max_tokens $maxTokens", ({ model, maxTokens }) => {
  it("counts every reply that said what it billed, bounds the ones that never did by their worst case, and estimates the bill within 1%", async () => {
    vendor = await startFakeVendor({
      // Malformed bodies that bill and say so (choices: [], a text block without text), garbled and
      // cut-off bodies that bill without saying, and replies that come after the client gave up.
      faults: { empty: 0.08, malformed: 0.02, truncated: 0.02, slow: 0.02 },
      slowMs: "abandoned",
      latencyMs: [0, 2],
      prefixCaching: true,
      seed: 23,
    });
    const { dir, env } = pricedStudy(model, false, maxTokens);
    const summary = await runStudy(dir, env, TIMEOUT_MS);
    await vendor.settled();
    const stats = (await (await fetch(new URL("/__stats", vendor.anthropicBaseURL))).json()) as Pick<VendorStats, "billedUsage" | "unreadableUsage" | "faults">;
    for (const fault of ["empty", "malformed", "truncated", "slow"] as const) expect(stats.faults[fault], fault).toBeGreaterThan(0);
    const bill = priced(stats.billedUsage);
    const unreadable = priced(stats.unreadableUsage);
    const reported = summary.totals.costUsd;
    const unknownCalls = summary.totals.unknownBillingCalls;
    const bound = reported + summary.totals.unknownBillingUsd;
    // Every reply that said what it billed is in the reported cost (before, choices: [] was dropped: 8% of the bill).
    const readableRatio = reported / (bill - unreadable);
    expect(Math.abs(readableRatio - 1)).toBeLessThan(0.01);
    expect(reported).toBeCloseTo(bill - unreadable, 12);
    // The rest is said apart, at its worst case: the bill lies between the two figures.
    expect(unknownCalls).toBe((stats.faults.malformed ?? 0) + (stats.faults.truncated ?? 0) + (stats.faults.slow ?? 0));
    expect(bill).toBeGreaterThanOrEqual(reported);
    expect(bill).toBeLessThanOrEqual(bound);
    // Each unknown call's next try said the input tokens of the same body, so the worst case holds
    // exactly the input tokens the vendor billed for them (at the dearest input rate: whether its
    // cache was read is not known), and max_tokens of output each (what each generated is not known).
    // Before, each was bounded by its bytes plus 600 tokens of framing: 2.9 × the bill.
    const tightest = (stats.unreadableUsage.inputTokens * DEAREST_INPUT + unknownCalls * maxTokens * PRICE.output) / 1e6;
    expect(summary.totals.unknownBillingUsd).toBeCloseTo(tightest, 12);
    // The store keeps each one's reservation (the budget's byte-based worst case, what the next run counts).
    const { calls } = readStore(dir);
    const unknownInStore = calls.filter((c) => c.status === "failed" && c.cost_usd === null);
    expect(unknownInStore).toHaveLength(unknownCalls);
    const reservedUnknown = unknownInStore.reduce((s, c) => s + c.reserved_usd, 0);
    expect(summary.totals.unknownBillingUsd).toBeLessThan(reservedUnknown);
    // What stands between the bound and the bill is what no client can know of those calls.
    const outputSlack = ((unknownCalls * maxTokens - stats.unreadableUsage.outputTokens) * PRICE.output) / 1e6;
    const rateSlack = (stats.unreadableUsage.inputTokens * DEAREST_INPUT) / 1e6 - (unreadable - (stats.unreadableUsage.outputTokens * PRICE.output) / 1e6);
    expect(bound - bill).toBeCloseTo(outputSlack + rateSlack, 12);
    // The estimate: each unknown call at what the replies to its other tries cost (the same body, billed
    // the same input tokens; their output the best guess of its own). It lands within 1% of the bill.
    const t = summary.totals;
    const estimated = reported + t.unknownBillingEstimateUsd;
    const fromRetries = unknownCalls - t.unknownBillingFromItemCalls - t.unknownBillingAtWorstCaseCalls;
    console.log(
      `estimate vs the vendor's bill (${model}, max_tokens ${maxTokens}): estimated / bill = ${(estimated / bill).toFixed(4)}, ` +
        `billed / bill = ${(reported / bill).toFixed(4)}, at most / bill = ${(bound / bill).toFixed(3)}; ` +
        `the ${unknownCalls} unknown calls estimated at ${(t.unknownBillingEstimateUsd / unreadable).toFixed(3)} × what they cost ` +
        `(${fromRetries} from their retries, ${t.unknownBillingFromItemCalls} from replies to their item, ${t.unknownBillingAtWorstCaseCalls} at their worst case); ` +
        `summary: ${t.callsSent} calls sent (${t.callsFailed} failed), ${costNote(t)}`,
    );
    expect(Math.abs(estimated - bill) / bill).toBeLessThan(0.01);
    expect(t.unknownBillingEstimateUsd).toBeLessThanOrEqual(t.unknownBillingUsd);
    console.log(
      `cost vs the vendor's bill (${model}, max_tokens ${maxTokens}): bill $${bill.toFixed(6)}, reported $${reported.toFixed(6)} billed ` +
        `(ratio ${(reported / bill).toFixed(4)}; ${readableRatio.toFixed(6)} of the replies that said what they billed), ` +
        `+ up to $${summary.totals.unknownBillingUsd.toFixed(6)} for ${unknownCalls} calls whose billing is unknown: ` +
        `reported + worst case = ${(bound / bill).toFixed(3)} × the bill (${((reported + reservedUnknown) / bill).toFixed(3)} × at the byte-based reservations); ` +
        `over the bill: output at max_tokens ${((100 * outputSlack) / bill).toFixed(1)}%, input at the dearest rate ${((100 * rateSlack) / bill).toFixed(1)}% ` +
        `(within 1% needs the unknown calls bounded within ${((100 * 0.01 * bill) / unreadable).toFixed(0)}% of their $${unreadable.toFixed(6)}; ` +
        `their input at the dearest rate alone is ${((unreadable + rateSlack) / unreadable).toFixed(2)} × it, ` +
        `${((100 * stats.unreadableUsage.cachedInputTokens) / stats.unreadableUsage.inputTokens).toFixed(0)}% of their input tokens were cache reads)`,
    );
  });
});
