/**
 * A fake OpenAI-compatible vendor for tests and benchmarks: an HTTP server on
 * 127.0.0.1 (random port) speaking Chat Completions — structured output
 * (response_format json_schema), `n`, logprobs/top_logprobs, refusals,
 * usage with cached tokens, rate-limit headers, x-request-id — with
 * configurable latency, a requests-per-minute limit enforced by 429 +
 * retry-after, and fault injection (429/500/502/503/529, connection resets,
 * responses slower than the client's timeout, malformed and truncated
 * bodies). It counts received and billed requests by request key (sha256 of
 * the request body), so tests can prove that no paid request was repeated.
 *
 * Point the OpenAI provider at it with OPENAI_BASE_URL=vendor.baseURL.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type Fault = "429" | "500" | "502" | "503" | "529" | "reset" | "slow" | "malformed" | "truncated";

export interface FakeVendorOptions {
  /** Milliseconds before answering: fixed, or uniform in [min, max]. */
  latencyMs?: number | [number, number];
  /** Requests per window (default window 60 s) beyond which the vendor answers 429 + retry-after. */
  requestsPerMinute?: number;
  windowMs?: number;
  /** Fraction of requests given each fault (drawn from a seeded generator). */
  faults?: Partial<Record<Fault, number>>;
  /** Decides the fault of each request, before `faults` (return undefined for none). */
  script?: (request: ReceivedRequest) => Fault | undefined;
  /** How long a "slow" response takes (past the client's timeout). */
  slowMs?: number;
  /** Seconds in the retry-after of injected 429/503/529 faults. */
  retryAfterSeconds?: number;
  /** When set, any other bearer token gets a 401 whose body echoes the header it got. */
  apiKey?: string;
  /** The answer text of choice `index` (default: a valid answer from the schema or prompt). */
  answer?: (request: ReceivedRequest, index: number) => string;
  /** Fraction of choices that are refusals (message.refusal). */
  refusalRate?: number;
  /** Seed of the fault, latency and answer draws. */
  seed?: number;
  /** Report cached prompt tokens for a system prompt seen before (OpenAI prefix caching). */
  prefixCaching?: boolean;
}

export interface ReceivedRequest {
  /** 1-based arrival number. */
  number: number;
  key: string;
  body: ChatBody;
  authorization: string | undefined;
}

interface ChatMessageBody {
  role: string;
  content: string | { type: string; text?: string }[] | null;
}

interface ChatBody {
  model: string;
  messages: ChatMessageBody[];
  n?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  seed?: number;
  logprobs?: boolean;
  top_logprobs?: number;
  response_format?: { type: string; json_schema?: { name: string; schema: Record<string, unknown>; strict?: boolean } };
}

export interface KeyCount {
  received: number;
  billed: number;
}

export interface VendorStats {
  received: number;
  billed: number;
  /** By request key: how often received and billed. */
  byKey: Map<string, KeyCount>;
  /** Request key of every billed response id (the body's id and the x-request-id header). */
  keyOfResponse: Map<string, string>;
  faults: Partial<Record<Fault | "rate-limit" | "auth", number>>;
  /** Every Authorization header received (for leak tests). */
  authorizations: Set<string>;
  /** 429s answered with a retry-after, and requests that arrived before one had elapsed (not honoured). */
  retryAfters: number;
  earlyRequests: number;
}

/**
 * A request that arrives within this long after a 429 went out was on its way
 * already (sent before the client could read the 429); later ones must wait
 * for the retry-after.
 */
const IN_FLIGHT_GRACE_MS = 5;

export class FakeVendor {
  readonly options: FakeVendorOptions;
  readonly stats: VendorStats = {
    received: 0,
    billed: 0,
    byKey: new Map(),
    keyOfResponse: new Map(),
    faults: {},
    authorizations: new Set(),
    retryAfters: 0,
    earlyRequests: 0,
  };
  /** [from, until): when a request would ignore a retry-after the vendor sent. */
  private readonly holds: [number, number][] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly windowStarts: number[] = [];
  private readonly seenSystems = new Set<string>();
  private random: () => number;
  private nextId = 0;

  constructor(options: FakeVendorOptions = {}) {
    this.options = options;
    this.random = mulberry32(options.seed ?? 1);
  }

  /** Starts listening; resolves with the base URL (ending in /v1). */
  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return this.baseURL;
  }

  get baseURL(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error("the fake vendor is not started");
    return `http://127.0.0.1:${address.port}/v1`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Changes options on the fly (e.g. start a 429 storm mid-run). */
  set(options: Partial<FakeVendorOptions>): void {
    Object.assign(this.options, options);
  }

  /** How often the request with this key was received and billed. */
  count(key: string): KeyCount {
    return this.stats.byKey.get(key) ?? { received: 0, billed: 0 };
  }

  /** Keys received more than once after being billed (a repeated paid request). */
  repeatedPaidKeys(): string[] {
    return [...this.stats.byKey].filter(([, c]) => c.billed > 1).map(([key]) => key);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "").split("?")[0]!;
    if (req.method === "GET" && /\/models$/.test(path)) {
      return json(res, 200, { object: "list", data: [{ id: "fake-model", object: "model", created: 0, owned_by: "silicon-tests" }] });
    }
    if (req.method !== "POST" || !/\/chat\/completions$/.test(path)) {
      return json(res, 404, { error: { message: `Unknown request URL: ${req.method} ${path}`, type: "invalid_request_error", code: "unknown_url" } });
    }
    const raw = await readBody(req);
    let body: ChatBody;
    try {
      body = JSON.parse(raw) as ChatBody;
    } catch {
      return json(res, 400, { error: { message: "We could not parse the JSON body of your request.", type: "invalid_request_error" } });
    }
    const authorization = req.headers.authorization;
    if (authorization !== undefined) this.stats.authorizations.add(authorization);
    const key = createHash("sha256").update(canonicalJson(body)).digest("hex");
    this.stats.received += 1;
    const counts = this.stats.byKey.get(key) ?? { received: 0, billed: 0 };
    counts.received += 1;
    this.stats.byKey.set(key, counts);
    const request: ReceivedRequest = { number: this.stats.received, key, body, authorization };

    if (this.options.apiKey !== undefined && authorization !== `Bearer ${this.options.apiKey}`) {
      this.tally("auth");
      // Real vendors echo (part of) the key they got; a client must not log it.
      return json(res, 401, {
        error: { message: `Incorrect API key provided: ${authorization ?? "(none)"}.`, type: "invalid_request_error", code: "invalid_api_key" },
      });
    }
    if (body.messages === undefined || !Array.isArray(body.messages) || typeof body.model !== "string") {
      return json(res, 400, { error: { message: "'messages' and 'model' are required", type: "invalid_request_error" } });
    }

    // A client may stamp when it sent the request (x-sent-at, ms): exact even when its event loop is busy.
    const stamped = Number(req.headers["x-sent-at"]);
    const arrived = Number.isFinite(stamped) && stamped > 0 ? stamped : Date.now();
    if (this.holds.some(([from, until]) => arrived >= from && arrived < until)) this.stats.earlyRequests += 1;
    const rateLimited = this.overRateLimit();
    if (rateLimited !== undefined) {
      this.tally("rate-limit");
      this.stats.retryAfters += 1;
      const now = Date.now();
      this.holds.push([now + IN_FLIGHT_GRACE_MS, now + rateLimited]);
      if (this.holds.length > 1000) this.holds.splice(0, 500);
      res.setHeader("retry-after", String(Math.ceil(rateLimited / 1000)));
      res.setHeader("retry-after-ms", String(rateLimited));
      return json(res, 429, { error: { message: "Rate limit reached for requests", type: "requests", code: "rate_limit_exceeded" } });
    }

    const fault = this.options.script?.(request) ?? this.drawFault();
    if (fault !== undefined) this.tally(fault);
    const retryAfter = String(this.options.retryAfterSeconds ?? 1);
    switch (fault) {
      case "429":
        res.setHeader("retry-after", retryAfter);
        return json(res, 429, { error: { message: "Rate limit reached for requests", type: "requests", code: "rate_limit_exceeded" } });
      case "500":
        return json(res, 500, { error: { message: "The server had an error while processing your request.", type: "server_error" } });
      case "502":
        res.writeHead(502, { "content-type": "text/html" });
        return void res.end("<html><body><h1>502 Bad Gateway</h1></body></html>");
      case "503":
        res.setHeader("retry-after", retryAfter);
        return json(res, 503, { error: { message: "The engine is currently overloaded, please try again later.", type: "server_error" } });
      case "529":
        res.setHeader("retry-after", retryAfter);
        return json(res, 529, { error: { message: "Overloaded", type: "overloaded_error" } });
      case "reset":
        req.socket.destroy();
        return;
    }

    await sleep(this.latency());
    if (fault === "slow") await sleep(this.options.slowMs ?? 30_000);
    // The vendor has done the work: from here on the request is billed,
    // whether or not the client gets (or can read) the response.
    const completion = this.complete(request);
    counts.billed += 1;
    this.stats.billed += 1;
    this.stats.keyOfResponse.set(completion.id, key);
    this.stats.keyOfResponse.set(completion.requestId, key);
    if (res.destroyed) return;
    res.setHeader("x-request-id", completion.requestId);
    for (const [name, value] of Object.entries(this.rateLimitHeaders())) res.setHeader(name, value);
    if (fault === "malformed") {
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end("<html>upstream error</html>");
    }
    const text = JSON.stringify(completion.body);
    if (fault === "truncated") {
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end(text.slice(0, Math.floor(text.length / 2)));
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(text);
  }

  private complete(request: ReceivedRequest): { id: string; requestId: string; body: Record<string, unknown> } {
    this.nextId += 1;
    const id = `chatcmpl-fake${this.nextId}`;
    const requestId = `req_fake${this.nextId}`;
    const body = request.body;
    const n = body.n ?? 1;
    const promptText = body.messages.map((m) => contentText(m.content)).join("\n");
    const choices = Array.from({ length: n }, (_, index) => {
      const refusal = this.options.refusalRate !== undefined && this.random() < this.options.refusalRate;
      const content = refusal ? null : (this.options.answer?.(request, index) ?? defaultAnswer(body, request.key, index));
      const choice: Record<string, unknown> = {
        index,
        message: { role: "assistant", content, refusal: refusal ? "I'm sorry, but I can't share personal political opinions." : null },
        logprobs: null,
        finish_reason: "stop",
      };
      if (body.logprobs === true && content !== null) choice.logprobs = { content: firstTokenLogprobs(content, body.top_logprobs ?? 0) };
      return choice;
    });
    const promptTokens = Math.ceil(promptText.length / 4) + 4 * body.messages.length;
    const system = body.messages.find((m) => m.role === "system" || m.role === "developer");
    const systemText = system === undefined ? "" : contentText(system.content);
    let cached = 0;
    if (this.options.prefixCaching === true && systemText !== "") {
      if (this.seenSystems.has(systemText)) cached = Math.min(promptTokens, Math.ceil(systemText.length / 4));
      this.seenSystems.add(systemText);
    }
    const completionTokens = choices.reduce((sum, c) => sum + Math.ceil(String((c.message as { content: string | null }).content ?? "").length / 4), 0);
    return {
      id,
      requestId,
      body: {
        id,
        object: "chat.completion",
        created: 1_700_000_000 + this.nextId,
        model: `${body.model}-2025-01-01`,
        choices,
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
          prompt_tokens_details: { cached_tokens: cached, audio_tokens: 0 },
          completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
        },
        service_tier: "default",
        system_fingerprint: "fp_fake",
      },
    };
  }

  private overRateLimit(): number | undefined {
    const limit = this.options.requestsPerMinute;
    if (limit === undefined) return undefined;
    const windowMs = this.options.windowMs ?? 60_000;
    const now = Date.now();
    while (this.windowStarts.length > 0 && this.windowStarts[0]! <= now - windowMs) this.windowStarts.shift();
    if (this.windowStarts.length >= limit) return Math.max(1, this.windowStarts[0]! + windowMs - now);
    this.windowStarts.push(now);
    return undefined;
  }

  private rateLimitHeaders(): Record<string, string> {
    const limit = this.options.requestsPerMinute;
    if (limit === undefined) return {};
    const windowMs = this.options.windowMs ?? 60_000;
    const oldest = this.windowStarts[0] ?? Date.now();
    const resetMs = Math.max(0, oldest + windowMs - Date.now());
    return {
      "x-ratelimit-limit-requests": String(limit),
      "x-ratelimit-remaining-requests": String(Math.max(0, limit - this.windowStarts.length)),
      "x-ratelimit-reset-requests": formatDuration(resetMs),
      "x-ratelimit-limit-tokens": "1000000",
      "x-ratelimit-remaining-tokens": "999000",
      "x-ratelimit-reset-tokens": "6ms",
    };
  }

  private drawFault(): Fault | undefined {
    const faults = this.options.faults;
    if (faults === undefined) return undefined;
    let draw = this.random();
    for (const [fault, rate] of Object.entries(faults) as [Fault, number][]) {
      if (draw < rate) return fault;
      draw -= rate;
    }
    return undefined;
  }

  private latency(): number {
    const latency = this.options.latencyMs ?? 0;
    if (typeof latency === "number") return latency;
    return latency[0] + this.random() * (latency[1] - latency[0]);
  }

  private tally(what: Fault | "rate-limit" | "auth"): void {
    this.stats.faults[what] = (this.stats.faults[what] ?? 0) + 1;
  }
}

/** Starts a fake vendor; remember to `close()` it. */
export async function startFakeVendor(options: FakeVendorOptions = {}): Promise<FakeVendor> {
  const vendor = new FakeVendor(options);
  await vendor.start();
  return vendor;
}

/**
 * A valid answer, deterministic in the request key: under json_schema a value
 * the schema allows (an enum member, or a number in the range its description
 * gives); in free text the code of a listed option ("3 = Agree") or a number.
 */
function defaultAnswer(body: ChatBody, key: string, index: number): string {
  const draw = parseInt(createHash("sha256").update(`${key}:${index}`).digest("hex").slice(0, 8), 16) / 0x1_0000_0000;
  const schema = body.response_format?.json_schema?.schema as { properties?: Record<string, { enum?: number[]; type?: string; description?: string }> } | undefined;
  const answer = schema?.properties?.answer;
  if (answer !== undefined) {
    if (answer.enum !== undefined) return JSON.stringify({ answer: answer.enum[Math.floor(draw * answer.enum.length)] });
    const [min, max] = rangeIn(answer.description ?? "") ?? [0, 100];
    return JSON.stringify({ answer: Math.round(min + draw * (max - min)) });
  }
  const last = contentText(body.messages.at(-1)?.content ?? "");
  const codes = [...last.matchAll(/^(-?\d+) = /gm)].map((m) => m[1]!);
  if (codes.length > 0) return codes[Math.floor(draw * codes.length)]!;
  const [min, max] = rangeIn(last) ?? [0, 100];
  return String(Math.round(min + draw * (max - min)));
}

function rangeIn(text: string): [number, number] | undefined {
  const match = /from (-?\d+(?:\.\d+)?) to (-?\d+(?:\.\d+)?)/.exec(text);
  return match === null ? undefined : [Number(match[1]), Number(match[2])];
}

function firstTokenLogprobs(content: string, top: number): unknown[] {
  const token = content.slice(0, 1);
  const alternatives = Array.from({ length: top }, (_, i) => ({
    token: i === 0 ? token : String(i),
    logprob: i === 0 ? -0.1 : -2 - i,
    bytes: null,
  }));
  return [{ token, logprob: -0.1, bytes: null, top_logprobs: alternatives }];
}

function contentText(content: ChatMessageBody["content"]): string {
  if (content === null) return "";
  if (typeof content === "string") return content;
  return content.map((part) => part.text ?? "").join("");
}

/** OpenAI's reset format: "1s", "6m0s", "120ms". */
function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  const seconds = Math.ceil(ms / 1000);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${seconds % 60}s`;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

/** JSON with sorted keys: the same request always has the same key. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
