/**
 * An in-process Provider for engine tests: answers from a function of the
 * request, counts what it was sent, optional latency on real timers.
 */
import type { ResolvedPrice } from "../../src/providers/prices.ts";
import type { GenerateDeps } from "../../src/generation/run.ts";
import type { CompletionChoice, CompletionRequest, CompletionResult, Provider, ProviderCapabilities } from "../../src/providers/types.ts";
import { renderQuestion } from "./study.ts";

export type Responder = (request: CompletionRequest, call: number) => CompletionChoice[] | Promise<CompletionChoice[]>;

export interface FakeProviderOptions {
  id?: string;
  capabilities?: Partial<ProviderCapabilities>;
  respond?: Responder;
  /** Milliseconds before answering (a number or a function of the call number). */
  latencyMs?: number | ((call: number) => number);
  /** Throw this instead of answering (by call number); undefined answers. */
  fail?: (request: CompletionRequest, call: number) => Error | undefined;
  inputTokens?: (request: CompletionRequest) => number;
  /** Input tokens read from / written to the prompt cache (parts of the input). */
  cachedInputTokens?: (request: CompletionRequest, call: number) => number;
  cacheWriteTokens?: (request: CompletionRequest, call: number) => number;
  /** Output tokens of each choice: a number, or drawn per request. */
  outputTokensPerChoice?: number | ((request: CompletionRequest) => number);
}

/** A valid structured answer for any item: the first option, or the range's middle. */
export function validAnswer(request: CompletionRequest, index = 0): string {
  const item = request.subject!.item;
  if (item.type === "thermometer") return JSON.stringify({ answer: 50 + index });
  if (item.type === "numeric") return JSON.stringify({ answer: item.min });
  return JSON.stringify({ answer: item.options[(request.subject!.generation + index) % item.options.length]!.code });
}

export class FakeProvider implements Provider {
  readonly vendor = "openai" as const;
  readonly id: string;
  readonly model: string;
  readonly capabilities: ProviderCapabilities;
  readonly requests: CompletionRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Requests in flight (this one included) when each request arrived. */
  readonly inFlightAtArrival: number[] = [];
  private readonly options: FakeProviderOptions;

  constructor(options: FakeProviderOptions = {}) {
    this.options = options;
    this.id = options.id ?? "openai:fake-model";
    this.model = this.id.split(":")[1]!;
    this.capabilities = { multipleChoices: false, answerSchema: true, logprobs: false, promptCaching: false, ...options.capabilities };
  }

  async complete(request: CompletionRequest): Promise<CompletionResult> {
    const call = this.requests.length;
    this.requests.push(request);
    this.inFlight += 1;
    this.inFlightAtArrival.push(this.inFlight);
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const latency = typeof this.options.latencyMs === "function" ? this.options.latencyMs(call) : (this.options.latencyMs ?? 0);
      if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
      const error = this.options.fail?.(request, call);
      if (error !== undefined) throw error;
      const choices = this.options.respond
        ? await this.options.respond(request, call)
        : Array.from({ length: request.n }, (_, i) => ({ text: validAnswer(request, i), finishReason: "stop" }));
      const input = this.options.inputTokens?.(request) ?? Math.ceil((request.system.length + request.messages.reduce((s, m) => s + m.content.length, 0)) / 4);
      return {
        choices,
        usage: {
          inputTokens: input,
          outputTokens: choices.length * (typeof this.options.outputTokensPerChoice === "function" ? this.options.outputTokensPerChoice(request) : (this.options.outputTokensPerChoice ?? 6)),
          cachedInputTokens: this.options.cachedInputTokens?.(request, call) ?? 0,
          cacheWriteTokens: this.options.cacheWriteTokens?.(request, call) ?? 0,
        },
        requestId: `req_${call}`,
      };
    } finally {
      this.inFlight -= 1;
    }
  }
}

/** USD per million tokens: $1 input, $4 output. */
export const TEST_PRICE: ResolvedPrice = { input: 1, output: 4, cached_input: 0.1, cache_write: 1.25, batch_factor: 0.5, source: "study" };

export function price(input: number, output: number): ResolvedPrice {
  return { ...TEST_PRICE, input, output, cached_input: input / 10, cache_write: input * 1.25 };
}

export function fakeDeps(providers: Provider | Provider[], price: ResolvedPrice = TEST_PRICE): GenerateDeps {
  const list = Array.isArray(providers) ? providers : [providers];
  return {
    createProvider: (id) => {
      const provider = list.find((p) => p.id === id);
      if (provider === undefined) throw new Error(`no fake provider for ${id}`);
      return provider;
    },
    priceFor: () => price,
    renderQuestion,
  };
}
