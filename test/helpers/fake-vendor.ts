/**
 * A fake vendor for tests and benchmarks: an HTTP server on 127.0.0.1
 * (random port) speaking OpenAI Chat Completions — structured output
 * (response_format json_schema), `n`, logprobs/top_logprobs, refusals,
 * usage with cached tokens, rate-limit headers, x-request-id — and the
 * Anthropic Messages API (output_config json_schema, refusals, usage,
 * request-id, errors in Anthropic's shape), with configurable latency, a
 * requests-per-minute limit enforced by 429 + retry-after, and fault
 * injection (429/500/502/503/529, connection resets, responses slower than
 * the client's timeout, malformed and truncated bodies). It counts received
 * and billed requests by request key (sha256 of the request body), so tests
 * can prove that no paid request was repeated, and reconcile a store's
 * accounts with the vendor's.
 *
 * Point the OpenAI provider at it with OPENAI_BASE_URL=vendor.baseURL, the
 * Anthropic provider with ANTHROPIC_BASE_URL=vendor.anthropicBaseURL.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { createRng } from "../../src/simulation/random.ts";

/**
 * `empty`: a 200 that bills the call and says so in its usage, with no
 * answer in it (OpenAI `choices: []`, an Anthropic text block without text).
 */
export type Fault = "429" | "500" | "502" | "503" | "529" | "reset" | "slow" | "malformed" | "truncated" | "empty";

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
  /**
   * How long a "slow" response takes (past the client's timeout), or
   * "abandoned": until the client gives up on it and closes the connection,
   * however long its timeout (so a test needs no race between two clocks).
   */
  slowMs?: number | "abandoned";
  /** Seconds in the retry-after of injected 429/503/529 faults. */
  retryAfterSeconds?: number;
  /** Also send retry-after-ms (as OpenAI does) with injected 429/503/529 faults. */
  retryAfterMs?: number;
  /** When set, any other bearer token gets a 401 whose body echoes the header it got. */
  apiKey?: string;
  /** Echo the Authorization header in every error and garbled body, as careless proxies do (leak tests). */
  echoAuthorization?: boolean;
  /** OpenAI Batch API: a batch ends (and its requests are billed) this long after it is created (default 0: at the first look). */
  batchDelayMs?: number;
  /** OpenAI Batch API: a line of a batch that comes back as an error instead of a response. */
  batchLineFault?: (request: ReceivedRequest) => "batch_expired" | "server_error" | undefined;
  /** OpenAI Batch API: a fault for a batch API call (`create-lost`: the batch is created, the response lost). */
  batchCallFault?: (call: BatchApiCall) => "500" | "reset" | "create-lost" | undefined;
  /** The answer text of choice `index` (undefined, or by default: a valid answer from the schema or prompt). */
  answer?: (request: ReceivedRequest, index: number) => string | undefined;
  /** Fraction of choices that are refusals (message.refusal). */
  refusalRate?: number;
  /** Seed of the fault, latency and answer draws. */
  seed?: number;
  /** Report cached prompt tokens for a system prompt seen before (OpenAI prefix caching). */
  prefixCaching?: boolean;
  /** Token counts to report for a request (default: about four characters per token). */
  usage?: (request: ReceivedRequest) => { input?: number; output?: number };
}

export type WireFormat = "openai" | "anthropic";

/** A call to the fake's OpenAI Batch API, numbered per operation. */
export interface BatchApiCall {
  operation: "upload" | "create" | "retrieve" | "list" | "content";
  number: number;
}

interface FakeFile {
  id: string;
  filename: string;
  purpose: string;
  content: Buffer;
}

interface FakeBatchJob {
  id: string;
  inputFileId: string;
  metadata: Record<string, string>;
  createdAt: number;
  readyAt: number;
  status: "validating" | "in_progress" | "completed";
  total: number;
  completed: number;
  failed: number;
  outputFileId: string | null;
  errorFileId: string | null;
}

export interface ReceivedRequest {
  /** 1-based arrival number. */
  number: number;
  key: string;
  /** Which API was called: Chat Completions or Messages. */
  format: WireFormat;
  /** The body in Chat Completions terms (an Anthropic body is read into this shape). */
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

interface MessagesBody {
  model: string;
  max_tokens?: number;
  system?: string | { type: string; text?: string }[];
  messages: ChatMessageBody[];
  output_config?: { format?: { type: string; schema?: Record<string, unknown> } };
}

interface Usage {
  input: number;
  output: number;
  cached: number;
}

interface Completion {
  id: string;
  requestId: string;
  usage: Usage;
  body: Record<string, unknown>;
}

const REFUSAL = "I'm sorry, but I can't share personal political opinions.";

export interface KeyCount {
  received: number;
  billed: number;
  /** Billed, but the client could not use the response: slow past its timeout, malformed or truncated. */
  unusable: number;
}

export interface VendorStats {
  received: number;
  billed: number;
  /** By request key: how often received and billed. */
  byKey: Map<string, KeyCount>;
  /** Request key of every billed response id (the body's id and the x-request-id header). */
  keyOfResponse: Map<string, string>;
  faults: Partial<Record<Fault | "rate-limit" | "auth", number>>;
  /** Every Authorization (or x-api-key) header received (for leak tests). */
  authorizations: Set<string>;
  /** Tokens reported in the usage of responses delivered intact (what a client could have stored). */
  delivered: { responses: number; inputTokens: number; outputTokens: number; cachedInputTokens: number };
  /** Tokens of every billed response, delivered or not: the vendor's bill (also served at GET /__stats). */
  billedUsage: { responses: number; inputTokens: number; outputTokens: number; cachedInputTokens: number };
  /** Of those, the ones whose usage the client could not read (slow past its timeout, garbled, cut off). */
  unreadableUsage: { responses: number; inputTokens: number; outputTokens: number; cachedInputTokens: number };
  /** OpenAI Batch API: batches created, and batch requests (lines) received and billed. */
  batches: { created: number; lines: number; billedLines: number };
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
    delivered: { responses: 0, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 },
    billedUsage: { responses: 0, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 },
    unreadableUsage: { responses: 0, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 },
    batches: { created: 0, lines: 0, billedLines: 0 },
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
  private handling = 0;
  private idleWaiters: (() => void)[] = [];
  private gate: { opened: Promise<void>; open: () => void } | undefined;
  private readonly files = new Map<string, FakeFile>();
  private readonly batchJobs = new Map<string, FakeBatchJob>();
  private readonly batchCalls = new Map<BatchApiCall["operation"], number>();

  constructor(options: FakeVendorOptions = {}) {
    this.options = options;
    this.random = createRng(options.seed ?? 1).next;
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
    return `${this.origin}/v1`;
  }

  /** For ANTHROPIC_BASE_URL: the SDK adds /v1/messages itself. */
  get anthropicBaseURL(): string {
    return this.origin;
  }

  private get origin(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error("the fake vendor is not started");
    return `http://127.0.0.1:${address.port}`;
  }

  /** Holds every request being answered, and every one that arrives, until `release()`. */
  hold(): void {
    if (this.gate !== undefined) return;
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    this.gate = { opened, open };
  }

  release(): void {
    this.gate?.open();
    this.gate = undefined;
  }

  /**
   * Resolves once no request is being handled: slow responses the client
   * gave up on have been billed, so the counters are final.
   */
  settled(): Promise<void> {
    if (this.handling === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    this.release();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Changes options on the fly (e.g. start a 429 storm mid-run). */
  set(options: Partial<FakeVendorOptions>): void {
    Object.assign(this.options, options);
  }

  /** How often the request with this key was received and billed. */
  count(key: string): KeyCount {
    return this.stats.byKey.get(key) ?? { received: 0, billed: 0, unusable: 0 };
  }

  /** Keys received more than once after being billed (a repeated paid request). */
  repeatedPaidKeys(): string[] {
    return [...this.stats.byKey].filter(([, c]) => c.billed > 1).map(([key]) => key);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.handling += 1;
    try {
      await this.serve(req, res);
    } finally {
      this.handling -= 1;
      if (this.handling === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "").split("?")[0]!;
    if (req.method === "GET" && path === "/__stats") return json(res, 200, this.statsBody());
    if (req.method === "GET" && /\/models$/.test(path)) {
      return json(res, 200, { object: "list", data: [{ id: "fake-model", object: "model", created: 0, owned_by: "silicon-tests" }] });
    }
    if (/\/v1\/(files|batches)(\/|$)/.test(path)) return this.serveBatchApi(req, res, path);
    const format: WireFormat | undefined =
      req.method !== "POST" ? undefined : /\/chat\/completions$/.test(path) ? "openai" : /\/v1\/messages$/.test(path) ? "anthropic" : undefined;
    if (format === undefined) {
      return json(res, 404, { error: { message: `Unknown request URL: ${req.method} ${path}`, type: "invalid_request_error", code: "unknown_url" } });
    }
    const echo = () => (this.options.echoAuthorization === true ? ` (got Authorization: ${req.headers.authorization ?? req.headers["x-api-key"] ?? "none"})` : "");
    const error = (status: number, type: string, message: string, code?: string) => errorReply(res, format, status, type, message + echo(), code);
    const raw = await readBody(req);
    let wire: unknown;
    try {
      wire = JSON.parse(raw);
    } catch {
      return error(400, "invalid_request_error", "We could not parse the JSON body of your request.");
    }
    const apiKeyHeader = req.headers["x-api-key"];
    const authorization = req.headers.authorization ?? (typeof apiKeyHeader === "string" ? `Bearer ${apiKeyHeader}` : undefined);
    if (authorization !== undefined) this.stats.authorizations.add(authorization);
    const key = createHash("sha256").update(canonicalJson(wire)).digest("hex");
    this.stats.received += 1;
    const counts = this.stats.byKey.get(key) ?? { received: 0, billed: 0, unusable: 0 };
    counts.received += 1;
    this.stats.byKey.set(key, counts);

    if (this.options.apiKey !== undefined && authorization !== `Bearer ${this.options.apiKey}`) {
      this.tally("auth");
      // Real vendors echo (part of) the key they got; a client must not log it.
      return error(401, format === "openai" ? "invalid_request_error" : "authentication_error", `Incorrect API key provided: ${authorization ?? "(none)"}.`, "invalid_api_key");
    }
    const body = format === "openai" ? (wire as ChatBody) : fromMessagesBody(wire as MessagesBody);
    if (body.messages === undefined || !Array.isArray(body.messages) || typeof body.model !== "string") {
      return error(400, "invalid_request_error", "'messages' and 'model' are required");
    }
    const request: ReceivedRequest = { number: this.stats.received, key, format, body, authorization };

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
      return error(429, format === "openai" ? "requests" : "rate_limit_error", "Rate limit reached for requests", "rate_limit_exceeded");
    }

    const fault = this.options.script?.(request) ?? this.drawFault();
    if (fault !== undefined) this.tally(fault);
    const retryAfter = () => {
      res.setHeader("retry-after", String(this.options.retryAfterSeconds ?? Math.ceil((this.options.retryAfterMs ?? 1000) / 1000)));
      if (this.options.retryAfterMs !== undefined) res.setHeader("retry-after-ms", String(this.options.retryAfterMs));
    };
    switch (fault) {
      case "429":
        retryAfter();
        return error(429, format === "openai" ? "requests" : "rate_limit_error", "Rate limit reached for requests", "rate_limit_exceeded");
      case "500":
        return error(500, format === "openai" ? "server_error" : "api_error", "The server had an error while processing your request.");
      case "502":
        res.writeHead(502, { "content-type": "text/html" });
        return void res.end(`<html><body><h1>502 Bad Gateway</h1>${echo()}</body></html>`);
      case "503":
        retryAfter();
        return error(503, format === "openai" ? "server_error" : "api_error", "The engine is currently overloaded, please try again later.");
      case "529":
        retryAfter();
        return error(529, "overloaded_error", "Overloaded");
      case "reset":
        req.socket.destroy();
        return;
    }

    await sleep(this.latency());
    if (this.gate !== undefined) await this.gate.opened;
    if (fault === "slow") await (this.options.slowMs === "abandoned" ? abandoned(res) : sleep(this.options.slowMs ?? 30_000));
    // The vendor has done the work: from here on the request is billed,
    // whether or not the client gets (or can read) the response.
    const completion = format === "openai" ? this.complete(request) : this.message(request);
    counts.billed += 1;
    this.stats.billed += 1;
    this.stats.keyOfResponse.set(completion.id, key);
    this.stats.keyOfResponse.set(completion.requestId, key);
    addUsage(this.stats.billedUsage, completion.usage);
    const unreadable = fault === "slow" || fault === "malformed" || fault === "truncated" || res.destroyed;
    if (unreadable) addUsage(this.stats.unreadableUsage, completion.usage);
    if (unreadable || fault === "empty") counts.unusable += 1;
    else addUsage(this.stats.delivered, completion.usage);
    if (fault === "empty") {
      if (format === "openai") completion.body["choices"] = [];
      else completion.body["content"] = [{ type: "text" }];
    }
    if (res.destroyed) return;
    res.setHeader(format === "openai" ? "x-request-id" : "request-id", completion.requestId);
    for (const [name, value] of Object.entries(this.rateLimitHeaders(format))) res.setHeader(name, value);
    if (fault === "malformed") {
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end(`<html>upstream error${echo()}</html>`);
    }
    const text = JSON.stringify(completion.body);
    if (fault === "truncated") {
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end(text.slice(0, Math.floor(text.length / 2)));
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(text);
  }


  // --- OpenAI Batch API: files, batches, output files ------------------------

  /** Every batch created so far (for tests that look at what reached the vendor). */
  get batchList(): readonly FakeBatchJob[] {
    return [...this.batchJobs.values()];
  }

  private async serveBatchApi(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const authorization = req.headers.authorization;
    if (authorization !== undefined) this.stats.authorizations.add(authorization);
    if (this.options.apiKey !== undefined && authorization !== `Bearer ${this.options.apiKey}`) {
      this.tally("auth");
      return json(res, 401, { error: { message: `Incorrect API key provided: ${authorization ?? "(none)"}.`, type: "invalid_request_error", code: "invalid_api_key" } });
    }
    const raw = await readBodyBuffer(req);
    const echo = this.options.echoAuthorization === true ? ` (got Authorization: ${authorization ?? "none"})` : "";
    const operation: BatchApiCall["operation"] | undefined =
      req.method === "POST" && /\/v1\/files$/.test(path) ? "upload"
      : req.method === "POST" && /\/v1\/batches$/.test(path) ? "create"
      : req.method === "GET" && /\/v1\/batches\/[^/]+$/.test(path) ? "retrieve"
      : req.method === "GET" && /\/v1\/batches$/.test(path) ? "list"
      : req.method === "GET" && /\/v1\/files\/[^/]+\/content$/.test(path) ? "content"
      : undefined;
    if (operation === undefined) return json(res, 404, { error: { message: `Unknown request URL: ${req.method} ${path}`, type: "invalid_request_error" } });
    const number = (this.batchCalls.get(operation) ?? 0) + 1;
    this.batchCalls.set(operation, number);
    const fault = this.options.batchCallFault?.({ operation, number });
    if (fault === "500" || fault === "reset") this.tally(fault);
    if (fault === "500") return json(res, 500, { error: { message: `The server had an error while processing your request.${echo}`, type: "server_error" } });
    if (fault === "reset") return void req.socket.destroy();

    switch (operation) {
      case "upload": {
        const form = await new Response(new Uint8Array(raw), { headers: { "content-type": String(req.headers["content-type"]) } }).formData();
        const file = form.get("file");
        if (!(file instanceof Blob)) return json(res, 400, { error: { message: "'file' is required", type: "invalid_request_error" } });
        const id = `file-fake${this.files.size + 1}`;
        const record: FakeFile = { id, filename: (file as File).name ?? "upload.jsonl", purpose: String(form.get("purpose")), content: Buffer.from(await file.arrayBuffer()) };
        this.files.set(id, record);
        return json(res, 200, fileObject(record));
      }
      case "create": {
        const body = JSON.parse(raw.toString("utf8")) as { input_file_id: string; endpoint: string; metadata?: Record<string, string> };
        const input = this.files.get(body.input_file_id);
        if (input === undefined) return json(res, 400, { error: { message: `No such File object: ${body.input_file_id}`, type: "invalid_request_error" } });
        const lines = batchLines(input.content);
        const id = `batch_fake${this.batchJobs.size + 1}`;
        const now = Date.now();
        const job: FakeBatchJob = {
          id, inputFileId: input.id, metadata: body.metadata ?? {}, createdAt: now, readyAt: now + (this.options.batchDelayMs ?? 0),
          status: "validating", total: lines.length, completed: 0, failed: 0, outputFileId: null, errorFileId: null,
        };
        this.batchJobs.set(id, job);
        this.stats.batches.created += 1;
        for (const line of lines) {
          const key = createHash("sha256").update(canonicalJson(line.body)).digest("hex");
          const counts = this.stats.byKey.get(key) ?? { received: 0, billed: 0, unusable: 0 };
          counts.received += 1;
          this.stats.byKey.set(key, counts);
          this.stats.received += 1;
          this.stats.batches.lines += 1;
        }
        if (fault === "create-lost") return void req.socket.destroy();
        return json(res, 200, this.batchObject(job));
      }
      case "retrieve": {
        const job = this.batchJobs.get(path.split("/").at(-1)!);
        if (job === undefined) return json(res, 404, { error: { message: "No batch found", type: "invalid_request_error" } });
        this.advance(job, echo);
        return json(res, 200, this.batchObject(job));
      }
      case "list": {
        const data = [...this.batchJobs.values()].reverse().map((job) => (this.advance(job, echo), this.batchObject(job)));
        return json(res, 200, { object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false });
      }
      case "content": {
        const file = this.files.get(path.split("/").at(-2)!);
        if (file === undefined) return json(res, 404, { error: { message: "No such File object", type: "invalid_request_error" } });
        res.writeHead(200, { "content-type": "application/octet-stream" });
        return void res.end(file.content);
      }
    }
  }

  /** Ends a batch whose time has come: every line answered (and billed), or errored, into output and error files. */
  private advance(job: FakeBatchJob, echo = ""): void {
    if (job.status === "completed") return;
    if (Date.now() < job.readyAt) {
      job.status = "in_progress";
      return;
    }
    const output: string[] = [];
    const errors: string[] = [];
    for (const line of batchLines(this.files.get(job.inputFileId)!.content)) {
      const key = createHash("sha256").update(canonicalJson(line.body)).digest("hex");
      const request: ReceivedRequest = { number: this.stats.received, key, format: "openai", body: line.body, authorization: undefined };
      const lineFault = this.options.batchLineFault?.(request);
      if (lineFault !== undefined) {
        job.failed += 1;
        const error = lineFault === "batch_expired"
          ? { code: "batch_expired", message: `This request could not be executed before the completion window expired.${echo}` }
          : null;
        const response = lineFault === "server_error" ? { status_code: 500, request_id: `req_err${job.id}`, body: { error: { message: `The server had an error.${echo}`, type: "server_error" } } } : null;
        errors.push(JSON.stringify({ id: `batch_req_${output.length + errors.length}`, custom_id: line.custom_id, response, error }));
        continue;
      }
      const completion = this.complete(request);
      const counts = this.stats.byKey.get(key)!;
      counts.billed += 1;
      this.stats.billed += 1;
      this.stats.batches.billedLines += 1;
      this.stats.keyOfResponse.set(completion.id, key);
      this.stats.keyOfResponse.set(completion.requestId, key);
      addUsage(this.stats.delivered, completion.usage);
      addUsage(this.stats.billedUsage, completion.usage);
      job.completed += 1;
      output.push(JSON.stringify({ id: `batch_req_${output.length + errors.length}`, custom_id: line.custom_id, response: { status_code: 200, request_id: completion.requestId, body: completion.body }, error: null }));
    }
    const save = (lines: string[]): string | null => {
      if (lines.length === 0) return null;
      const id = `file-fake${this.files.size + 1}`;
      this.files.set(id, { id, filename: `${job.id}_output.jsonl`, purpose: "batch_output", content: Buffer.from(lines.join("\n") + "\n") });
      return id;
    };
    job.outputFileId = save(output);
    job.errorFileId = save(errors);
    job.status = "completed";
  }

  private batchObject(job: FakeBatchJob): Record<string, unknown> {
    const created = Math.floor(job.createdAt / 1000);
    return {
      id: job.id,
      object: "batch",
      endpoint: "/v1/chat/completions",
      errors: null,
      input_file_id: job.inputFileId,
      completion_window: "24h",
      status: job.status,
      output_file_id: job.outputFileId,
      error_file_id: job.errorFileId,
      created_at: created,
      in_progress_at: job.status === "validating" ? null : created,
      expires_at: created + 86_400,
      finalizing_at: null,
      completed_at: job.status === "completed" ? Math.floor(Date.now() / 1000) : null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      request_counts: { total: job.total, completed: job.completed, failed: job.failed },
      metadata: job.metadata,
    };
  }

  private complete(request: ReceivedRequest): Completion {
    this.nextId += 1;
    const id = `chatcmpl-fake${this.nextId}`;
    const requestId = `req_fake${this.nextId}`;
    const body = request.body;
    const n = body.n ?? 1;
    const choices = Array.from({ length: n }, (_, index) => {
      const refusal = this.drawRefusal();
      const content = refusal ? null : this.answerText(request, index);
      const choice: Record<string, unknown> = {
        index,
        message: { role: "assistant", content, refusal: refusal ? REFUSAL : null },
        logprobs: null,
        finish_reason: "stop",
      };
      if (body.logprobs === true && content !== null) choice.logprobs = { content: firstTokenLogprobs(content, body.top_logprobs ?? 0) };
      return choice;
    });
    const texts = choices.map((c) => String((c.message as { content: string | null }).content ?? ""));
    const usage = this.usage(request, texts);
    return {
      id,
      requestId,
      usage,
      body: {
        id,
        object: "chat.completion",
        created: 1_700_000_000 + this.nextId,
        model: `${body.model}-2025-01-01`,
        choices,
        usage: {
          prompt_tokens: usage.input,
          completion_tokens: usage.output,
          total_tokens: usage.input + usage.output,
          prompt_tokens_details: { cached_tokens: usage.cached, audio_tokens: 0 },
          completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
        },
        service_tier: "default",
        system_fingerprint: "fp_fake",
      },
    };
  }

  /** An Anthropic Message (one answer per call). */
  private message(request: ReceivedRequest): Completion {
    this.nextId += 1;
    const id = `msg_fake${this.nextId}`;
    const requestId = `req_fake${this.nextId}`;
    const refusal = this.drawRefusal();
    const text = refusal ? "" : this.answerText(request, 0);
    const usage = this.usage(request, [text]);
    return {
      id,
      requestId,
      usage,
      body: {
        id,
        type: "message",
        role: "assistant",
        model: request.body.model,
        content: refusal ? [] : [{ type: "text", text, citations: null }],
        stop_reason: refusal ? "refusal" : "end_turn",
        stop_sequence: null,
        stop_details: refusal ? { category: "political", explanation: REFUSAL } : null,
        // Anthropic counts cache reads apart from input_tokens.
        usage: { input_tokens: usage.input - usage.cached, cache_read_input_tokens: usage.cached, cache_creation_input_tokens: 0, output_tokens: usage.output },
      },
    };
  }

  private drawRefusal(): boolean {
    return this.options.refusalRate !== undefined && this.random() < this.options.refusalRate;
  }

  private answerText(request: ReceivedRequest, index: number): string {
    return this.options.answer?.(request, index) ?? defaultAnswer(request.body, request.key, index);
  }

  /** Tokens of a response: about four characters per token, unless `usage` says otherwise. */
  private usage(request: ReceivedRequest, texts: string[]): Usage {
    const body = request.body;
    const promptText = body.messages.map((m) => contentText(m.content)).join("\n");
    const system = body.messages.find((m) => m.role === "system" || m.role === "developer");
    const systemText = system === undefined ? "" : contentText(system.content);
    const given = this.options.usage?.(request);
    const input = given?.input ?? Math.ceil(promptText.length / 4) + 4 * body.messages.length;
    let cached = 0;
    if (this.options.prefixCaching === true && systemText !== "") {
      if (this.seenSystems.has(systemText)) cached = Math.min(input, Math.ceil(systemText.length / 4));
      this.seenSystems.add(systemText);
    }
    const output = given?.output ?? texts.reduce((sum, text) => sum + Math.ceil(text.length / 4), 0);
    return { input, output, cached };
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

  private rateLimitHeaders(format: WireFormat): Record<string, string> {
    const limit = this.options.requestsPerMinute;
    if (limit === undefined) return {};
    const windowMs = this.options.windowMs ?? 60_000;
    const oldest = this.windowStarts[0] ?? Date.now();
    const resetMs = Math.max(0, oldest + windowMs - Date.now());
    if (format === "anthropic") {
      return {
        "anthropic-ratelimit-requests-limit": String(limit),
        "anthropic-ratelimit-requests-remaining": String(Math.max(0, limit - this.windowStarts.length)),
        "anthropic-ratelimit-requests-reset": new Date(Date.now() + resetMs).toISOString(),
      };
    }
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

  /** What GET /__stats answers: the counters, without the per-key maps. */
  private statsBody(): Record<string, unknown> {
    const { byKey: _byKey, keyOfResponse: _keyOfResponse, authorizations: _authorizations, ...counters } = this.stats;
    return counters;
  }

  private tally(what: Fault | "rate-limit" | "auth"): void {
    this.stats.faults[what] = (this.stats.faults[what] ?? 0) + 1;
  }
}

function addUsage(into: VendorStats["delivered"], usage: Usage): void {
  into.responses += 1;
  into.inputTokens += usage.input;
  into.outputTokens += usage.output;
  into.cachedInputTokens += usage.cached;
}

/** Resolves when the client has given up on the response (closed its connection). */
function abandoned(res: ServerResponse): Promise<void> {
  return res.destroyed || res.socket === null || res.socket.destroyed
    ? Promise.resolve()
    : new Promise((resolve) => res.on("close", () => resolve()));
}

/** An Anthropic Messages body read as Chat Completions: the system prompt first, the schema as response_format. */
function fromMessagesBody(body: MessagesBody): ChatBody {
  const chat: ChatBody = { model: body.model, messages: body.messages };
  if (Array.isArray(body.messages) && body.system !== undefined) chat.messages = [{ role: "system", content: body.system }, ...body.messages];
  if (body.max_tokens !== undefined) chat.max_tokens = body.max_tokens;
  const schema = body.output_config?.format?.schema;
  if (schema !== undefined) chat.response_format = { type: "json_schema", json_schema: { name: "answer", schema } };
  return chat;
}

/** An error in the vendor's own shape (OpenAI `{error: {...}}`, Anthropic `{type: "error", error: {...}}`). */
function errorReply(res: ServerResponse, format: WireFormat, status: number, type: string, message: string, code?: string): void {
  if (format === "openai") return json(res, status, { error: { message, type, ...(code === undefined ? {} : { code }) } });
  if (!res.destroyed) res.setHeader("request-id", `req_err${status}`);
  return json(res, status, { type: "error", error: { type, message }, request_id: `req_err${status}` });
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

function readBodyBuffer(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** The lines of a batch input file: `{custom_id, method, url, body}`. */
function batchLines(content: Buffer): { custom_id: string; body: ChatBody }[] {
  return content
    .toString("utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as { custom_id: string; body: ChatBody });
}

function fileObject(file: FakeFile): Record<string, unknown> {
  return { id: file.id, object: "file", bytes: file.content.length, created_at: 1_700_000_000, filename: file.filename, purpose: file.purpose, status: "processed" };
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

