/**
 * What calls cost: a default USD-per-million-token table for current
 * Anthropic and OpenAI models, the study's `prices:` overrides on top, and
 * the cost of one call's usage.
 *
 * Prices checked on 2026-11-23 (PRICES_CHECKED). `evidence` says how each
 * row was checked: "official" — read on the vendor's own model page
 * (platform.claude.com/docs/en/models/<model>/overview,
 * developers.openai.com/api/docs/models/<model>); "reported" — not read on
 * an official page, but several independent price lists quoting it agree;
 * "published-2025" — the vendor's 2025 price list, not re-read in 2026.
 * Models whose prices could not be checked at all (claude-fable-5-2,
 * claude-mythos-5-2, claude-mythos-preview, gpt-5.5, gpt-5.4*) are left out
 * on purpose: a run on them needs a price under `prices:` in the study.
 *
 * Cache writes: Anthropic's 5-minute rate (what `cache_control: ephemeral`
 * writes); OpenAI's 30-minute rate. Long-prompt surcharges (Claude Haiku 5.5
 * above 100K prompt tokens, OpenAI above 272K input tokens) are not modelled:
 * survey prompts are far shorter.
 */
import type { Price } from "../config/schema.ts";
import { InputError, type InputLocation, UsageError } from "../errors.ts";
import { VENDOR_ENV, isOfficialEndpoint } from "./endpoints.ts";
import type { TokenUsage } from "./types.ts";
import { editDistance } from "../util/edit-distance.ts";

export const PRICES_CHECKED = "2026-11-23";

export type PriceEvidence = "official" | "reported" | "published-2025";

export interface DefaultPrice {
  input: number;
  output: number;
  cached_input: number;
  cache_write: number;
  batch_factor: number;
  evidence: PriceEvidence;
  note?: string;
}

const BATCH = 0.5;

function anthropic(input: number, output: number, cachedInput: number, evidence: PriceEvidence, note?: string): DefaultPrice {
  // 5-minute cache writes cost 1.25 × input on every Claude model.
  return { input, output, cached_input: cachedInput, cache_write: input * 1.25, batch_factor: BATCH, evidence, ...(note ? { note } : {}) };
}

/**
 * `cacheWrite` undefined: the model has no separate cache-write price, and
 * tokens the vendor reports as cache writes are billed as input (pricing
 * them at 0 would let a call cost more than silicon counted).
 */
function openai(
  input: number,
  output: number,
  cachedInput: number,
  cacheWrite: number | undefined,
  evidence: PriceEvidence,
  note?: string,
): DefaultPrice {
  return { input, output, cached_input: cachedInput, cache_write: cacheWrite ?? input, batch_factor: BATCH, evidence, ...(note ? { note } : {}) };
}

/** Keyed by `vendor:model`. Dated snapshots (e.g. `-20250929`, `-2025-08-07`) fall back to their base name. */
export const DEFAULT_PRICES: Readonly<Record<string, DefaultPrice>> = {
  "anthropic:claude-fable-5-1": anthropic(10, 50, 0.25, "official", "cache reads a quarter of Fable 5's, as the official page says"),
  "anthropic:claude-mythos-5-1": anthropic(10, 50, 0.25, "official", "priced as Claude Fable 5.1 (same specifications and pricing)"),
  "anthropic:claude-fable-5": anthropic(10, 50, 1.0, "official", "cache rates are the standard 0.1 × and 1.25 × input"),
  "anthropic:claude-mythos-5": anthropic(10, 50, 1.0, "official", "priced as Claude Fable 5 (same specifications and pricing)"),
  "anthropic:claude-opus-5-5": anthropic(4, 20, 0.2, "official"),
  "anthropic:claude-opus-5": anthropic(5, 25, 0.5, "official"),
  "anthropic:claude-sonnet-5-5": anthropic(
    2,
    10,
    0.2,
    "official",
    "cache reads as on the official page ($0.20); price lists report a cut to $0.10 on 2026-10-07 that the page read did not show",
  ),
  "anthropic:claude-sonnet-5": anthropic(2, 10, 0.2, "official"),
  "anthropic:claude-haiku-5-5": anthropic(
    0.1,
    0.5,
    0.01,
    "official",
    "rates for prompts up to 100,000 tokens; the cache-read rate is reported, not read on the official page",
  ),
  "anthropic:claude-opus-4-8": anthropic(5, 25, 0.5, "reported"),
  "anthropic:claude-opus-4-7": anthropic(5, 25, 0.5, "reported"),
  "anthropic:claude-opus-4-6": anthropic(5, 25, 0.5, "reported"),
  "anthropic:claude-opus-4-5": anthropic(5, 25, 0.5, "published-2025"),
  "anthropic:claude-sonnet-4-6": anthropic(3, 15, 0.3, "reported"),
  "anthropic:claude-sonnet-4-5": anthropic(3, 15, 0.3, "published-2025"),
  "anthropic:claude-haiku-4-5": anthropic(1, 5, 0.1, "published-2025"),

  "openai:gpt-6.2-sol": openai(2, 10, 0.1, 2.5, "official"),
  "openai:gpt-6.1-sol": openai(2, 10, 0.1, 2.5, "reported"),
  "openai:gpt-6.1-terra": openai(1, 5, 0.05, 1.25, "official"),
  "openai:gpt-6-astra": openai(10, 50, 1, 12.5, "reported"),
  "openai:gpt-6-sol": openai(2, 10, 0.2, 2.5, "official"),
  "openai:gpt-6-luna": openai(0.1, 0.5, 0.01, 0.125, "official"),
  "openai:gpt-5.6-sol": openai(4, 20, 0.4, 5, "reported"),
  "openai:gpt-5.6-terra": openai(2, 12, 0.2, 2.5, "reported"),
  "openai:gpt-5.6-luna": openai(0.2, 1.2, 0.02, 0.25, "official"),
  "openai:gpt-5": openai(1.25, 10, 0.125, undefined, "published-2025"),
  "openai:gpt-5-mini": openai(0.25, 2, 0.025, undefined, "published-2025"),
  "openai:gpt-5-nano": openai(0.05, 0.4, 0.005, undefined, "published-2025"),
  "openai:gpt-4.1": openai(2, 8, 0.5, undefined, "published-2025"),
  "openai:gpt-4.1-mini": openai(0.4, 1.6, 0.1, undefined, "published-2025"),
  "openai:gpt-4.1-nano": openai(0.1, 0.4, 0.025, undefined, "published-2025"),
  "openai:gpt-4o": openai(2.5, 10, 1.25, undefined, "published-2025"),
  "openai:gpt-4o-mini": openai(0.15, 0.6, 0.075, undefined, "published-2025"),
};

/** A price ready to multiply: every field filled, and where it came from. */
export interface ResolvedPrice {
  input: number;
  output: number;
  cached_input: number;
  cache_write: number;
  batch_factor: number;
  /** `study`: the study's `prices:`; `table`: DEFAULT_PRICES; `self-hosted` and `simulated`: free. */
  source: "study" | "table" | "self-hosted" | "simulated";
  /** Something the user should know, e.g. why a price is 0. */
  note?: string;
}

export interface PriceOptions {
  /** Where the base URLs come from (ANTHROPIC_BASE_URL, OPENAI_BASE_URL); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The base URL the provider uses, if set explicitly (wins over the environment). */
  baseURL?: string;
  /** Where the model id was written, e.g. `{ file: "study.yaml", field: "models" }`; errors name it. */
  location?: InputLocation;
}

function withoutSnapshotDate(model: string): string {
  return model.replace(/-(\d{8}|\d{4}-\d{2}-\d{2})$/, "");
}

/** The closest known ids of the same vendor (edit distance ≤ 3, ties kept). */
function suggestion(id: string): string {
  const vendor = id.slice(0, id.indexOf(":") + 1);
  const scored = Object.keys(DEFAULT_PRICES)
    .filter((known) => known.startsWith(vendor))
    .map((known) => ({ known, distance: editDistance(known, id) }))
    .filter(({ distance }) => distance <= 3);
  const best = Math.min(...scored.map(({ distance }) => distance));
  const close = scored.filter(({ distance }) => distance === best).map(({ known }) => known);
  return close.length > 0 ? ` (did you mean ${close.join(" or ")}?)` : "";
}

function fail(location: InputLocation | undefined, problem: string): never {
  throw location !== undefined ? new InputError(location, problem) : new UsageError(problem);
}

function fromOverride(price: Price): ResolvedPrice {
  // Missing cache rates take the usual multipliers of the input rate (0.1 for
  // reads, 1.25 for writes, as both vendors charge on current models).
  return {
    input: price.input,
    output: price.output,
    cached_input: price.cached_input ?? price.input * 0.1,
    cache_write: price.cache_write ?? price.input * 1.25,
    batch_factor: price.batch_factor ?? BATCH,
    source: "study",
  };
}

const FREE = { input: 0, output: 0, cached_input: 0, cache_write: 0, batch_factor: 1 };

/**
 * The price of `id` (`vendor:model`): the study's override if there is one,
 * else 0 for simulated models and for models on a custom (self-hosted) base
 * URL, else the default table. A vendor model with none of these is an
 * error naming `location`: it is how a mistyped model name is caught before
 * any call.
 */
export function priceFor(id: string, overrides: Readonly<Record<string, Price>> = {}, options: PriceOptions = {}): ResolvedPrice {
  const colon = id.indexOf(":");
  const vendor = colon > 0 ? id.slice(0, colon) : "";
  const model = colon > 0 ? id.slice(colon + 1) : "";
  if (model === "") fail(options.location, `expected vendor:model, got ${JSON.stringify(id)}`);
  const override = overrides[id];
  if (override !== undefined) return fromOverride(override);
  if (vendor === "simulated") return { ...FREE, source: "simulated", note: "simulated respondents cost nothing" };
  if (vendor !== "anthropic" && vendor !== "openai") {
    fail(options.location, `no prices for vendor ${JSON.stringify(vendor)} in ${JSON.stringify(id)}`);
  }
  const env = options.env ?? process.env;
  const baseURL = options.baseURL ?? env[VENDOR_ENV[vendor].baseURL];
  if (!isOfficialEndpoint(vendor, baseURL)) {
    return {
      ...FREE,
      source: "self-hosted",
      note: `${id} at ${baseURL} is priced at 0 (custom base URL); add a price under prices: in the study to count costs`,
    };
  }
  const entry = DEFAULT_PRICES[id] ?? DEFAULT_PRICES[`${vendor}:${withoutSnapshotDate(model)}`];
  if (entry === undefined) {
    fail(
      options.location,
      `no known price for ${id}${suggestion(id)}; if the model name is right, add its price under prices: in the study, ` +
        `e.g. prices: { "${id}": { input: 1.0, output: 4.0 } } (USD per million tokens; table checked ${PRICES_CHECKED})`,
    );
  }
  return {
    input: entry.input,
    output: entry.output,
    cached_input: entry.cached_input,
    cache_write: entry.cache_write,
    batch_factor: entry.batch_factor,
    source: "table",
    ...(entry.note !== undefined ? { note: entry.note } : {}),
  };
}

/**
 * USD for one call's usage (see TokenUsage: cached and cache-write tokens
 * are parts of inputTokens). Batch requests pay `batch_factor` of it all.
 */
export function costUsd(usage: TokenUsage, price: ResolvedPrice, options: { batch?: boolean } = {}): number {
  const uncached = Math.max(0, usage.inputTokens - usage.cachedInputTokens - usage.cacheWriteTokens);
  const perMillion =
    uncached * price.input +
    usage.cachedInputTokens * price.cached_input +
    usage.cacheWriteTokens * price.cache_write +
    usage.outputTokens * price.output;
  return (perMillion / 1_000_000) * (options.batch ? price.batch_factor : 1);
}
