/**
 * An in-memory batch API for engine tests: answers each batched request
 * through a FakeProvider, ends a batch after a set number of polls, and can
 * make chosen requests come back errored, expired or missing. It keeps its
 * batches across generate() calls (a vendor outlives the client), unless
 * told to forget them.
 */
import { BadRequestError, BatchItemError } from "../../src/errors.ts";
import type { BatchResultLine, BatchTransport, CompletionRequest, EncodedLine } from "../../src/providers/types.ts";
import type { FakeProvider } from "./fake-provider.ts";

export type LineFault = "errored" | "rejected" | "expired" | "missing";

export interface FakeBatch {
  id: string;
  label: string;
  requests: { customId: string; request: CompletionRequest }[];
  polls: number;
}

export class FakeBatchApi implements BatchTransport {
  readonly maxRequests: number;
  readonly maxBytes = Infinity;
  readonly batches: FakeBatch[] = [];
  /** Polls a batch answers `in_progress` before it ends. */
  pollsBeforeEnd: number;
  /** Decides a request's fault in the batch (by its request, and how often its key was submitted). */
  fault: (request: CompletionRequest, submission: number) => LineFault | undefined = () => undefined;
  /** Make submit throw this. */
  submitError: Error | undefined;
  private readonly provider: FakeProvider;
  private readonly submissions = new Map<string, number>();

  constructor(provider: FakeProvider, options: { pollsBeforeEnd?: number; maxRequests?: number } = {}) {
    this.provider = provider;
    this.pollsBeforeEnd = options.pollsBeforeEnd ?? 0;
    this.maxRequests = options.maxRequests ?? 100_000;
  }

  /** Custom ids of every request submitted, by batch. */
  get submitted(): string[][] {
    return this.batches.map((b) => b.requests.map((r) => r.customId));
  }

  forget(): void {
    this.batches.splice(0);
  }

  encode({ customId, request }: { customId: string; request: CompletionRequest }): EncodedLine {
    return { customId, bytes: 100, body: request };
  }

  async submit(lines: EncodedLine[], { label }: { label: string }) {
    if (this.submitError !== undefined) throw this.submitError;
    const id = `batch_fake${this.batches.length + 1}`;
    this.batches.push({ id, label, requests: lines.map((l) => ({ customId: l.customId, request: l.body as CompletionRequest })), polls: 0 });
    return { id, inputFileId: `file-${id}` };
  }

  async find(label: string) {
    const batch = this.batches.find((b) => b.label === label);
    return batch === undefined ? undefined : { id: batch.id };
  }

  async poll(ref: { id: string }) {
    const batch = this.get(ref.id);
    batch.polls += 1;
    const ended = batch.polls > this.pollsBeforeEnd;
    return {
      status: ended ? ("ended" as const) : ("running" as const),
      vendorStatus: ended ? "completed" : "in_progress",
      counts: { total: batch.requests.length, completed: ended ? batch.requests.length : 0, failed: 0 },
    };
  }

  async *results(ref: { id: string }): AsyncGenerator<BatchResultLine> {
    const batch = this.get(ref.id);
    for (const { customId, request } of batch.requests) {
      const submission = (this.submissions.get(customId) ?? 0) + 1;
      this.submissions.set(customId, submission);
      const fault = this.fault(request, submission);
      if (fault === "missing") continue;
      if (fault === "expired") {
        yield { customId, error: new BatchItemError("openai:fake-model", "batch request batch_expired: This request could not be executed before the completion window expired.", { retryable: true }) };
      } else if (fault === "errored") {
        yield { customId, error: new BatchItemError("openai:fake-model", "HTTP 500 server_error: The server had an error", { status: 500, retryable: true }) };
      } else if (fault === "rejected") {
        yield { customId, error: new BatchItemError("openai:fake-model", "HTTP 400 invalid_request_error: max_tokens is too large", { status: 400, retryable: false }) };
      } else {
        yield { customId, result: await this.provider.complete(request) };
      }
    }
  }

  private get(id: string): FakeBatch {
    const batch = this.batches.find((b) => b.id === id);
    if (batch === undefined) throw new BadRequestError("openai:fake-model", `HTTP 404: No batch found with id '${id}'`, { status: 404, retryable: false });
    return batch;
  }
}

/** A FakeProvider that also has the fake batch API. */
export function withBatchApi(provider: FakeProvider, api: FakeBatchApi): FakeProvider {
  Object.defineProperty(provider, "batch", { value: api, enumerable: true });
  return provider;
}
