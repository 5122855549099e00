/**
 * A server that sends the headers and part of the body, then stalls: the
 * SDKs' own timeouts end at the headers, so this checks that the provider's
 * deadline also covers the body. A real local HTTP server, since an
 * intercepted response cannot stall half-way.
 */
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TimeoutError } from "../../src/errors.ts";
import { createAnthropicProvider } from "../../src/providers/anthropic.ts";
import { createOpenAIProvider } from "../../src/providers/openai.ts";
import type { CompletionRequest } from "../../src/providers/types.ts";

let server: Server;
let baseURL: string;
const open = new Set<import("node:net").Socket>();
/** Resolvers waiting for the next request to arrive, with its connection. */
const arrivals: ((socket: import("node:net").Socket) => void)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    arrivals.shift()?.(req.socket);
    // /silent/…: no answer at all, not even the headers.
    if (req.url?.startsWith("/silent/") === true) return;
    res.writeHead(200, { "content-type": "application/json" });
    res.write('{"id":"msg_01","type":"message","content":[{"type":"text","text":"{\\"ans');
    // …and nothing more.
  });
  server.on("connection", (socket) => {
    open.add(socket);
    socket.on("close", () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const socket of open) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const request: CompletionRequest = {
  system: "persona",
  messages: [{ role: "user", content: "question" }],
  maxTokens: 50,
  temperature: 1,
  n: 1,
};

describe("a body that stalls after the headers", () => {
  it.each([
    ["anthropic", () => createAnthropicProvider("claude-haiku-5-5", { apiKey: "k", baseURL, timeoutMs: 300, env: {} })],
    ["openai", () => createOpenAIProvider("gpt-6-luna", { apiKey: "k", baseURL: `${baseURL}/v1`, timeoutMs: 300, env: {} })],
  ])("%s: ends in a TimeoutError at the deadline", async (_vendor, make) => {
    const started = Date.now();
    const error = await make()
      .complete(request, { signal: new AbortController().signal })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe("a caller's abort while a request is in flight", () => {
  // The timeout is far away: only the abort can end these requests.
  it.each([
    ["before the headers", "silent"],
    ["while the body stalls", "stall"],
  ])("openai: %s, ends the request with the caller's reason and closes its connection", async (_when, path) => {
    const provider = createOpenAIProvider("gpt-6-luna", { apiKey: "k", baseURL: `${baseURL}/${path}/v1`, timeoutMs: 600_000, env: {} });
    const arrived = new Promise<import("node:net").Socket>((resolve) => arrivals.push(resolve));
    const caller = new AbortController();
    const outcome = provider.complete(request, { signal: caller.signal }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const socket = await arrived;
    const closed = new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once("close", () => resolve())));
    const reason = new Error("stopped by the user");
    caller.abort(reason);
    expect(await outcome).toBe(reason);
    await closed;
  });
});
