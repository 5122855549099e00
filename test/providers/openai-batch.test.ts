/**
 * `silicon generate --batch` for `openai:` models through the OpenAI Batch
 * API, on the wire (nock): JSONL upload, batch creation, polling, output and
 * error files; expired requests retried in a follow-up batch; a second
 * invocation collecting a batch the first left running; a failed batch.
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { generate, type GenerateOptions, type RunSummary } from "../../src/generation/run.ts";
import { ManualClock } from "../helpers/clock.ts";
import { makeStudy, renderQuestion } from "../helpers/study.ts";
import { useTempDir } from "../helpers/tmp.ts";
import { fixture, isolateNetwork } from "../helpers/vendor-replay.ts";

const KEY = "fake-openai-test-key-batch-canary-QQQQ";
const ORIGIN = "https://api.openai.com";
const tempDir = useTempDir();
isolateNetwork({ beforeEach, afterEach });

interface Line {
  custom_id: string;
  method: string;
  url: string;
  body: { model: string; messages: { role: string; content: string }[]; response_format?: { json_schema: { schema: { properties: { answer: { enum?: number[] } } } } } };
}

/** The JSONL lines inside a multipart upload. */
function uploadedLines(body: string): Line[] {
  return body
    .split(/\r?\n/)
    .filter((line) => line.startsWith('{"custom_id"'))
    .map((line) => JSON.parse(line) as Line);
}

/** A chat completion for a batched request: the first allowed code, or 50. */
function completionFor(line: Line, index: number): Record<string, unknown> {
  const allowed = line.body.response_format?.json_schema.schema.properties.answer.enum;
  const body = fixture("openai", "chat-structured");
  return {
    ...body,
    id: `chatcmpl-batch${index}`,
    model: "gpt-4o-mini-2024-07-18",
    choices: [{ index: 0, message: { role: "assistant", content: JSON.stringify({ answer: allowed?.[0] ?? 50 }), refusal: null }, logprobs: null, finish_reason: "stop" }],
    usage: { prompt_tokens: 200, completion_tokens: 6, total_tokens: 206, prompt_tokens_details: { cached_tokens: 0 } },
  };
}

function outputFile(lines: Line[]): string {
  return lines.map((line, i) => JSON.stringify({ id: `batch_req_${i}`, custom_id: line.custom_id, response: { status_code: 200, request_id: `req_b${i}`, body: completionFor(line, i) }, error: null })).join("\n") + "\n";
}

function expiredFile(lines: Line[]): string {
  return lines
    .map((line, i) =>
      JSON.stringify({ id: `batch_req_x${i}`, custom_id: line.custom_id, response: null, error: { code: "batch_expired", message: "This request could not be executed before the completion window expired." } }),
    )
    .join("\n");
}

const BATCH = fixture("openai", "batch-validating");
const ID = BATCH.id as string;
const COMPLETED = fixture("openai", "batch-completed");

interface Capture {
  uploads: { body: string; lines: Line[] }[];
  creates: Record<string, unknown>[];
  authorizations: string[];
}

/** Uploads and batch creations answer with fixture objects; each upload is kept. */
function acceptSubmissions(capture: Capture, times: number): void {
  nock(ORIGIN)
    .post("/v1/files")
    .times(times)
    .reply(async (request: Request) => {
      const text = await request.text();
      capture.uploads.push({ body: text, lines: uploadedLines(text) });
      capture.authorizations.push(request.headers.get("authorization") ?? "");
      return [200, { ...fixture("openai", "file-batch"), id: `file-in${capture.uploads.length}` }];
    });
  nock(ORIGIN)
    .post("/v1/batches")
    .times(times)
    .reply(async (request: Request) => {
      const body = (await request.json()) as Record<string, unknown>;
      capture.creates.push(body);
      const n = capture.creates.length;
      return [200, { ...BATCH, id: `${ID}_${n}`, input_file_id: `file-in${n}`, metadata: body.metadata }];
    });
}

function study() {
  return makeStudy({ respondents: 2, study: { models: ["openai:gpt-4o-mini"] } });
}

async function run(resultsDir: string, options: Partial<GenerateOptions> = {}): Promise<RunSummary> {
  const summary = await generate(study(), {
    resultsDir,
    env: { OPENAI_API_KEY: KEY },
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

describe("the OpenAI Batch API", () => {
  it("uploads the requests as JSONL, creates a 24h batch, polls it, reads the output and error files, and retries expired requests in a follow-up batch", async () => {
    const capture: Capture = { uploads: [], creates: [], authorizations: [] };
    acceptSubmissions(capture, 2);
    const out1 = "file-out-2HcW8pQz5LmN1rTy6VbK3x";
    const err1 = "file-err-9KdF4sXa7GhJ2wEq8ZnP5c";
    nock(ORIGIN).get(`/v1/batches/${ID}_1`).reply(200, fixture("openai", "batch-in-progress"));
    nock(ORIGIN).get(`/v1/batches/${ID}_1`).reply(200, { ...COMPLETED, id: `${ID}_1` });
    // Five answers, and the last request expired.
    nock(ORIGIN).get(`/v1/files/${out1}/content`).reply(200, () => outputFile(capture.uploads[0]!.lines.slice(0, 5)));
    nock(ORIGIN).get(`/v1/files/${err1}/content`).reply(200, () => expiredFile(capture.uploads[0]!.lines.slice(5)));
    nock(ORIGIN).get(`/v1/batches/${ID}_2`).reply(200, { ...COMPLETED, id: `${ID}_2`, output_file_id: "file-out-2", error_file_id: null, request_counts: { total: 1, completed: 1, failed: 0 } });
    nock(ORIGIN).get("/v1/files/file-out-2/content").reply(200, () => outputFile(capture.uploads[1]!.lines));

    const summary = await run(tempDir());

    expect(nock.isDone()).toBe(true);
    expect(capture.authorizations).toEqual([`Bearer ${KEY}`, `Bearer ${KEY}`]);
    // The upload: a multipart form with purpose=batch and one JSONL line per request.
    const upload = capture.uploads[0]!;
    expect(upload.body).toMatch(/name="purpose"\r?\n\r?\nbatch/);
    expect(upload.body).toMatch(/filename="silicon-test-study-1-\d+\.jsonl"/);
    expect(upload.lines).toHaveLength(6);
    const first = upload.lines[0]!;
    expect(first).toMatchObject({ method: "POST", url: "/v1/chat/completions", body: { model: "gpt-4o-mini", max_completion_tokens: 200 } });
    expect(first.custom_id).toMatch(/^[0-9a-f]{64}$/);
    expect(first.body.messages.map((m) => m.role)).toEqual(["system", "user"]);
    expect(capture.creates[0]).toEqual({ input_file_id: "file-in1", endpoint: "/v1/chat/completions", completion_window: "24h", metadata: { silicon_batch: expect.stringMatching(/^silicon-test-study-1-\d+$/) } });
    // The follow-up batch holds the expired request, the same custom id.
    expect(capture.uploads[1]!.lines.map((l) => l.custom_id)).toEqual([upload.lines[5]!.custom_id]);

    expect(summary.status).toBe("completed");
    expect(summary.totals).toMatchObject({ answered: 6, nonresponse: 0, callsSent: 7, callsFailed: 1, retries: 1, batchCalls: 7 });
    // gpt-4o-mini: $0.15 in, $0.60 out per million, half price in batches.
    expect(summary.totals.costUsd).toBeCloseTo((6 * (200 * 0.15 + 6 * 0.6) * 0.5) / 1e6, 15);
    expect(rows(summary, "SELECT vendor_batch_id, status, vendor_status, output_file_id, error_file_id FROM batches ORDER BY id")).toEqual([
      { vendor_batch_id: `${ID}_1`, status: "collected", vendor_status: "completed", output_file_id: out1, error_file_id: err1 },
      { vendor_batch_id: `${ID}_2`, status: "collected", vendor_status: "completed", output_file_id: "file-out-2", error_file_id: null },
    ]);
    const expired = rows(summary, "SELECT status, error_class, error_message, cost_usd FROM calls WHERE status = 'failed'");
    expect(expired).toEqual([
      { status: "failed", error_class: "BatchItemError", error_message: "openai:gpt-4o-mini: batch request batch_expired: This request could not be executed before the completion window expired.", cost_usd: 0 },
    ]);
    expect(rows(summary, "SELECT DISTINCT vendor_request_id AS id FROM calls WHERE status = 'completed' AND vendor_request_id = 'req_b0'")).toHaveLength(1);
  });

  it("leaves a running batch with --no-wait, and a second invocation polls it and stores its results", async () => {
    const capture: Capture = { uploads: [], creates: [], authorizations: [] };
    acceptSubmissions(capture, 1);
    nock(ORIGIN).get(`/v1/batches/${ID}_1`).times(2).reply(200, { ...fixture("openai", "batch-in-progress"), id: `${ID}_1` });
    const resultsDir = tempDir();
    const first = await run(resultsDir, { wait: false });
    expect(first.totals).toMatchObject({ answered: 0, callsSent: 6, deferred: 6 });
    expect(first.waitingInBatches).toBe(6);
    expect(nock.isDone()).toBe(false); // polled once, not twice

    // Second invocation: nothing uploaded again.
    nock.cleanAll();
    nock(ORIGIN).get(`/v1/batches/${ID}_1`).reply(200, { ...COMPLETED, id: `${ID}_1`, error_file_id: null });
    nock(ORIGIN).get("/v1/files/file-out-2HcW8pQz5LmN1rTy6VbK3x/content").reply(200, () => outputFile(capture.uploads[0]!.lines));
    const second = await run(resultsDir);
    expect(nock.isDone()).toBe(true);
    expect(capture.uploads).toHaveLength(1);
    expect(second.totals).toMatchObject({ answered: 6, callsSent: 0 });
    expect(second.waitingInBatches).toBe(0);
    expect(rows(second, "SELECT count(*) AS n FROM answers WHERE status = 'answered'")).toEqual([{ n: 6 }]);
  });

  it("uploads once and creates once when the reply to creating the batch is lost: it pages through the batch list to find it by its label", async () => {
    const uploads: string[] = [];
    nock(ORIGIN)
      .post("/v1/files")
      .reply(async (request: Request) => {
        uploads.push(await request.text());
        return [200, { ...fixture("openai", "file-batch"), id: "file-in1" }];
      });
    let label = "";
    let creates = 0;
    // The vendor creates the batch, but the connection drops before the reply.
    nock(ORIGIN)
      .post("/v1/batches")
      .reply(async (request: Request) => {
        creates += 1;
        label = ((await request.json()) as { metadata: { silicon_batch: string } }).metadata.silicon_batch;
        throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
      });
    nock(ORIGIN)
      .post("/v1/batches")
      .times(3)
      .reply(() => {
        creates += 1;
        return [500, { error: { message: "should not be created again", type: "server_error" } }];
      });
    // Other batches, newest first: a full page, then the page holding ours.
    const others = Array.from({ length: 100 }, (_, i) => ({ ...BATCH, id: `batch_other${i}`, metadata: { silicon_batch: `someone-else-${i}` } }));
    nock(ORIGIN).get("/v1/batches").query({ limit: "100" }).reply(200, () => ({ object: "list", data: others, first_id: "batch_other0", last_id: "batch_other99", has_more: true }));
    nock(ORIGIN)
      .get("/v1/batches")
      .query({ limit: "100", after: "batch_other99" })
      .reply(200, () => ({ object: "list", data: [{ ...BATCH, id: `${ID}_1`, input_file_id: "file-in1", metadata: { silicon_batch: label } }], first_id: `${ID}_1`, last_id: `${ID}_1`, has_more: false }));
    nock(ORIGIN).get(`/v1/batches/${ID}_1`).reply(200, { ...COMPLETED, id: `${ID}_1`, error_file_id: null });
    nock(ORIGIN).get("/v1/files/file-out-2HcW8pQz5LmN1rTy6VbK3x/content").reply(200, () => outputFile(uploadedLines(uploads[0]!)));
    const summary = await run(tempDir());
    expect(summary.status).toBe("completed");
    expect(uploads).toHaveLength(1);
    expect(creates).toBe(1);
    expect(summary.totals).toMatchObject({ answered: 6, callsSent: 6 });
    expect(rows(summary, "SELECT status, vendor_batch_id, input_file_id FROM batches")).toEqual([{ status: "collected", vendor_batch_id: `${ID}_1`, input_file_id: "file-in1" }]);
  });

  it("stops with the vendor's validation errors when it fails the whole batch", async () => {
    const capture: Capture = { uploads: [], creates: [], authorizations: [] };
    acceptSubmissions(capture, 1);
    nock(ORIGIN)
      .get(`/v1/batches/${ID}_1`)
      .reply(200, {
        ...BATCH,
        id: `${ID}_1`,
        status: "failed",
        failed_at: 1795430500,
        errors: { object: "list", data: [{ code: "model_not_found", line: 1, message: "The model 'gpt-4o-mini' does not support the batch API.", param: "body.model" }] },
      });
    await expect(run(tempDir())).rejects.toThrow("batch batch_6a1f0c2e9b8d47e3a5c4f1d2_1: the vendor failed the batch: line 1: model_not_found The model 'gpt-4o-mini' does not support the batch API.");
  });
});
