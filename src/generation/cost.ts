/**
 * Money. Actual cost from a response's usage is costUsd (src/providers/prices.ts);
 * here: a dry-run estimate from the rendered prompts; and the hard cap (`--max-cost`, the study's budget):
 * before each send the engine reserves the request's worst case, and sends
 * only if spent + reserved + worst case stays within the cap. After the
 * response the reservation is settled with the actual cost. However many
 * requests are in flight, the cap cannot be crossed.
 *
 * The worst case needs an upper bound on input tokens that holds for any
 * byte-level BPE tokenizer (every token covers at least one byte): the UTF-8
 * bytes of everything sent, plus a fixed allowance for message framing and
 * the vendor's tool/schema preamble. The estimate, by contrast, is the usual
 * rule of thumb of four characters per token.
 */
import type { ResolvedPrice } from "../providers/prices.ts";
import type { AnswerSchema, ChatMessage } from "../providers/types.ts";
import { isDeepFrozen } from "../util/freeze.ts";

/** Tokens a vendor adds around the messages, the schema and the tool preamble (generous). */
export const FRAMING_TOKENS = 600;
export const FRAMING_TOKENS_PER_MESSAGE = 8;

/** Typical output tokens of one answer, for estimates: `{"answer": 3}` or a short number. */
export const TYPICAL_ANSWER_TOKENS = 8;

const PER_MILLION = 1_000_000;

/** The rule of thumb for estimates: four characters per token. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Estimated input tokens of a request (what the dry run shows). */
export function estimateInputTokens(system: string, messages: ChatMessage[], schema?: AnswerSchema): number {
  let chars = system.length;
  for (const message of messages) chars += message.content.length;
  if (schema !== undefined) chars += schemaSize(schema).schemaChars;
  return Math.ceil(chars / 4) + 4 * (messages.length + 1);
}

/** An upper bound on input tokens (UTF-8 bytes plus framing), for reservations. */
export function worstCaseInputTokens(system: string, messages: ChatMessage[], schema?: AnswerSchema): number {
  let bytes = Buffer.byteLength(system);
  for (const message of messages) bytes += Buffer.byteLength(message.content);
  if (schema !== undefined) bytes += schemaSize(schema).bytes;
  return bytes + FRAMING_TOKENS + FRAMING_TOKENS_PER_MESSAGE * (messages.length + 1);
}

interface SchemaSize {
  /** Characters of the JSON of `schema.schema` (for the estimate). */
  schemaChars: number;
  /** UTF-8 bytes of the JSON of the whole answer schema, its name included (for the worst case). */
  bytes: number;
}

/** Sizes of deeply frozen schemas (one per item, asked of every respondent): each measured once. */
const frozenSchemaSizes = new WeakMap<AnswerSchema, SchemaSize>();

function schemaSize(schema: AnswerSchema): SchemaSize {
  const known = frozenSchemaSizes.get(schema);
  if (known !== undefined) return known;
  const size = { schemaChars: JSON.stringify(schema.schema).length, bytes: Buffer.byteLength(JSON.stringify(schema)) };
  // Frozen is for good: such a schema can never differ from what was measured.
  if (isDeepFrozen(schema)) frozenSchemaSizes.set(schema, size);
  return size;
}

/** The most a request can cost: every input token at the dearest input rate, `n × maxTokens` out. */
export function worstCaseCost(inputTokens: number, outputTokens: number, price: ResolvedPrice): number {
  const inputRate = Math.max(price.input, price.cache_write, price.cached_input);
  return (inputTokens * inputRate + outputTokens * price.output) / PER_MILLION;
}

export interface Reservation {
  readonly amountUsd: number;
}

/**
 * The spending cap: reserve before sending, settle after. A reservation that
 * does not fit waits while others are in flight (their settling usually frees
 * most of what they reserved); only when nothing is in flight and it still
 * does not fit is the cap reached.
 */
export class Budget {
  /** Infinity when there is no cap. */
  readonly limitUsd: number;
  private spent = 0;
  private reserved = 0;
  private inFlight = 0;
  private waiters: (() => void)[] = [];

  constructor(limitUsd: number = Infinity) {
    this.limitUsd = Math.max(0, limitUsd);
  }

  get spentUsd(): number {
    return this.spent;
  }

  get reservedUsd(): number {
    return this.reserved;
  }

  /** Reserves `amountUsd` now, or returns undefined if that could cross the cap. */
  tryReserve(amountUsd: number): Reservation | undefined {
    if (this.spent + this.reserved + amountUsd > this.limitUsd) return undefined;
    this.reserved += amountUsd;
    this.inFlight += 1;
    return { amountUsd };
  }

  /** Reserves `amountUsd` whether or not it fits: for money already committed (a batch an earlier run submitted). */
  hold(amountUsd: number): Reservation {
    this.reserved += amountUsd;
    this.inFlight += 1;
    return { amountUsd };
  }

  /**
   * Reserves `amountUsd`, waiting for reservations in flight to settle if it
   * does not fit yet; undefined once it cannot fit (the cap is reached).
   */
  async reserve(amountUsd: number, signal?: AbortSignal): Promise<Reservation | undefined> {
    for (;;) {
      const reservation = this.tryReserve(amountUsd);
      if (reservation !== undefined || this.inFlight === 0) return reservation;
      await new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason as Error);
        const wake = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = () => {
          this.waiters = this.waiters.filter((w) => w !== wake);
          reject(signal!.reason as Error);
        };
        this.waiters.push(wake);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    }
  }

  /** Replaces a reservation by what the call actually cost. */
  settle(reservation: Reservation, actualUsd: number): void {
    this.reserved = Math.max(0, this.reserved - reservation.amountUsd);
    this.inFlight -= 1;
    this.spent += actualUsd;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
