/**
 * `silicon generate --batch` for `anthropic:` models through Message
 * Batches, on the wire (nock): the create body, polling `processing_status`,
 * results streamed from `results_url`; errored, expired and canceled results
 * retried or recorded; a second invocation collecting a running batch.
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import Anthropic from "@anthropic-ai/sdk";
import { generate, type GenerateOptions, type RunSummary } from "../../src/generation/run.ts";
import { anthropicBatchTransport } from "../../src/providers/anthropic-batch.ts";
import { ManualClock } from "../helpers/clock.ts";
import { makeStudy, renderQuestion } from "../helpers/study.ts";
import { useTempDir } from "../helpers/tmp.ts";
import { fixture, isolateNetwork } from "../helpers/vendor-replay.ts";

const KEY = "fake-anthropic-test-key-batch-canary-BBBB";
const ORIGIN = "https://api.anthropic.com";
const tempDir = useTempDir();
isolateNetwork({ beforeEach, afterEach });

interface BatchRequest {
  custom_id: string;
  params: { model: string; max_tokens: number; system: unknown; messages: unknown[]; output_config?: { format: { schema: { properties: { answer: { enum?: number[] } } } } } };
}

const IN_PROGRESS = fixture("anthropic", "message-batch-in-progress");
const ENDED = fixture("anthropic", "message-batch-ended");
const ID = IN_PROGRESS.id as string;

function message(request: BatchRequest, i: number): Record<string, unknown> {
  const allowed = request.params.output_config?.format.schema.properties.answer.enum;
  return {
    ...fixture("anthropic", "message-structured"),
    id: `msg_batch${i}`,
    model: "claude-haiku-5-5",
    content: [{ type: "text", text: JSON.stringify({ answer: allowed?.[0] ?? 50 }) }],
    usage: { input_tokens: 150, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 8 },
  };
}

type Outcome = "succeeded" | "errored" | "overloaded" | "expired" | "canceled";

function resultLine(request: BatchRequest, i: number, outcome: Outcome): string {
  const result =
    outcome === "succeeded"
      ? { type: "succeeded", message: message(request, i) }
      : outcome === "errored"
        ? { type: "errored", error: { type: "error", error: { type: "invalid_request_error", message: "prompt is too long: 250000 tokens > 200000 maximum" }, request_id: null } }
        : outcome === "overloaded"
          ? { type: "errored", error: { type: "error", error: { type: "overloaded_error", message: "Overloaded" }, request_id: null } }
          : { type: outcome };
  return JSON.stringify({ custom_id: request.custom_id, result });
}

interface Capture {
  creates: { requests: BatchRequest[] }[];
  headers: Headers[];
}

function acceptBatches(capture: Capture, times: number): void {
  nock(ORIGIN)
    .post("/v1/messages/batches")
    .times(times)
    .reply(async (request: Request) => {
      capture.creates.push((await request.json()) as { requests: BatchRequest[] });
      capture.headers.push(request.headers);
      return [200, { ...IN_PROGRESS, id: `${ID}_${capture.creates.length}` }];
    });
}

/** The batch ends; its results are the requests of submission `n` with the given outcomes. */
function ends(capture: Capture, n: number, outcomes: (request: BatchRequest, i: number) => Outcome): void {
  const id = `${ID}_${n}`;
  const resultsUrl = `${ORIGIN}/v1/messages/batches/${id}/results`;
  // The SDK's results() retrieves the batch first, then streams its results_url.
  nock(ORIGIN).get(`/v1/messages/batches/${id}`).times(2).reply(200, { ...ENDED, id, results_url: resultsUrl });
  nock(ORIGIN)
    .get(`/v1/messages/batches/${id}/results`)
    .reply(200, () => capture.creates[n - 1]!.requests.map((r, i) => resultLine(r, i, outcomes(r, i))).join("\n") + "\n", {
      "content-type": "application/binary",
    });
}

async function run(resultsDir: string, options: Partial<GenerateOptions> = {}): Promise<RunSummary> {
  const study = makeStudy({ respondents: 2, study: { models: ["anthropic:claude-haiku-5-5"] } });
  const summary = await generate(study, {
    resultsDir,
    env: { ANTHROPIC_API_KEY: KEY },
    deps: { renderQuestion },
    clock: new ManualClock(),
    batch: true,
    ...options,
  });
  if (summary.kind !== "run") throw new Error("expected a run");
  return summary;
}

function rows(summary: RunSummary, sql: string): Record<string, unknown>[] {
  const db = new DatabaseSync(join(summary.storeDir, "store.sqlite"), { readOnly: true });
  try {
    return db.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

describe("Anthropic Message Batches", () => {
  it("creates a batch of Messages requests, polls it, streams its results, retries expired and overloaded requests, and records rejected and canceled ones", async () => {
    const capture: Capture = { creates: [], headers: [] };
    acceptBatches(capture, 2);
    nock(ORIGIN).get(`/v1/messages/batches/${ID}_1`).reply(200, { ...IN_PROGRESS, id: `${ID}_1` });
    const outcomes: Outcome[] = ["succeeded", "succeeded", "errored", "expired", "overloaded", "canceled"];
    ends(capture, 1, (_r, i) => outcomes[i]!);
    ends(capture, 2, () => "succeeded");

    const summary = await run(tempDir());
    expect(nock.isDone()).toBe(true);

    const first = capture.creates[0]!;
    expect(first.requests).toHaveLength(6);
    expect(first.requests[0]!.custom_id).toMatch(/^[0-9a-f]{64}$/);
    expect(first.requests[0]!.params).toMatchObject({
      model: "claude-haiku-5-5",
      max_tokens: 200,
      system: [{ type: "text", text: "You are respondent r1, a 20-year-old Democrat.", cache_control: { type: "ephemeral" } }],
      messages: [{ role: "user", content: expect.stringContaining("Answer as yourself.") }],
    });
    expect(first.requests[0]!.params).not.toHaveProperty("temperature");
    expect(capture.headers[0]!.get("authorization")).toBe(`Bearer ${KEY}`);
    expect(capture.headers[0]!.get("anthropic-version")).toBe("2026-10-21");
    // Expired and overloaded go again; the rejected and the canceled are final for this run.
    expect(capture.creates[1]!.requests.map((r) => r.custom_id)).toEqual([first.requests[3]!.custom_id, first.requests[4]!.custom_id]);

    expect(summary.totals).toMatchObject({ answered: 4, nonresponse: 2, callsSent: 8, callsFailed: 4, retries: 2 });
    // claude-haiku-5-5: $0.10 in, $0.50 out per million, half in batches.
    expect(summary.totals.costUsd).toBeCloseTo((4 * (150 * 0.1 + 8 * 0.5) * 0.5) / 1e6, 15);
    const reasons = rows(summary, "SELECT reason, transient FROM answers WHERE status = 'nonresponse' ORDER BY reason");
    expect(reasons).toEqual([
      {
        reason:
          "vendor failure: BatchItemError: anthropic:claude-haiku-5-5: HTTP 400 invalid_request_error: prompt is too long: 250000 tokens > 200000 maximum",
        transient: 1,
      },
      { reason: "vendor failure: BatchItemError: anthropic:claude-haiku-5-5: the batch was canceled before this request was processed", transient: 1 },
    ]);
    expect(rows(summary, "SELECT vendor_batch_id, vendor_status, request_counts FROM batches ORDER BY id")).toEqual([
      { vendor_batch_id: `${ID}_1`, vendor_status: "ended", request_counts: JSON.stringify(ENDED.request_counts) },
      { vendor_batch_id: `${ID}_2`, vendor_status: "ended", request_counts: JSON.stringify(ENDED.request_counts) },
    ]);
    expect(rows(summary, "SELECT vendor_request_id FROM calls WHERE status = 'completed' ORDER BY id LIMIT 1")).toEqual([{ vendor_request_id: "msg_batch0" }]);
  });

  it("resumes polling in a second invocation from the store", async () => {
    const capture: Capture = { creates: [], headers: [] };
    acceptBatches(capture, 1);
    nock(ORIGIN).get(`/v1/messages/batches/${ID}_1`).reply(200, { ...IN_PROGRESS, id: `${ID}_1` });
    const resultsDir = tempDir();
    const first = await run(resultsDir, { wait: false });
    expect(first.totals).toMatchObject({ answered: 0, deferred: 6 });
    expect(nock.isDone()).toBe(true);

    ends(capture, 1, () => "succeeded");
    const second = await run(resultsDir);
    expect(nock.isDone()).toBe(true);
    expect(capture.creates).toHaveLength(1);
    expect(second.totals).toMatchObject({ answered: 6, callsSent: 0 });
    expect(rows(second, "SELECT status FROM batches")).toEqual([{ status: "collected" }]);
  });
});

describe("a lost creation reply (Message Batches carry no label)", () => {
  /** Creating the batch reaches the vendor, which creates it, but the reply never comes back. */
  function createLost(capture: Capture): void {
    nock(ORIGIN)
      .post("/v1/messages/batches", (body: { requests: BatchRequest[] }) => {
        capture.creates.push(body);
        return true;
      })
      .replyWithError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
  }

  const batch = (id: string, status: "in_progress" | "ended", counts = ENDED.request_counts) => ({
    ...(status === "ended" ? ENDED : IN_PROGRESS),
    id,
    request_counts: status === "ended" ? counts : { processing: 6, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
    results_url: status === "ended" ? `${ORIGIN}/v1/messages/batches/${id}/results` : null,
  });

  function list(...data: object[]): void {
    nock(ORIGIN).get("/v1/messages/batches").query(true).reply(200, { data, has_more: false, first_id: null, last_id: null });
  }

  /** An ended batch whose results are `lines` (the SDK reads the batch, then its results_url). */
  function resultsOf(id: string, lines: () => string[], times = 1): void {
    nock(ORIGIN).get(`/v1/messages/batches/${id}`).times(times).reply(200, batch(id, "ended"));
    nock(ORIGIN).get(`/v1/messages/batches/${id}/results`).times(times).reply(200, () => lines().join("\n") + "\n", { "content-type": "application/binary" });
  }

  it("finds the batch the vendor created by its size and its results' custom ids, waits while it runs, and never submits it again", async () => {
    const capture: Capture = { creates: [], headers: [] };
    createLost(capture);
    const lost = "msgbatch_lost";
    const stranger = "msgbatch_someone_else";
    const ours = () => capture.creates[0]!.requests.map((r, i) => resultLine(r, i, "succeeded"));
    // 1. Right after the lost reply: ours is still running (cannot tell yet), another of the same size has ended with other requests.
    list(batch(lost, "in_progress"), batch(stranger, "ended"));
    resultsOf(stranger, () => ours().map((line) => line.replace(/"custom_id":"[0-9a-f]+"/, '"custom_id":"someone-elses-request"')));
    // 2. At the next poll: ours has ended, and its results are exactly our requests.
    list(batch(lost, "ended"), batch(stranger, "ended"));
    // Read twice: to tell it is ours, then to collect it.
    resultsOf(lost, ours, 2);
    nock(ORIGIN).get(`/v1/messages/batches/${lost}`).reply(200, batch(lost, "ended"));
    const log: string[] = [];
    const summary = await run(tempDir(), { log: (line) => log.push(line) });
    expect(nock.pendingMocks(), log.join("\n")).toEqual([]);
    expect(capture.creates).toHaveLength(1);
    expect(summary.totals).toMatchObject({ answered: 6, callsSent: 6, retries: 0 });
    expect(rows(summary, "SELECT vendor_batch_id, status FROM batches")).toEqual([{ vendor_batch_id: lost, status: "collected" }]);
    expect(log).toContain(
      "batch #1: the vendor's reply to creating it was lost (anthropic:claude-haiku-5-5: connection failed: ECONNRESET socket hang up); " +
        "anthropic:claude-haiku-5-5: 1 batch of as many requests is still running; only its results can tell whether one is the batch whose creation reply was lost; looking again later",
    );
  });

  it("submits again only when no batch of the workspace can be it", async () => {
    const capture: Capture = { creates: [], headers: [] };
    createLost(capture);
    // Batches since it was recorded: one of another size, one already in this store's hands is not possible here; none is ours.
    list(batch("msgbatch_other_size", "ended", { processing: 0, succeeded: 5, errored: 0, canceled: 0, expired: 0 }));
    acceptBatches(capture, 1);
    ends(capture, 2, () => "succeeded");
    const summary = await run(tempDir());
    expect(nock.isDone()).toBe(true);
    expect(capture.creates).toHaveLength(2);
    expect(capture.creates[1]!.requests.map((r) => r.custom_id)).toEqual(capture.creates[0]!.requests.map((r) => r.custom_id));
    expect(summary.totals).toMatchObject({ answered: 6 });
  });
});

describe("Anthropic Message Batches limits", () => {
  it("keeps a batch under the documented 256 MB, however a megabyte is counted, with a margin", () => {
    const transport = anthropicBatchTransport(new Anthropic({ apiKey: "sk-ant-test" }), "claude-haiku-4-5", {
      provider: "anthropic:claude-haiku-4-5",
      secrets: [],
      env: {},
      keyVariable: "ANTHROPIC_API_KEY",
      now: () => Date.now(),
      rateLimit: () => undefined,
    });
    expect(transport.maxRequests).toBe(100_000);
    expect(transport.maxBytes).toBeLessThanOrEqual(250_000_000);
    // No labels, but a lookup by size and custom ids (see "a lost creation reply" below).
    expect(transport.find).toBeDefined();
  });
});
