/**
 * The OpenAI Batch API for `openai:` models: the requests go up as a JSONL
 * file (purpose `batch`), one line `{custom_id, method: "POST", url:
 * "/v1/chat/completions", body}` each, with the same body a synchronous
 * call sends (openai-chat.ts); a batch is created on it (`completion_window:
 * "24h"`), polled, and its output and error files are read back line by
 * line: `{id, custom_id, response: {status_code, request_id, body}, error}`.
 * Requests that expire (`batch_expired`) or time out come back as retryable
 * errors; cancelled ones (`batch_cancelled`) as final ones.
 *
 * Limits: 50,000 requests and 200 MB per input file.
 */
import OpenAI, { toFile } from "openai";
import { z } from "zod";
import { BadRequestError, BatchItemError } from "../errors.ts";
import { redactResult } from "./call.ts";
import { asBatchItem, batchApiCall, BATCH_CALL_TIMEOUT_MS, BATCH_DOWNLOAD_TIMEOUT_MS, jsonLines } from "./batch-call.ts";
import { startDeadline } from "./deadline.ts";
import { classifyFailure, httpError, MalformedBody, malformedResponse, scrub, UnsendableRequest, type FailureContext } from "./errors.ts";
import { chatParams, parseChatCompletion, type OpenAIFeatures } from "./openai-chat.ts";
import type { BatchResultLine, BatchState, BatchTransport, EncodedLine, PreparedBatch } from "./types.ts";
import { crashPoint } from "../util/crash-points.ts";

export const OPENAI_BATCH_ENDPOINT = "/v1/chat/completions";
/** How far before a batch was recorded `find` looks: the vendor's clock may differ from ours. */
const FIND_CLOCK_MARGIN_MS = 60 * 60_000;

const OutputLine = z.object({
  custom_id: z.string(),
  response: z
    .object({ status_code: z.number().int(), request_id: z.string().nullish(), body: z.unknown() })
    .nullish(),
  error: z.object({ code: z.string().nullish(), message: z.string().nullish() }).nullish(),
});

const RUNNING = new Set(["validating", "in_progress", "finalizing", "cancelling"]);

function iso(seconds: number | null | undefined): string | undefined {
  return typeof seconds === "number" ? new Date(seconds * 1000).toISOString() : undefined;
}

export function openaiBatchTransport(client: OpenAI, model: string, features: OpenAIFeatures, context: FailureContext): BatchTransport {
  const call = <T>(signal: AbortSignal, fn: (signal: AbortSignal) => Promise<T>) =>
    batchApiCall(context, OpenAI, signal, BATCH_CALL_TIMEOUT_MS, fn);

  function readLine(raw: unknown, choices: (customId: string) => number): BatchResultLine | undefined {
    const parsed = OutputLine.safeParse(raw);
    if (!parsed.success) return undefined;
    const { custom_id: customId, response, error } = parsed.data;
    if (response !== null && response !== undefined) {
      if (response.status_code >= 200 && response.status_code < 300) {
        try {
          const completion = parseChatCompletion(response.body, choices(customId));
          const result = {
            choices: completion.choices,
            usage: completion.usage,
            ...(completion.model !== undefined ? { model: completion.model } : {}),
            ...(response.request_id ? { requestId: response.request_id } : {}),
          };
          return { customId, result: redactResult(result, context) };
        } catch (failure) {
          if (!(failure instanceof MalformedBody)) throw failure;
          return { customId, error: asBatchItem(malformedResponse(context, failure.message, { retryable: failure.retryable, usage: failure.usage }), context) };
        }
      }
      const failed = httpError(context, response.status_code, new Headers(), response.body, "the request failed in the batch");
      return { customId, error: asBatchItem(failed, context) };
    }
    const code = error?.code ?? "unknown";
    const message = scrub(`${code}: ${error?.message ?? "no result for this request"}`, context);
    // Expired and timed-out requests may succeed in a later batch; a cancelled batch was stopped on purpose.
    return { customId, error: new BatchItemError(context.provider, `batch request ${message}`, { retryable: code !== "batch_cancelled" }) };
  }

  async function prepare(lines: EncodedLine[], { signal, label }: { signal: AbortSignal; label: string }): Promise<PreparedBatch> {
    const jsonl = lines.map((line) => line.body as string).join("\n") + "\n";
    const file = await call(signal, async (s) =>
      client.files.create({ file: await toFile(Buffer.from(jsonl), `${label}.jsonl`), purpose: "batch" }, { signal: s }),
    );
    crashPoint("batch-uploaded");
    return { inputFileId: file.id };
  }

  return {
    maxRequests: 50_000,
    maxBytes: 190 * 2 ** 20,

    encode({ customId, request }): EncodedLine {
      let body;
      try {
        body = chatParams(model, request, features);
      } catch (error) {
        if (error instanceof UnsendableRequest) throw new BadRequestError(context.provider, scrub(error.message, context), { retryable: false });
        throw error;
      }
      const text = JSON.stringify({ custom_id: customId, method: "POST", url: OPENAI_BATCH_ENDPOINT, body });
      return { customId, bytes: Buffer.byteLength(text) + 1, body: text };
    },

    prepare,

    async submit(lines, { signal, label, prepared }) {
      const { inputFileId } = prepared ?? (await prepare(lines, { signal, label }));
      const batch = await call(signal, (s) =>
        client.batches.create(
          { input_file_id: inputFileId, endpoint: OPENAI_BATCH_ENDPOINT, completion_window: "24h", metadata: { silicon_batch: label } },
          { signal: s },
        ),
      );
      return { id: batch.id, inputFileId };
    },

    async find(label, { signal, since }) {
      // Newest first, a page at a time, back to the batches created before this one was recorded
      // (less a margin for the difference between our clock and the vendor's).
      const oldest = (Date.parse(since) - FIND_CLOCK_MARGIN_MS) / 1000;
      let after: string | undefined;
      for (;;) {
        const page = await call(signal, (s) => client.batches.list({ limit: 100, ...(after !== undefined ? { after } : {}) }, { signal: s }));
        const batch = page.data.find((b) => b.metadata?.["silicon_batch"] === label);
        if (batch !== undefined) return { id: batch.id, inputFileId: batch.input_file_id };
        const last = page.data.at(-1);
        if (!page.has_more || last === undefined || !(last.created_at >= oldest)) return undefined;
        after = last.id;
      }
    },

    async poll(ref, { signal }): Promise<BatchState> {
      const batch = await call(signal, (s) => client.batches.retrieve(ref.id, { signal: s }));
      const counts = { ...(batch.request_counts ?? {}) } as Record<string, number>;
      const endedAt = iso(batch.completed_at ?? batch.expired_at ?? batch.cancelled_at ?? batch.failed_at);
      const state: BatchState = {
        status: batch.status === "failed" ? "failed" : RUNNING.has(batch.status) ? "running" : "ended",
        vendorStatus: batch.status,
        counts,
        ...(batch.output_file_id ? { outputFileId: batch.output_file_id } : {}),
        ...(batch.error_file_id ? { errorFileId: batch.error_file_id } : {}),
        ...(endedAt !== undefined ? { endedAt } : {}),
      };
      if (batch.status === "failed") {
        const errors = (batch.errors?.data ?? []).slice(0, 3).map((e) => `${e.line != null ? `line ${e.line}: ` : ""}${e.code ?? ""} ${e.message ?? ""}`.trim());
        state.message = scrub(`the vendor failed the batch${errors.length > 0 ? `: ${errors.join("; ")}` : ""}`, context);
      }
      return state;
    },

    async *results(ref, { signal, choices }) {
      for (const fileId of [ref.outputFileId, ref.errorFileId]) {
        if (fileId === null || fileId === undefined) continue;
        if (signal.aborted) throw signal.reason;
        const deadline = startDeadline(signal, BATCH_DOWNLOAD_TIMEOUT_MS);
        try {
          const response = await client.files.content(fileId, { signal: deadline.signal });
          for await (const raw of jsonLines(response.body)) {
            const line = readLine(raw, choices);
            if (line !== undefined) yield line;
          }
        } catch (error) {
          throw classifyFailure(error, OpenAI, context, signal, deadline);
        } finally {
          deadline.clear();
        }
      }
    },
  };
}
