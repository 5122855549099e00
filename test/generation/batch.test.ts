/**
 * `generate --batch` end to end on the engine: requests gathered into
 * batches, polled, collected and stored like synchronous responses; failed
 * and expired requests retried in follow-up batches or recorded; batches
 * that outlive the run collected by a later one; the offline emulation for
 * simulated models.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it, vi } from "vitest";
import { formatRunSummary } from "../../src/cli/generate.ts";
import { loadStudy } from "../../src/config/load.ts";
import { AuthError, ConnectionError, StoreError, TimeoutError } from "../../src/errors.ts";
import { Store } from "../../src/store/store.ts";
import { generate, type GenerateOptions, type RunSummary } from "../../src/generation/run.ts";
import type { StudyLike } from "../../src/generation/types.ts";
import { writeStudy } from "../helpers/cli.ts";
import { ManualClock } from "../helpers/clock.ts";
import { FakeBatchApi, withBatchApi } from "../helpers/fake-batch.ts";
import { fakeDeps, FakeProvider, TEST_PRICE } from "../helpers/fake-provider.ts";
import { makeStudy } from "../helpers/study.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir();

interface Setup {
  provider: FakeProvider;
  api: FakeBatchApi;
  clock: ManualClock;
  lines: string[];
}

function setup(options: { pollsBeforeEnd?: number; respond?: ConstructorParameters<typeof FakeProvider>[0] } = {}): Setup {
  const provider = new FakeProvider({ capabilities: { multipleChoices: true }, inputTokens: () => 100, outputTokensPerChoice: 5, ...options.respond });
  const api = new FakeBatchApi(provider, { pollsBeforeEnd: options.pollsBeforeEnd ?? 2 });
  return { provider: withBatchApi(provider, api), api, clock: new ManualClock(), lines: [] };
}

async function run(study: StudyLike, s: Setup, options: Partial<GenerateOptions>): Promise<RunSummary> {
  const summary = await generate(study, {
    deps: fakeDeps(s.provider, TEST_PRICE),
    clock: s.clock,
    batch: true,
    log: (line) => s.lines.push(line),
    ...options,
  });
  if (summary.kind !== "run") throw new Error("expected a run");
  return summary;
}

function query(summary: RunSummary, sql: string): Record<string, unknown>[] {
  const db = new DatabaseSync(join(summary.storeDir, "store.sqlite"), { readOnly: true });
  try {
    return db.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

/** Submits a batch without waiting, lets the vendor forget it, and runs again. */
async function runAfterVendorForgot(): Promise<{ s: Setup; summary: RunSummary }> {
  const s = setup({ pollsBeforeEnd: 5 });
  const study = makeStudy({ respondents: 1 });
  const resultsDir = tempDir();
  await run(study, s, { resultsDir, wait: false });
  s.api.forget();
  s.api.pollsBeforeEnd = 0;
  return { s, summary: await run(study, s, { resultsDir }) };
}

describe("a batch run", () => {
  it("submits every request in one batch, polls with growing pauses, and stores the results like synchronous ones, at the batch price", async () => {
    const s = setup({ pollsBeforeEnd: 2 });
    const study = makeStudy({ respondents: 3, study: { generations: 2 } });
    const resultsDir = tempDir();
    const summary = await run(study, s, { resultsDir, pollIntervalMs: 60_000 });
    expect(summary.status).toBe("completed");
    expect(s.api.submitted).toHaveLength(1);
    expect(s.api.submitted[0]).toHaveLength(9);
    // The first poll comes at once, then 60 s, then 90 s.
    expect(s.clock.sleeps).toEqual([60_000, 90_000]);
    expect(summary.totals).toMatchObject({ answered: 18, callsSent: 9, batchCalls: 9, deferred: 0 });
    expect(summary.batch).toMatchObject({ submitted: 1, requests: 9, collected: 1, lost: 0 });
    // 9 calls × (100 input at $1 + 10 output at $4 per million) × 0.5
    expect(summary.totals.costUsd).toBeCloseTo((9 * (100 + 40) * 0.5) / 1e6, 15);
    const calls = query(summary, "SELECT status, batch_id, cost_usd FROM calls");
    expect(calls.every((c) => c.status === "completed" && c.batch_id === 1)).toBe(true);
    expect(query(summary, "SELECT status, vendor_batch_id, vendor_status, requests, request_counts, submitted_at IS NOT NULL AS s, polled_at IS NOT NULL AS p, collected_at IS NOT NULL AS c FROM batches")).toEqual([
      { status: "collected", vendor_batch_id: "batch_fake1", vendor_status: "completed", requests: 9, request_counts: '{"total":9,"completed":9,"failed":0}', s: 1, p: 1, c: 1 },
    ]);
    expect(s.lines).toEqual([
      "batch #1: submitted 9 requests for openai:fake-model (batch_fake1)",
      "batch: waiting for 1 batch (#1 openai:fake-model in_progress 0 of 9 done); next check in 1m00s",
      "batch: waiting for 1 batch (#1 openai:fake-model in_progress 0 of 9 done); next check in 1m30s",
      "batch #1: results stored (9 of 9 done)",
    ]);
    expect(formatRunSummary(summary)).toContain("9 calls sent (9 in batches, at batch prices)");

    // The same answers as a synchronous run.
    const sync = await generate(study, { deps: fakeDeps(new FakeProvider({ capabilities: { multipleChoices: true } })), resultsDir: tempDir(), clock: new ManualClock() });
    expect(readFileSync((sync as RunSummary).exports.csv, "utf8")).toBe(readFileSync(summary.exports.csv, "utf8"));
  });

  it("retries expired and errored requests in a follow-up batch, records rejected ones, and re-asks invalid answers in the next batch", async () => {
    const s = setup({
      pollsBeforeEnd: 0,
      respond: {
        respond: (request) =>
          request.subject!.item.id === "economy" && request.messages.length === 1
            ? [{ text: '{"answer": 9}', finishReason: "stop" }]
            : [{ text: request.subject!.item.id === "economy" ? '{"answer": 2}' : '{"answer": 1}', finishReason: "stop" }],
      },
    });
    s.api.fault = (request, submission) => {
      if (request.subject!.item.id !== "approve") return undefined;
      const r = request.subject!.respondentId;
      if (r === "r1") return submission === 1 ? "expired" : undefined;
      if (r === "r2") return submission <= 2 ? "errored" : undefined;
      if (r === "r3") return "rejected";
      return submission === 1 ? "missing" : undefined;
    };
    const study = makeStudy({ respondents: 4, items: [{ id: "approve", type: "binary", text: "Approve?" }, { id: "economy", type: "likert", text: "Economy?", options: [{ code: 1, label: "a" }, { code: 2, label: "b" }, { code: 3, label: "c" }] }] });
    const summary = await run(study, s, { resultsDir: tempDir() });
    const byBatch = s.api.batches.map((b) => b.requests.map((r) => `${r.request.subject!.respondentId}/${r.request.subject!.item.id}${r.request.messages.length > 1 ? "+reask" : ""}`).sort());
    expect(byBatch).toEqual([
      ["r1/approve", "r1/economy", "r2/approve", "r2/economy", "r3/approve", "r3/economy", "r4/approve", "r4/economy"],
      ["r1/approve", "r1/economy+reask", "r2/approve", "r2/economy+reask", "r3/economy+reask", "r4/approve", "r4/economy+reask"],
      ["r2/approve"],
    ]);
    const answers = query(summary, "SELECT respondent, item, value, status, reason, transient, attempts FROM answers ORDER BY respondent, item");
    expect(answers.filter((a) => a.item === "economy").every((a) => a.value === 2 && a.attempts === 2)).toBe(true);
    expect(answers.find((a) => a.respondent === "r3" && a.item === "approve")).toEqual({
      respondent: "r3",
      item: "approve",
      value: null,
      status: "nonresponse",
      reason: "vendor failure: BatchItemError: openai:fake-model: HTTP 400 invalid_request_error: max_tokens is too large",
      transient: 1,
      attempts: 1,
    });
    expect(answers.filter((a) => a.item === "approve" && a.respondent !== "r3").map((a) => a.value)).toEqual([1, 1, 1]);
    const r2 = query(summary, "SELECT try, status, error_class FROM calls WHERE respondent = 'r2' AND item = 'approve' ORDER BY id");
    expect(r2).toEqual([
      { try: 1, status: "failed", error_class: "BatchItemError" },
      { try: 2, status: "failed", error_class: "BatchItemError" },
      { try: 3, status: "completed", error_class: null },
    ]);
    expect(summary.totals).toMatchObject({ answered: 7, nonresponse: 1, retries: 4 });
  });

  it("with --no-wait submits and returns; a later run collects the batch from the store and sends nothing twice", async () => {
    const s = setup({ pollsBeforeEnd: 3 });
    const study = makeStudy({ respondents: 2 });
    const resultsDir = tempDir();
    const first = await run(study, s, { resultsDir, wait: false });
    expect(first.status).toBe("completed");
    expect(first.totals).toMatchObject({ answered: 0, callsSent: 6, deferred: 6 });
    expect(first.waitingInBatches).toBe(6);
    expect(s.clock.sleeps).toEqual([]);
    expect(formatRunSummary(first)).toContain("6 request(s) waiting in vendor batches, 1 batch submitted now: run silicon generate --batch again to collect them");
    expect(query(first, "SELECT status FROM calls").every((c) => c.status === "sent")).toBe(true);

    // A synchronous run meanwhile sends nothing for them.
    const sync = new FakeProvider();
    const between = (await generate(study, { deps: fakeDeps(sync), resultsDir, clock: new ManualClock(), log: (l) => s.lines.push(l) })) as RunSummary;
    expect(sync.requests).toHaveLength(0);
    expect(between.totals.deferred).toBe(6);
    expect(s.lines).toContain("note: 6 request(s) are waiting in vendor batches submitted earlier; they are not sent again: run with --batch to collect them");

    // Still running at the next no-wait look.
    const second = await run(study, s, { resultsDir, wait: false });
    expect(second.totals).toMatchObject({ answered: 0, callsSent: 0, deferred: 6 });
    const third = await run(study, s, { resultsDir });
    expect(s.api.submitted).toHaveLength(1);
    expect(third.totals).toMatchObject({ answered: 6, callsSent: 0, batchCalls: 0 });
    expect(third.totals.costUsd).toBeCloseTo((6 * (100 + 20) * 0.5) / 1e6, 15);
    expect(third.waitingInBatches).toBe(0);
    expect(s.lines).toContain("batch: 1 batch from earlier runs still open (#1); collecting their results");
    expect(query(third, "SELECT status FROM batches")).toEqual([{ status: "collected" }]);
  });

  it("asks again the requests of a batch the vendor no longer knows", async () => {
    const { s, summary } = await runAfterVendorForgot();
    expect(summary.totals).toMatchObject({ answered: 3, retries: 3 });
    expect(summary.batch).toMatchObject({ lost: 1, submitted: 1, collected: 1 });
    expect(s.lines).toContain("batch #1 lost: the vendor no longer knows batch batch_fake1; its 3 request(s) are asked again");
    expect(query(summary, "SELECT status FROM batches ORDER BY id").map((b) => b.status)).toEqual(["lost", "collected"]);
  });

  /** A store as if the process died after the vendor created its batch, before the store heard of it. */
  async function unconfirmedSubmission() {
    const s = setup({ pollsBeforeEnd: 0 });
    const study = makeStudy({ respondents: 1 });
    const resultsDir = tempDir();
    await run(study, s, { resultsDir, wait: false, pollIntervalMs: 1 });
    const db = new DatabaseSync(join(resultsDir, "test-study", "store.sqlite"));
    // (calls and answers are views: their rows are call_records and answer_records; status 0 is 'sent')
    db.exec("UPDATE batches SET status = 'submitting', vendor_batch_id = NULL; UPDATE call_records SET status = 0; DELETE FROM answer_records");
    db.close();
    return { s, study, resultsDir };
  }

  it("finds a batch whose submission a killed run never saw confirmed", async () => {
    const { s, study, resultsDir } = await unconfirmedSubmission();
    const summary = await run(study, s, { resultsDir });
    expect(s.api.submitted).toHaveLength(1);
    expect(summary.totals.answered).toBe(3);
  });

  it("leaves a batch a killed run never saw confirmed for the next run when the vendor cannot be asked about it", async () => {
    const { s, study, resultsDir } = await unconfirmedSubmission();
    const find = s.api.find.bind(s.api);
    s.api.find = async () => {
      throw new ConnectionError("openai:fake-model", "connection reset", { retryable: true });
    };
    const second = await run(study, s, { resultsDir, wait: false });
    expect(query(second, "SELECT status FROM batches")).toEqual([{ status: "submitting" }]);
    expect(query(second, "SELECT DISTINCT status FROM calls")).toEqual([{ status: "sent" }]);
    expect(second.waitingInBatches).toBe(3);
    s.api.find = find;
    const third = await run(study, s, { resultsDir });
    expect(s.api.submitted).toHaveLength(1);
    expect(third.totals).toMatchObject({ answered: 3, callsSent: 0 });
  });

  it("reserves each request's worst case at the batch price; as batches settle, the next ones use what they freed, up to the cap", async () => {
    const s = setup();
    const study = makeStudy({ respondents: 10, study: { max_tokens: 100 } });
    const cap = 0.0025;
    const summary = await run(study, s, { resultsDir: tempDir(), maxCostUsd: cap });
    expect(summary.status).toBe("budget");
    const reserved = query(summary, "SELECT reserved_usd FROM calls").map((c) => c.reserved_usd as number);
    const first = `SELECT reserved_usd AS r FROM calls WHERE respondent = 'r1' AND item = 'approve'`;
    // Each batch's worst case fits in what the cap has left when it is submitted.
    const batches = query(summary, "SELECT b.id, sum(c.reserved_usd) AS held FROM batches b JOIN calls c ON c.batch_id = b.id GROUP BY b.id ORDER BY b.id");
    expect(batches[0]!.held as number).toBeLessThanOrEqual(cap);
    // One run, several batches (before: one batch of cap / worst case, about a tenth of the cap spent, then "budget").
    expect(batches.length).toBeGreaterThan(1);
    const spent = query(summary, "SELECT sum(cost_usd) AS spent FROM calls")[0]!.spent as number;
    expect(spent).toBeLessThanOrEqual(cap);
    expect(summary.totals.costUsd).toBeCloseTo(spent, 12);
    // Stopped only when what is left could not hold one more request's worst case.
    expect(cap - spent).toBeLessThan(Math.max(...reserved));
    console.log(`--batch --max-cost: ${batches.length} batches in one run, ${((100 * spent) / cap).toFixed(1)}% of the cap spent (the first batch alone: ${((100 * (batches[0]!.held as number)) / cap).toFixed(1)}% reserved)`);
    // Half the synchronous worst case: more requests fit under the cap.
    expect(reserved.length).toBeGreaterThan(0);
    const sync = await generate(study, { deps: fakeDeps(new FakeProvider(), TEST_PRICE), resultsDir: tempDir(), clock: new ManualClock(), maxCostUsd: 0.0025 });
    expect(query(summary, first)[0]!.r).toBeCloseTo((query(sync as RunSummary, first)[0]!.r as number) / 2, 15);
  });

  it("stops the run when the vendor rejects the key at submission", async () => {
    const s = setup();
    s.api.submitError = new AuthError("openai:fake-model", "HTTP 401: Incorrect API key provided", { status: 401, retryable: false });
    const study = makeStudy({ respondents: 1 });
    await expect(run(study, s, { resultsDir: tempDir() })).rejects.toThrow("HTTP 401: Incorrect API key provided");
  });

  it("refuses --no-wait without --batch", async () => {
    await expect(generate(makeStudy(), { deps: fakeDeps(new FakeProvider()), resultsDir: tempDir(), wait: false })).rejects.toThrow("--no-wait only applies to --batch runs");
  });
});

/** The fake batch API creates the batch, but the reply to the first `times` submissions is lost. */
function loseCreateReplies(api: FakeBatchApi, times = 1): void {
  const submit = api.submit.bind(api);
  let lost = 0;
  api.submit = async (lines, options) => {
    const created = await submit(lines, options);
    if (lost++ < times) throw new TimeoutError("openai:fake-model", "no complete response before the request timeout", { retryable: true });
    return created;
  };
}

describe("a batch run's money and failures", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("creates a batch once when the reply to creating it is lost: it is found by its label, not created again", async () => {
    const s = setup({ pollsBeforeEnd: 0 });
    loseCreateReplies(s.api);
    const summary = await run(makeStudy({ respondents: 3, study: { generations: 2 } }), s, { resultsDir: tempDir() });
    expect(summary.status).toBe("completed");
    expect(s.api.batches).toHaveLength(1);
    expect(summary.totals).toMatchObject({ answered: 18, callsSent: 9 });
    expect(query(summary, "SELECT status, vendor_batch_id FROM batches")).toEqual([{ status: "collected", vendor_batch_id: "batch_fake1" }]);
  });

  it("without a label lookup (Anthropic), a batch whose creation reply was lost is lost, its requests counted at their worst case and asked again", async () => {
    const s = setup({ pollsBeforeEnd: 0 });
    loseCreateReplies(s.api);
    (s.api as { find?: unknown }).find = undefined;
    const summary = await run(makeStudy({ respondents: 1 }), s, { resultsDir: tempDir() });
    expect(summary.status).toBe("completed");
    // The lost batch (created at the vendor, unseen) and the one its requests went into again; never a blind resubmission.
    expect(s.api.batches).toHaveLength(2);
    expect(summary.batch).toMatchObject({ lost: 1, collected: 1 });
    expect(query(summary, "SELECT status FROM batches ORDER BY id").map((b) => b.status)).toEqual(["lost", "collected"]);
    const lost = query(summary, "SELECT status, cost_usd, reserved_usd FROM calls WHERE batch_id = 1");
    expect(lost).toHaveLength(3);
    for (const call of lost) {
      expect(call.status).toBe("failed");
      expect(call.cost_usd).toBeNull();
      expect(call.reserved_usd).toBeGreaterThan(0);
    }
    expect(summary.totals.answered).toBe(3);
  });

  it("records the requests of a batch the vendor no longer knows at their worst case, not $0", async () => {
    const { s, summary } = await runAfterVendorForgot();
    const lost = query(summary, "SELECT status, cost_usd, reserved_usd FROM calls WHERE batch_id = 1");
    expect(lost.map((c) => [c.status, c.cost_usd])).toEqual([["failed", null], ["failed", null], ["failed", null]]);
    // What the store counts as spent includes their worst case.
    const worst = lost.reduce((sum, c) => sum + (c.reserved_usd as number), 0);
    const collected = query(summary, "SELECT coalesce(sum(cost_usd), 0) AS c FROM calls WHERE batch_id = 2")[0]!.c as number;
    const store = await Store.open(summary.storeDir, { study: "test-study", lockWaitMs: 0 });
    try {
      expect(store.spentUsd()).toBeCloseTo(worst + collected, 12);
    } finally {
      store.close();
    }
  });

  it("looks again at the next poll for a batch whose creation reply was lost and whose lookup failed", async () => {
    const s = setup({ pollsBeforeEnd: 0 });
    loseCreateReplies(s.api);
    const find = s.api.find.bind(s.api);
    let lookups = 0;
    s.api.find = async (label: string) => {
      lookups += 1;
      if (lookups <= 6) throw new ConnectionError("openai:fake-model", "connection reset", { retryable: true });
      return find(label);
    };
    const summary = await run(makeStudy({ respondents: 1 }), s, { resultsDir: tempDir(), pollIntervalMs: 1000 });
    expect(summary.status).toBe("completed");
    expect(s.api.batches).toHaveLength(1);
    expect(summary.totals.answered).toBe(3);
    expect(s.lines.some((l) => /^batch #1: the vendor.s reply to creating it was lost \(.*\); it could not be looked up \(/.test(l))).toBe(true);
  });

  it("keeps a running batch when a poll fails for good: the run stops with the error, and the next run collects the batch without sending anything again", async () => {
    const s = setup({ pollsBeforeEnd: 1 });
    const study = makeStudy({ respondents: 3, items: [{ id: "approve", type: "binary", text: "Approve?" }] });
    const resultsDir = tempDir();
    await run(study, s, { resultsDir, wait: false });
    const poll = s.api.poll.bind(s.api);
    let once = true;
    s.api.poll = async (ref) => {
      if (once) {
        once = false;
        throw new AuthError("openai:fake-model", "HTTP 401: invalid key", { status: 401, retryable: false });
      }
      return poll(ref);
    };
    await expect(run(study, s, { resultsDir })).rejects.toThrow("HTTP 401: invalid key");
    const db = new DatabaseSync(join(resultsDir, "test-study", "store.sqlite"), { readOnly: true });
    try {
      expect(db.prepare("SELECT status FROM calls").all().map((c) => c.status)).toEqual(["sent", "sent", "sent"]);
      expect(db.prepare("SELECT status FROM batches").all().map((b) => b.status)).toEqual(["submitted"]);
      expect(db.prepare("SELECT status, message FROM runs WHERE id = 2").get()).toMatchObject({ status: "failed" });
    } finally {
      db.close();
    }
    const third = await run(study, s, { resultsDir });
    expect(third.totals).toMatchObject({ answered: 3, callsSent: 0 });
    expect(s.api.batches).toHaveLength(1);
    expect(query(third, "SELECT status FROM batches")).toEqual([{ status: "collected" }]);
  });

  it("holds the worst case of requests an earlier run left in batches: what it collects and what it sends stay within --max-cost", async () => {
    const s = setup({ pollsBeforeEnd: 1, respond: { inputTokens: () => 900, outputTokensPerChoice: 20 } });
    const items = [{ id: "approve", type: "binary" as const, text: "Approve?" }];
    const resultsDir = tempDir();
    const first = await run(makeStudy({ respondents: 10, items, study: { max_tokens: 20 } }), s, { resultsDir, wait: false });
    const held = query(first, "SELECT sum(reserved_usd) AS w FROM calls")[0]!.w as number;
    const cap = 2 * held;
    const second = await run(makeStudy({ respondents: 30, items, study: { max_tokens: 20 } }), s, { resultsDir, maxCostUsd: cap });
    expect(second.status).toBe("budget");
    expect(second.totals.costUsd).toBeLessThanOrEqual(cap);
    expect(query(second, "SELECT cost_usd FROM runs WHERE id = 2")[0]!.cost_usd as number).toBeLessThanOrEqual(cap);
    // It collected the 10 and sent what fit beside their worst case.
    expect(second.totals.answered).toBeGreaterThan(10);
  });

  it("stops with the store's error, not an unhandled rejection, when a batch cannot be recorded", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      vi.spyOn(Store.prototype, "startBatch").mockImplementation(() => {
        throw new StoreError("store.sqlite: database or disk is full");
      });
      const s = setup({ pollsBeforeEnd: 0 });
      await expect(run(makeStudy({ respondents: 2 }), s, { resultsDir: tempDir() })).rejects.toThrow("database or disk is full");
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
      expect(s.api.batches).toHaveLength(0);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});

describe("the simulated provider's batch emulation", () => {
  it("answers a batch at once, with the same answers as synchronous calls, and collects it even with --no-wait", async () => {
    const dir = tempDir();
    const study = await loadStudy(writeStudy(dir, { respondents: 5, models: ["simulated:biased"], generations: 3 }));
    const batch = (await generate(study, { resultsDir: join(dir, "batch"), batch: true, wait: false })) as RunSummary;
    const sync = (await generate(study, { resultsDir: join(dir, "sync") })) as RunSummary;
    expect(batch.totals).toMatchObject({ answered: 45, batchCalls: 15, deferred: 0 });
    expect(batch.waitingInBatches).toBe(0);
    expect(readFileSync(batch.exports.csv, "utf8")).toBe(readFileSync(sync.exports.csv, "utf8"));
  });
});
