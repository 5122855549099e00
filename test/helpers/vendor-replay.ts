/**
 * Replays recorded vendor replies (test/fixtures/providers/) with nock and
 * records what silicon sent: method, path, headers, JSON body.
 */
import { readFileSync } from "node:fs";
import nock from "nock";

const FIXTURES = new URL("../fixtures/providers/", import.meta.url);

export function fixture(vendor: "anthropic" | "openai", name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`${vendor}/${name}.json`, FIXTURES), "utf8")) as Record<string, unknown>;
}

export interface SentRequest {
  path: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** An interceptor base that records each request it matches into `sent`. */
export function vendorScope(origin: string, sent: SentRequest[]): nock.Scope {
  const scope = nock(origin);
  scope.on("request", (req: { path?: string; url?: string; headers: Headers | Record<string, string | string[]> }, _: unknown, body: string) => {
    const headers: Record<string, string> = {};
    const add = (value: unknown, name: string) => {
      headers[name.toLowerCase()] = String(value);
    };
    if (req.headers instanceof Headers) req.headers.forEach(add);
    else for (const [name, value] of Object.entries(req.headers)) add(value, name);
    const path = req.path ?? new URL(req.url ?? "/", origin).pathname;
    sent.push({ path, headers, body: body ? (JSON.parse(body) as Record<string, unknown>) : {} });
  });
  return scope;
}

/** A reply function that holds the response headers back for `ms` (nock's own delay only slows the body). */
export function after<T>(ms: number, reply: T): () => Promise<T> {
  return () => new Promise((resolve) => setTimeout(() => resolve(reply), ms));
}

/** Sets up nock for one test file: no real network, nothing left over. */
export function isolateNetwork(hooks: { beforeEach: (fn: () => void) => void; afterEach: (fn: () => void) => void }): void {
  hooks.beforeEach(() => {
    nock.disableNetConnect();
  });
  hooks.afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });
}
