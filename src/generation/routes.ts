/**
 * Where each model's requests go: its provider (or its fleet's endpoints,
 * the study's `endpoints:`) behind a router with the study's rate limits,
 * and its price; all checked, with errors located in the study, before a
 * store is opened or a call made.
 */
import type { Endpoint, Price } from "../config/schema.ts";
import { InputError, SiliconError, UsageError, type InputLocation } from "../errors.ts";
import { VENDOR_ENV, type RemoteVendor } from "../providers/endpoints.ts";
import type { ResolvedPrice } from "../providers/prices.ts";
import type { Provider } from "../providers/types.ts";
import { dryRunEnv } from "./dry-run-keys.ts";
import { DEFAULT_BREAKER, Fleet, type BreakerOptions } from "./fleet.ts";
import { itemModeOf, type PromptMode } from "./prompt.ts";
import { RateLimiter, type RateLimits } from "./rate-limit.ts";
import { SingleRouter, type Router } from "./router.ts";
import { locateField, type Clock, type RenderQuestion, type StudyLike } from "./types.ts";

export interface ProviderFactoryOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Where the model id is written in the study; located errors name it. */
  location?: InputLocation;
  /** An endpoint's base URL (a fleet's), overriding the environment's. */
  baseURL?: string;
}

/** The pieces from other stages the engine uses; injectable for tests and embedding. */
export interface GenerateDeps {
  createProvider(id: string, options: ProviderFactoryOptions): Provider;
  priceFor(
    id: string,
    overrides: Record<string, Price>,
    options: { env?: NodeJS.ProcessEnv; location?: InputLocation; baseURL?: string },
  ): ResolvedPrice;
  renderQuestion: RenderQuestion;
}


/** What routing the models needs to know of the run. */
export interface RouteSetup {
  models: string[];
  mode: PromptMode;
  batch: boolean;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  log: (line: string) => void;
  deps: Pick<GenerateDeps, "createProvider" | "priceFor">;
  timeoutMs?: number | undefined;
  breaker?: Partial<BreakerOptions> | undefined;
  /** A dry run: providers are built for their capabilities, without needing a key (nothing is sent). */
  dryRun?: boolean | undefined;
}

/** Each model's router (one provider, or a fleet of endpoints) and price, checked before anything is written. */
export function modelRoutes(study: StudyLike, setup: RouteSetup): { routers: Map<string, Router>; prices: Map<string, ResolvedPrice> } {
  const endpoints = checkEndpoints(study, setup.models, setup.log);
  const routers = new Map<string, Router>();
  const prices = new Map<string, ResolvedPrice>();
  for (const model of setup.models) {
    const fleet = endpoints.get(model);
    const members = endpointMembers(study, setup, model, fleet);
    const price = members[0]!.price;
    if (members.some((m) => !samePrice(m.price, price))) {
      throw new InputError(
        locateField(study, ["endpoints", model]),
        `the endpoints of ${model} are priced differently (a self-hosted server and the vendor's API?); give the model one price under prices:`,
      );
    }
    const router: Router =
      fleet === undefined
        ? new SingleRouter(members[0]!.provider, new RateLimiter(members[0]!.provider.vendor === "simulated" ? {} : studyLimits(study), setup.clock))
        : new Fleet(
            members.map((m, e) => ({ name: endpointName(m.endpoint!, e), provider: m.provider, limits: endpointLimits(study, m.endpoint!) })),
            setup.clock,
            { ...DEFAULT_BREAKER, ...setup.breaker },
          );
    checkCapabilities(study, setup.mode, model, router.provider, setup.batch && batchTransportOf(router) === undefined);
    routers.set(model, router);
    if (price.note !== undefined && price.source === "self-hosted") setup.log(`note: ${price.note}`);
    prices.set(model, price);
    if (setup.batch && fleet !== undefined && fleet.length > 1) setup.log(`note: --batch sends every batch of ${model} to its first endpoint (${endpointName(fleet[0]!, 0)})`);
  }
  return { routers, prices };
}

/** A model's provider and price, or each of its fleet's endpoints'; errors name where the model or endpoint is written. */
function endpointMembers(study: StudyLike, setup: RouteSetup, model: string, fleet: Endpoint[] | undefined) {
  const index = study.study.models.indexOf(model);
  // A model the study does not list came from --model: errors name the flag, not the file.
  const location: InputLocation = index >= 0 ? locateField(study, ["models", index]) : { file: "--model" };
  return (fleet ?? [undefined]).map((endpoint, e) => {
    const where = endpoint === undefined ? location : locateField(study, ["endpoints", model, e]);
    const baseURL = endpoint?.base_url;
    const keyedEnv = endpoint === undefined ? setup.env : endpointEnv(setup.env, model, endpoint);
    const memberEnv = setup.dryRun === true ? dryRunEnv(keyedEnv, model, { baseURL, keyVariable: endpoint?.api_key_env }, setup.log) : keyedEnv;
    const provider = atLocation(where, () =>
      setup.deps.createProvider(model, { ...providerOptions(memberEnv, setup.timeoutMs), location: where, ...(baseURL !== undefined ? { baseURL } : {}) }),
    );
    const price = atLocation(where, () => setup.deps.priceFor(model, study.study.prices, { env: memberEnv, location: where, ...(baseURL !== undefined ? { baseURL } : {}) }));
    return { endpoint, provider, price, where };
  });
}

/** What the mode and the models must agree on, checked before anything is sent or written. */
function checkCapabilities(study: StudyLike, mode: PromptMode, model: string, provider: Provider, noBatchApi: boolean): void {
  if (provider.capabilities.temperature === false && study.study.temperature !== 1) {
    throw new InputError(
      locateField(study, ["temperature"]),
      `${model} samples at temperature 1 only; set temperature: 1 in the study, or leave this model out (--model)`,
    );
  }
  const readsLogprobs = mode === "logprobs" && study.survey.items.some((item) => itemModeOf("logprobs", item) === "logprobs");
  if (readsLogprobs && !provider.capabilities.logprobs) {
    const why =
      provider.vendor === "anthropic"
        ? "the Messages API returns no log-probabilities"
        : "its server is configured without them (SILICON_OPENAI_LOGPROBS=false)";
    throw new InputError(
      locateField(study, ["elicitation"]),
      `logprobs elicitation reads the first token's log-probabilities, and ${model} has none (${why}); use structured, free_text or questionnaire, or leave this model out (--model)`,
    );
  }
  if (noBatchApi) {
    throw new UsageError(`--batch: ${model} has no batch API; run without --batch`);
  }
}

/**
 * The fleets of this run's models. Endpoints of a model neither the study
 * lists nor --model names are most likely a misspelt key: say so rather than
 * ignore them silently (they may serve a later `--model`, so no error).
 */
function checkEndpoints(study: StudyLike, models: string[], log: (line: string) => void): Map<string, Endpoint[]> {
  const out = new Map<string, Endpoint[]>();
  for (const [model, list] of Object.entries(study.study.endpoints ?? {})) {
    if (model.startsWith("simulated:")) {
      throw new InputError(locateField(study, ["endpoints", model]), `${model} runs offline: it has no endpoints`);
    }
    if (models.includes(model)) out.set(model, list);
    else if (!study.study.models.includes(model)) {
      log(`note: endpoints: ${model} is not among the study's models (${study.study.models.join(", ")}), so its endpoints are not used; pick it with --model, or check the spelling`);
    }
  }
  return out;
}

/** An endpoint's environment: its key variable stands in for the vendor's. */
function endpointEnv(env: NodeJS.ProcessEnv, model: string, endpoint: Endpoint): NodeJS.ProcessEnv {
  if (endpoint.api_key_env === undefined) return env;
  const vendor = model.slice(0, model.indexOf(":")) as RemoteVendor;
  return { ...env, [VENDOR_ENV[vendor].key]: env[endpoint.api_key_env] };
}

function endpointName(endpoint: Endpoint, index: number): string {
  const host = endpoint.base_url === undefined ? undefined : new URL(endpoint.base_url).host;
  const parts = [host, endpoint.api_key_env].filter((p): p is string => p !== undefined);
  return parts.length > 0 ? parts.join(" ") : `endpoint ${index + 1}`;
}

function studyLimits(study: StudyLike): RateLimits {
  return { requestsPerMinute: study.study.rate_limits.requests_per_minute, tokensPerMinute: study.study.rate_limits.tokens_per_minute };
}

/** An endpoint's own limits; the study's rate_limits apply to each endpoint that sets none. */
function endpointLimits(study: StudyLike, endpoint: Endpoint): RateLimits {
  const limits = studyLimits(study);
  return {
    requestsPerMinute: endpoint.requests_per_minute ?? limits.requestsPerMinute,
    tokensPerMinute: endpoint.tokens_per_minute ?? limits.tokensPerMinute,
  };
}

function samePrice(a: ResolvedPrice, b: ResolvedPrice): boolean {
  return a.input === b.input && a.output === b.output && a.cached_input === b.cached_input && a.cache_write === b.cache_write && a.batch_factor === b.batch_factor;
}

/** The batch API of a model: its provider's, or for a fleet its first endpoint's. */
export function batchTransportOf(router: Router): Provider["batch"] {
  if (router instanceof Fleet) return router.providers[0]?.batch;
  return router.provider.batch;
}

function providerOptions(env: NodeJS.ProcessEnv, timeoutMs: number | undefined): ProviderFactoryOptions {
  return timeoutMs === undefined ? { env } : { env, timeoutMs };
}

/** Runs `fn`; an error it throws that is not already located is located at `location` (bad input, exit 2). */
function atLocation<T>(location: InputLocation, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof InputError && error.location.file === location.file) throw error;
    if (error instanceof SiliconError) {
      const problem = error instanceof InputError ? error.problem : error.message;
      throw new InputError(location, problem, { cause: error });
    }
    throw error;
  }
}

