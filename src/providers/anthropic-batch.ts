/**
 * Anthropic Message Batches for `anthropic:` models: one POST of
 * `{requests: [{custom_id, params}]}` with the same params a synchronous call
 * sends (anthropic-messages.ts); polled until `processing_status` is
 * `ended`; its results streamed from `results_url` as JSONL lines
 * `{custom_id, result: {type: succeeded | errored | canceled | expired, …}}`.
 * Expired requests and vendor-side errors (api_error, overloaded_error) come
 * back retryable; invalid requests and canceled ones final.
 *
 * Limits: 100,000 requests and 256 MB per batch (silicon stays under
 * 250,000,000 bytes). Message Batches carry no label, so a batch whose
 * creation reply was lost is looked for among the workspace's batches
 * (GET /v1/messages/batches, newest first, page by page back to when it was
 * recorded): one with as many requests, not already in the store, whose
 * results carry exactly its custom ids. A candidate still running cannot be
 * told apart yet (its results are not readable): the lookup is undecided and
 * nothing is resubmitted until it ends.
 */

/** How far before a batch was recorded the lookup goes: the vendor's clock may differ from ours. */
const FIND_CLOCK_MARGIN_MS = 60 * 60_000;
import Anthropic from "@anthropic-ai/sdk";
import { BadRequestError, BatchItemError, UndecidedError } from "../errors.ts";
import { messageParams, parseMessage } from "./anthropic-messages.ts";
import { redactResult } from "./call.ts";
import { asBatchItem, batchApiCall, BATCH_CALL_TIMEOUT_MS, BATCH_DOWNLOAD_TIMEOUT_MS } from "./batch-call.ts";
import { startDeadline } from "./deadline.ts";
import { classifyFailure, httpError, MalformedBody, malformedResponse, scrub, UnsendableRequest, type FailureContext } from "./errors.ts";
import type { BatchResultLine, BatchState, BatchTransport, EncodedLine } from "./types.ts";

/** The HTTP status a synchronous call would have had for each error type, to classify an errored result alike. */
const STATUS_OF_ERROR: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

interface ResultLine {
  custom_id?: unknown;
  result?: { type?: unknown; message?: unknown; error?: unknown };
}

function readLine(raw: unknown, context: FailureContext): BatchResultLine | undefined {
  const line = raw as ResultLine;
  if (typeof line?.custom_id !== "string" || typeof line.result?.type !== "string") return undefined;
  const customId = line.custom_id;
  switch (line.result.type) {
    case "succeeded":
      try {
        const message = parseMessage(line.result.message);
        const id = (line.result.message as { id?: unknown }).id;
        const result = { choices: [message.choice], usage: message.usage, model: message.model, ...(typeof id === "string" ? { requestId: id } : {}) };
        return { customId, result: redactResult(result, context) };
      } catch (failure) {
        if (!(failure instanceof MalformedBody)) throw failure;
        return { customId, error: asBatchItem(malformedResponse(context, failure.message, { usage: failure.usage }), context) };
      }
    case "errored": {
      const body = line.result.error as { error?: { type?: unknown } } | undefined;
      const type = typeof body?.error?.type === "string" ? body.error.type : "api_error";
      return { customId, error: asBatchItem(httpError(context, STATUS_OF_ERROR[type] ?? 500, new Headers(), body, "errored in the batch"), context) };
    }
    case "canceled":
      return { customId, error: new BatchItemError(context.provider, "the batch was canceled before this request was processed", { retryable: false }) };
    case "expired":
      return { customId, error: new BatchItemError(context.provider, "the batch expired (24 hours) before this request was processed", { retryable: true }) };
    default:
      return undefined;
  }
}

function requestCount(counts: Anthropic.Messages.MessageBatchRequestCounts): number {
  return counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired;
}

export function anthropicBatchTransport(client: Anthropic, model: string, context: FailureContext): BatchTransport {
  const call = <T>(signal: AbortSignal, fn: (signal: AbortSignal) => Promise<T>) =>
    batchApiCall(context, Anthropic, signal, BATCH_CALL_TIMEOUT_MS, fn);

  /** Whether an ended batch's results are exactly the requests in `wanted`, by custom id. */
  async function sameCustomIds(batchId: string, wanted: ReadonlySet<string>, signal: AbortSignal): Promise<boolean> {
    const seen = new Set<string>();
    const deadline = startDeadline(signal, BATCH_DOWNLOAD_TIMEOUT_MS);
    try {
      const decoder = await client.messages.batches.results(batchId, {}, { signal: deadline.signal });
      for await (const raw of decoder) {
        const id = (raw as { custom_id?: unknown }).custom_id;
        if (typeof id !== "string" || !wanted.has(id)) return false;
        seen.add(id);
      }
    } catch (error) {
      throw classifyFailure(error, Anthropic, context, signal, deadline);
    } finally {
      deadline.clear();
    }
    return seen.size === wanted.size;
  }

  /** Not found: certainly absent, unless a batch of the same size is still running (then no one can tell yet). */
  function undecidedOrAbsent(running: number): undefined {
    if (running === 0) return undefined;
    throw new UndecidedError(
      context.provider,
      `${running} batch${running === 1 ? "" : "es"} of as many requests ${running === 1 ? "is" : "are"} still running; only ${running === 1 ? "its" : "their"} results can tell whether one is the batch whose creation reply was lost`,
      { retryable: false },
    );
  }

  return {
    maxRequests: 100_000,
    // The documented limit is 256 MB; a margin below it in either reading (10^6 or 2^20 bytes).
    maxBytes: 250_000_000,

    encode({ customId, request }): EncodedLine {
      let params;
      try {
        params = messageParams(model, request);
      } catch (error) {
        if (error instanceof UnsendableRequest) throw new BadRequestError(context.provider, scrub(error.message, context), { retryable: false });
        throw error;
      }
      const body = { custom_id: customId, params };
      return { customId, bytes: Buffer.byteLength(JSON.stringify(body)) + 1, body };
    },

    async submit(lines, { signal }) {
      const batch = await call(signal, (s) =>
        client.messages.batches.create({ requests: lines.map((line) => line.body) as Anthropic.Messages.BatchCreateParams["requests"] }, { signal: s }),
      );
      return { id: batch.id };
    },

    async find(_label, { signal, since, customIds, known }) {
      const oldest = Date.parse(since) - FIND_CLOCK_MARGIN_MS;
      const wanted = new Set(customIds);
      let running = 0;
      let after: string | undefined;
      for (;;) {
        const page = await call(signal, (s) => client.messages.batches.list({ limit: 100, ...(after !== undefined ? { after_id: after } : {}) }, { signal: s }));
        for (const batch of page.data) {
          if (Date.parse(batch.created_at) < oldest) return undecidedOrAbsent(running);
          if (known.has(batch.id) || requestCount(batch.request_counts) !== wanted.size) continue;
          if (batch.processing_status !== "ended") running += 1;
          else if (await sameCustomIds(batch.id, wanted, signal)) return { id: batch.id };
        }
        const last = page.data.at(-1);
        if (!page.has_more || last === undefined) return undecidedOrAbsent(running);
        after = last.id;
      }
    },

    async poll(ref, { signal }): Promise<BatchState> {
      const batch = await call(signal, (s) => client.messages.batches.retrieve(ref.id, {}, { signal: s }));
      return {
        status: batch.processing_status === "ended" ? "ended" : "running",
        vendorStatus: batch.processing_status,
        counts: { ...batch.request_counts },
        ...(batch.ended_at ? { endedAt: batch.ended_at } : {}),
      };
    },

    async *results(ref, { signal }) {
      if (signal.aborted) throw signal.reason;
      const deadline = startDeadline(signal, BATCH_DOWNLOAD_TIMEOUT_MS);
      try {
        const decoder = await client.messages.batches.results(ref.id, {}, { signal: deadline.signal });
        for await (const raw of decoder) {
          const line = readLine(raw, context);
          if (line !== undefined) yield line;
        }
      } catch (error) {
        throw classifyFailure(error, Anthropic, context, signal, deadline);
      } finally {
        deadline.clear();
      }
    },
  };
}
