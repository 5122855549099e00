/**
 * `openai:<model>`: Chat Completions through the official SDK, against
 * api.openai.com or any OpenAI-compatible server (vLLM, Ollama, llama.cpp)
 * at a custom base URL. A thin adapter; the SDK's retries are off.
 *
 * What a compatible server supports differs, so the features are settled
 * once, at creation: defaults by endpoint, then the environment
 * (SILICON_OPENAI_N, SILICON_OPENAI_STRUCTURED_OUTPUT, SILICON_OPENAI_LOGPROBS),
 * then explicit options. docs/providers.md lists them.
 */
import OpenAI from "openai";
import { UsageError } from "../errors.ts";
import { redactUrlCredentials } from "../util/secrets.ts";
import { callVendor } from "./call.ts";
import { eitherSignal } from "./deadline.ts";
import { openaiBatchTransport } from "./openai-batch.ts";
import { isOfficialEndpoint } from "./endpoints.ts";
import type { FailureContext } from "./errors.ts";
import { type Clock, openaiRateLimit } from "./headers.ts";
import {
  type OpenAIFeatures,
  STRUCTURED_OUTPUT_MODES,
  type StructuredOutputMode,
  chatParams,
  parseChatCompletion,
} from "./openai-chat.ts";
import type { CompletionRequest, CompletionResult, Provider, ProviderCapabilities } from "./types.ts";

export interface OpenAIProviderOptions {
  /** Undefined only for a custom base URL (a self-hosted server): then no Authorization header is sent. */
  apiKey?: string;
  /** Default https://api.openai.com/v1; the registry passes OPENAI_BASE_URL here. */
  baseURL?: string;
  /** Per request, from sending to the last byte of the body. */
  timeoutMs: number;
  fetch?: typeof fetch;
  /** Read for the SILICON_OPENAI_* overrides, OPENAI_ORG_ID, OPENAI_PROJECT_ID, and for redaction. */
  env: NodeJS.ProcessEnv;
  /** Overrides both the defaults and the environment. */
  features?: Partial<Omit<OpenAIFeatures, "officialEndpoint">>;
  now?: Clock;
}

const TRUE_WORDS = new Set(["1", "true", "yes", "on"]);
const FALSE_WORDS = new Set(["0", "false", "no", "off"]);

function envBoolean(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new UsageError(`environment variable ${name}: expected true or false, got ${JSON.stringify(raw)}`);
}

function envMode(env: NodeJS.ProcessEnv, name: string): StructuredOutputMode | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  const mode = raw.trim().toLowerCase();
  if ((STRUCTURED_OUTPUT_MODES as readonly string[]).includes(mode)) return mode as StructuredOutputMode;
  throw new UsageError(
    `environment variable ${name}: expected one of ${STRUCTURED_OUTPUT_MODES.join(", ")}, got ${JSON.stringify(raw)}`,
  );
}

/**
 * api.openai.com supports everything. A compatible server is assumed to
 * take json_schema and logprobs (vLLM, Ollama and llama.cpp do) but not
 * `n` (Ollama and llama.cpp answer once), so the engine makes k calls
 * unless SILICON_OPENAI_N=true says otherwise.
 */
export function resolveOpenAIFeatures(
  baseURL: string | undefined,
  env: NodeJS.ProcessEnv,
  overrides: OpenAIProviderOptions["features"] = {},
): OpenAIFeatures {
  const officialEndpoint = isOfficialEndpoint("openai", baseURL);
  return {
    officialEndpoint,
    multipleChoices: overrides.multipleChoices ?? envBoolean(env, "SILICON_OPENAI_N") ?? officialEndpoint,
    structuredOutput:
      overrides.structuredOutput ?? envMode(env, "SILICON_OPENAI_STRUCTURED_OUTPUT") ?? "json_schema",
    logprobs: overrides.logprobs ?? envBoolean(env, "SILICON_OPENAI_LOGPROBS") ?? true,
  };
}

/** Where a call's deadline rides to `fetch` (see `fetchUnderDeadline`). */
const DEADLINE = Symbol("silicon.deadline");

type DeadlineInit = RequestInit & { [DEADLINE]?: AbortSignal };

/**
 * `fetch` aborted by the call's deadline (its timeout, or the caller's abort)
 * as well as by the SDK's own signal. Handing the deadline to the SDK as its
 * `signal` does the same, but the SDK joins the two with AbortSignal.any,
 * whose weak references and finalizer cost about as much as all else
 * silicon adds to a request. So the deadline rides in the request's
 * `fetchOptions` under a symbol (the SDK passes them on to fetch as they
 * are), and is joined here by two listeners. Requests without one (the
 * Batch API's files and batches) go through unchanged.
 */
export function fetchUnderDeadline(inner: () => typeof fetch): typeof fetch {
  return (input, init) => {
    const deadline = (init as DeadlineInit | undefined)?.[DEADLINE];
    if (init === undefined || deadline === undefined) return inner()(input, init);
    const { [DEADLINE]: _deadline, signal, ...rest } = init as DeadlineInit;
    return inner()(input, { ...rest, signal: signal == null ? deadline : eitherSignal(signal, deadline) });
  };
}

/** The per-request options that hand `deadline` to `fetchUnderDeadline`. */
function underDeadline(deadline: AbortSignal): OpenAI.RequestOptions {
  return { fetchOptions: { [DEADLINE]: deadline } as OpenAI.RequestOptions["fetchOptions"] };
}

/** Satisfies the SDK's credential check; never sent (the Authorization header is removed). */
const NO_KEY = "no-key-self-hosted";

export function createOpenAIProvider(model: string, options: OpenAIProviderOptions): Provider {
  const id = `openai:${model}`;
  const now = options.now ?? Date.now;
  const features = resolveOpenAIFeatures(options.baseURL, options.env, options.features);
  const capabilities: ProviderCapabilities = {
    multipleChoices: features.multipleChoices,
    answerSchema: features.structuredOutput === "json_schema",
    logprobs: features.logprobs,
    // OpenAI caches prompt prefixes by itself; there is no breakpoint to set.
    promptCaching: false,
    temperature: true,
  };
  const client = new OpenAI({
    apiKey: options.apiKey ?? NO_KEY,
    // Every credential and header source is explicit: the SDK would otherwise read
    // OPENAI_ADMIN_KEY, OPENAI_BASE_URL… from process.env, not the given environment.
    adminAPIKey: null,
    organization: options.env["OPENAI_ORG_ID"] ?? null,
    project: options.env["OPENAI_PROJECT_ID"] ?? null,
    webhookSecret: null,
    baseURL: options.baseURL ?? null,
    maxRetries: 0,
    timeout: Math.ceil(options.timeoutMs),
    logLevel: "off",
    ...(options.apiKey === undefined ? { defaultHeaders: { Authorization: null } } : {}),
    fetch: fetchUnderDeadline(() => options.fetch ?? globalThis.fetch),
  });
  const rateLimit = (headers: Headers) => openaiRateLimit(headers);
  const context: FailureContext = {
    provider: id,
    secrets: options.apiKey !== undefined ? [options.apiKey] : [],
    env: options.env,
    keyVariable: "OPENAI_API_KEY",
    now,
    rateLimit,
  };

  function complete(request: CompletionRequest, { signal }: { signal: AbortSignal }): Promise<CompletionResult> {
    return callVendor({
      context,
      sdk: OpenAI,
      signal,
      timeoutMs: options.timeoutMs,
      build: () => chatParams(model, request, features),
      send: (params, deadline) => client.chat.completions.create(params, underDeadline(deadline)).withResponse(),
      parse: (data) => parseChatCompletion(data, request.n),
      requestIdHeader: "x-request-id",
      rateLimit,
    });
  }

  const endpoint = redactUrlCredentials(options.baseURL ?? "https://api.openai.com/v1");
  return { vendor: "openai", model, id, endpoint, capabilities, complete, batch: openaiBatchTransport(client, model, features, context) };
}
