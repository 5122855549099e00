/**
 * What the batch transports share: one batch API call under a deadline with
 * its failure classified like any vendor call, results read line by line,
 * and a failed line turned into a BatchItemError.
 */
import { BatchItemError, type ProviderError } from "../errors.ts";
import { startDeadline } from "./deadline.ts";
import { classifyFailure, type FailureContext, type SdkErrorClasses } from "./errors.ts";

/** Listing, creating and polling batches are small calls; results can be hundreds of megabytes. */
export const BATCH_CALL_TIMEOUT_MS = 120_000;
export const BATCH_DOWNLOAD_TIMEOUT_MS = 30 * 60_000;

export async function batchApiCall<T>(
  context: FailureContext,
  sdk: SdkErrorClasses,
  signal: AbortSignal,
  timeoutMs: number,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (signal.aborted) throw signal.reason;
  const deadline = startDeadline(signal, timeoutMs);
  try {
    return await fn(deadline.signal);
  } catch (error) {
    throw classifyFailure(error, sdk, context, signal, deadline);
  } finally {
    deadline.clear();
  }
}

/** The lines of a streamed body (JSONL), parsed; a line that is not JSON is skipped (its request then has no result). */
export async function* jsonLines(body: ReadableStream<Uint8Array> | null): AsyncGenerator<unknown> {
  if (body === null) return;
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      const parsed = parseLine(line);
      if (parsed !== undefined) yield parsed;
    }
  }
  const last = parseLine(buffer + decoder.decode());
  if (last !== undefined) yield last;
}

function parseLine(line: string): unknown {
  if (line.trim() === "") return undefined;
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}

/** A ProviderError about one line, as a BatchItemError with the same message, status and retryability. */
export function asBatchItem(error: ProviderError, context: FailureContext): BatchItemError {
  const prefix = `${context.provider}: `;
  const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  return new BatchItemError(context.provider, message, {
    retryable: error.retryable,
    ...(error.status !== undefined ? { status: error.status } : {}),
    ...(error.billedUsage !== undefined ? { billedUsage: error.billedUsage } : {}),
  });
}
