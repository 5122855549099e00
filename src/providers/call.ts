/**
 * The one shape of a vendor call, shared by every adapter: build the body
 * (a request that cannot be sent fails here, before any traffic), send it
 * under a deadline, read the body, and classify whatever goes wrong.
 */
import { BadRequestError } from "../errors.ts";
import { startDeadline } from "./deadline.ts";
import {
  type FailureContext,
  MalformedBody,
  type SdkErrorClasses,
  UnsendableRequest,
  classifyFailure,
  malformedResponse,
  redactorFor,
  scrub,
} from "./errors.ts";
import type { CompletionChoice, CompletionResult, RateLimitState, TokenUsage } from "./types.ts";

export interface VendorCall<Params> {
  context: FailureContext;
  sdk: SdkErrorClasses;
  signal: AbortSignal;
  timeoutMs: number;
  /** The request body; throws UnsendableRequest for a request the vendor cannot take. */
  build: () => Params;
  /** Sends the body; resolves to the parsed JSON and the raw response (for headers). */
  send: (params: Params, signal: AbortSignal) => Promise<{ data: unknown; response: Response }>;
  /** Reads the body; throws MalformedBody when it breaks the wire format. */
  parse: (data: unknown) => { choices: CompletionChoice[]; usage: TokenUsage; model?: string };
  requestIdHeader: string;
  rateLimit: (headers: Headers) => RateLimitState | undefined;
}

export async function callVendor<Params>(call: VendorCall<Params>): Promise<CompletionResult> {
  const { context, signal } = call;
  let params: Params;
  try {
    params = call.build();
  } catch (error) {
    if (error instanceof UnsendableRequest) {
      throw new BadRequestError(context.provider, scrub(error.message, context), { retryable: false });
    }
    throw error;
  }
  if (signal.aborted) throw signal.reason;
  const deadline = startDeadline(signal, call.timeoutMs);
  try {
    const { data, response } = await call.send(params, deadline.signal);
    let parsed;
    try {
      parsed = call.parse(data);
    } catch (error) {
      if (error instanceof MalformedBody) {
        throw malformedResponse(context, error.message, { status: response.status, retryable: error.retryable, usage: error.usage });
      }
      throw error;
    }
    const requestId = response.headers.get(call.requestIdHeader);
    const rateLimit = call.rateLimit(response.headers);
    const redact = redactorFor(context);
    return {
      choices: redactChoices(parsed.choices, redact),
      usage: parsed.usage,
      ...(parsed.model !== undefined ? { model: redact(parsed.model) } : {}),
      ...(requestId !== null ? { requestId: redact(requestId) } : {}),
      ...(rateLimit !== undefined ? { rateLimit } : {}),
    };
  } catch (error) {
    throw classifyFailure(error, call.sdk, context, signal, deadline);
  } finally {
    deadline.clear();
  }
}

/**
 * The choices with every known secret removed from what the model wrote: a
 * vendor or proxy that echoes the key into a successful body must not get it
 * into the store or the exports.
 */
export function redactChoices(choices: CompletionChoice[], redact: (text: string) => string): CompletionChoice[] {
  return choices.map((choice) => ({
    ...choice,
    text: redact(choice.text),
    ...(choice.refusal !== undefined ? { refusal: redact(choice.refusal) } : {}),
    ...(choice.topLogprobs !== undefined ? { topLogprobs: choice.topLogprobs.map((t) => ({ ...t, token: redact(t.token) })) } : {}),
  }));
}

/** A whole result, redacted the same way (batch result lines). */
export function redactResult(result: CompletionResult, context: Pick<FailureContext, "secrets" | "env">): CompletionResult {
  const redact = redactorFor(context);
  return {
    ...result,
    choices: redactChoices(result.choices, redact),
    ...(result.model !== undefined ? { model: redact(result.model) } : {}),
    ...(result.requestId !== undefined ? { requestId: redact(result.requestId) } : {}),
  };
}
