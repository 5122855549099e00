/**
 * The provider registry: `vendor:model` to a Provider. The engine calls it
 * for every model of a study before any request, so an unknown vendor, a
 * malformed id or a missing API key stops the run with one line naming the
 * study file and field (pass `location`) and nothing sent or written.
 *
 * Keys and base URLs come only from the environment (`options.env`,
 * default process.env): ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL,
 * OPENAI_API_KEY, OPENAI_BASE_URL. See docs/providers.md.
 */
import { InputError, type InputLocation, UsageError } from "../errors.ts";
import { redactUrlCredentials } from "../util/secrets.ts";
import { createAnthropicProvider } from "./anthropic.ts";
import { MAX_TIMEOUT_MS } from "./deadline.ts";
import { VENDOR_ENV, isOfficialEndpoint } from "./endpoints.ts";
import { createOpenAIProvider } from "./openai.ts";
import { createSimulatedProvider } from "./simulated.ts";
import type { Provider, Vendor } from "./types.ts";

export type * from "./types.ts";
export { priceFor, costUsd, DEFAULT_PRICES, PRICES_CHECKED, type ResolvedPrice } from "./prices.ts";

export const VENDORS: readonly Vendor[] = ["anthropic", "openai", "simulated"];

/** Per request, from sending to the last byte; generous for slow reasoning models, short enough to notice a stall. */
export const DEFAULT_TIMEOUT_MS = 60_000;

export interface CreateProviderOptions {
  /** Where keys, base URLs and SILICON_OPENAI_* come from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Per-request timeout in milliseconds; default 60 000. */
  timeoutMs?: number;
  /** Overrides ANTHROPIC_BASE_URL / OPENAI_BASE_URL. */
  baseURL?: string;
  /** Replaces the global fetch (tests, proxies). */
  fetch?: typeof fetch;
  /** Where the id was written, e.g. `{ file: "study.yaml", field: "models" }`; errors name it. */
  location?: InputLocation;
}

function fail(location: InputLocation | undefined, problem: string): never {
  throw location !== undefined ? new InputError(location, problem) : new UsageError(problem);
}

function isVendor(name: string): name is Vendor {
  return (VENDORS as readonly string[]).includes(name);
}

/**
 * Splits `vendor:model` at the first colon (model names may contain colons,
 * e.g. Ollama's `openai:llama3.1:8b`).
 */
export function parseModelId(id: string, location?: InputLocation): { vendor: Vendor; model: string } {
  const colon = id.indexOf(":");
  if (colon <= 0 || colon === id.length - 1 || /\s/.test(id)) {
    fail(location, `expected vendor:model (e.g. openai:gpt-6-luna or anthropic:claude-haiku-5-5), got ${JSON.stringify(id)}`);
  }
  const vendor = id.slice(0, colon);
  if (!isVendor(vendor)) {
    fail(location, `unknown provider ${JSON.stringify(vendor)} in ${JSON.stringify(id)}; known providers: ${VENDORS.join(", ")}`);
  }
  return { vendor, model: id.slice(colon + 1) };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== "" ? value.trim() : undefined;
}

function hasCredentials(url: string): boolean {
  const parsed = new URL(url);
  return parsed.username !== "" || parsed.password !== "";
}

export function createProvider(id: string, options: CreateProviderOptions = {}): Provider {
  const { vendor, model } = parseModelId(id, options.location);
  if (vendor === "simulated") return createSimulatedProvider(model) as Provider;

  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(Number.isFinite(timeoutMs) && timeoutMs >= 1 && timeoutMs <= MAX_TIMEOUT_MS)) {
    throw new UsageError(`request timeout must be from 1 to ${MAX_TIMEOUT_MS} milliseconds (about 24 days), got ${timeoutMs}`);
  }
  const names = VENDOR_ENV[vendor];
  const baseURL = nonEmpty(options.baseURL) ?? nonEmpty(env[names.baseURL]);
  const where = options.baseURL !== undefined ? "base URL" : names.baseURL;
  if (baseURL !== undefined && !URL.canParse(baseURL)) {
    throw new UsageError(`${where} is not a valid URL`);
  }
  if (baseURL !== undefined && hasCredentials(baseURL)) {
    // fetch refuses such URLs, and a URL is printed and stored where a key never is.
    throw new UsageError(
      `${where} ${redactUrlCredentials(baseURL)} holds a user name or password: silicon never sends credentials in a URL; ` +
        `remove them and put the key in ${names.key}`,
    );
  }
  const apiKey = nonEmpty(env[names.key]);
  const common = {
    ...(baseURL !== undefined ? { baseURL } : {}),
    timeoutMs,
    env,
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
  };

  if (vendor === "anthropic") {
    if (apiKey === undefined) fail(options.location, `${id} needs an API key: set the environment variable ${names.key}`);
    return createAnthropicProvider(model, { apiKey, ...common });
  }
  // A self-hosted OpenAI-compatible server (vLLM, Ollama, llama.cpp) often needs no key.
  if (apiKey === undefined && isOfficialEndpoint("openai", baseURL)) {
    fail(
      options.location,
      `${id} needs an API key: set the environment variable ${names.key} ` +
        `(or ${names.baseURL} to an OpenAI-compatible server that needs none)`,
    );
  }
  return createOpenAIProvider(model, { ...(apiKey !== undefined ? { apiKey } : {}), ...common });
}
