/**
 * An offline emulation of a batch API for `simulated:` models, so that
 * `silicon generate --batch` (and its tests and demos) runs without a
 * vendor. A batch is answered when it is submitted and ends at once; its
 * results live in the memory of the process that submitted it. A later
 * process cannot find it (a 404, as a vendor says for an unknown batch): the
 * batch is then lost and its requests asked again, which costs nothing and
 * gives the same answers, since the simulator is deterministic.
 */
import { randomUUID } from "node:crypto";
import { BadRequestError, BatchItemError, ProviderError } from "../errors.ts";
import type { BatchResultLine, BatchTransport, CompletionRequest, Provider } from "./types.ts";

/** Requests answered at once while a batch is submitted (the simulator's optional latency applies to each). */
const PARALLEL = 256;

export function simulatedBatchTransport(provider: Provider): BatchTransport {
  const batches = new Map<string, BatchResultLine[]>();
  const unknown = (id: string) =>
    new BadRequestError(provider.id, `HTTP 404: no batch ${id} (simulated batches live only in the process that submitted them)`, {
      status: 404,
      retryable: false,
    });

  return {
    maxRequests: 100_000,
    maxBytes: Infinity,

    encode({ customId, request }) {
      if (request.subject === undefined) {
        throw new BadRequestError(provider.id, "the request has no subject: the simulated provider answers from the respondent's profile", { retryable: false });
      }
      return { customId, bytes: 0, body: request };
    },

    async submit(lines, { signal }) {
      const results: BatchResultLine[] = [];
      for (let start = 0; start < lines.length; start += PARALLEL) {
        const chunk = lines.slice(start, start + PARALLEL);
        results.push(
          ...(await Promise.all(
            chunk.map(async ({ customId, body }): Promise<BatchResultLine> => {
              try {
                return { customId, result: await provider.complete(body as CompletionRequest, { signal }) };
              } catch (error) {
                if (!(error instanceof ProviderError)) throw error;
                return { customId, error: new BatchItemError(provider.id, error.message, { retryable: error.retryable }) };
              }
            }),
          )),
        );
      }
      const id = `simbatch_${randomUUID()}`;
      batches.set(id, results);
      return { id };
    },

    async poll(ref) {
      const results = batches.get(ref.id);
      if (results === undefined) throw unknown(ref.id);
      const errored = results.filter((line) => "error" in line).length;
      return { status: "ended", vendorStatus: "ended", counts: { succeeded: results.length - errored, errored } };
    },

    async *results(ref) {
      const results = batches.get(ref.id);
      if (results === undefined) throw unknown(ref.id);
      yield* results;
    },
  };
}
