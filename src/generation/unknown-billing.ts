/**
 * Calls the vendor may have billed without saying what (a timeout, a
 * connection dropped after it was made, a garbled or cut-off body): the run
 * reports them apart from what it was billed, at their worst case.
 *
 * At first that worst case is the call's budget reservation: one input token
 * per byte sent plus framing (cost.ts). Once a reply to the same request on
 * the same endpoint (another try of it) says how many input tokens the vendor
 * counted, the call is bounded by those tokens instead: the same request body
 * to the same model is the same text to the same tokenizer, so the vendor
 * counted the same input tokens for it. The bound stays a worst case: every
 * input token at the dearest input rate (whether the vendor's cache was read
 * or written is not known), and `n × max_tokens` of output, the most the
 * vendor may generate. Only the tally and the run's summary see the tightened
 * bound; the budget and the store keep the reservation (the cap is never
 * crossed, and the next run counts the call at its reservation).
 */
import type { ResolvedPrice } from "../providers/prices.ts";
import type { Provider } from "../providers/types.ts";
import { worstCaseCost } from "./cost.ts";
import type { EngineTotals } from "./engine-types.ts";

/** What bounds one call whose billing is unknown, besides its input tokens. */
export interface UnknownCall {
  /** The budget reservation: its bound while no reply to the same body has said its input tokens. */
  reservationUsd: number;
  /** `n × max_tokens`. */
  outputTokens: number;
  price: ResolvedPrice;
  /** 1, or the batch price factor. */
  priceFactor: number;
}

/** One request body on one endpoint. */
interface Body {
  /** The most input tokens a reply to it said were billed (all should say the same). */
  inputTokens?: number;
  unknown: UnknownCall[];
}

/** The unknown-billing totals of a run, for the requests being asked (a request is forgotten once its ask ends). */
export class UnknownBilling {
  private readonly totals: EngineTotals;
  /** Per request key, per endpoint (its provider). */
  private readonly bodies = new Map<string, Map<Provider, Body>>();

  constructor(totals: EngineTotals) {
    this.totals = totals;
  }

  /** A call to `key` on `endpoint` whose billing is unknown: counted at its worst case. */
  unknown(endpoint: Provider, key: string, call: UnknownCall): void {
    const body = this.body(endpoint, key);
    body.unknown.push(call);
    this.totals.unknownBillingCalls += 1;
    this.totals.unknownBillingUsd += bound(call, body.inputTokens);
  }

  /**
   * A reply to `key` on `endpoint` said the vendor billed `inputTokens`: the
   * unknown calls of the same body are bounded by them, and, while `retrying`
   * (the request is sent again), so are its later ones.
   */
  known(endpoint: Provider, key: string, inputTokens: number, retrying: boolean): void {
    const body = retrying ? this.body(endpoint, key) : this.bodies.get(key)?.get(endpoint);
    if (body === undefined || inputTokens <= (body.inputTokens ?? -1)) return;
    for (const call of body.unknown) this.totals.unknownBillingUsd += bound(call, inputTokens) - bound(call, body.inputTokens);
    body.inputTokens = inputTokens;
  }

  /** The ask of `key` is over: no later reply is matched with its calls. */
  forget(key: string): void {
    this.bodies.delete(key);
  }

  private body(endpoint: Provider, key: string): Body {
    let endpoints = this.bodies.get(key);
    if (endpoints === undefined) this.bodies.set(key, (endpoints = new Map()));
    let body = endpoints.get(endpoint);
    if (body === undefined) endpoints.set(endpoint, (body = { unknown: [] }));
    return body;
  }
}

/**
 * The worst case of `call`, given the input tokens the vendor counts for its
 * body if known; never above its reservation (both are bounds: the lesser holds).
 */
function bound(call: UnknownCall, inputTokens: number | undefined): number {
  if (inputTokens === undefined) return call.reservationUsd;
  return Math.min(call.reservationUsd, worstCaseCost(inputTokens, call.outputTokens, call.price) * call.priceFactor);
}
