/** A call as the store records it before sending, for store tests: one respondent's one item. */
import type { CachedRequest, CallStart } from "../../src/store/calls.ts";

export function callStart(runId: number, key: string, overrides: Partial<CallStart> = {}): CallStart {
  return {
    runId,
    requestKey: key,
    study: "s",
    model: "openai:m",
    wave: "w1",
    respondent: "r1",
    item: "q",
    generation: 1,
    n: 1,
    attempt: 1,
    try: 1,
    system: "You are r1.",
    messages: [{ role: "user", content: "Q?" }],
    parameters: { temperature: 1 },
    reservedUsd: 0.01,
    startedAt: "2025-01-01T00:00:01.000Z",
    ...overrides,
  };
}

/** The cache's look-up of the request `key` in the cell callStart records by default (or the one given). */
export function cachedRequest(key: string, cell: Partial<Omit<CachedRequest, "key">> = {}): CachedRequest {
  return { key, model: "openai:m", wave: "w1", respondent: "r1", item: "q", ...cell };
}
