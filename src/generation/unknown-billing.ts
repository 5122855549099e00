/**
 * Calls the vendor may have billed without saying what (a timeout, a
 * connection dropped after it was made, a garbled or cut-off body): the run
 * reports them apart from what it was billed, twice over: at their worst case
 * (the bill is at most that) and at an estimate (the bill is about that).
 *
 * The worst case is at first the call's budget reservation: one input token
 * per byte sent plus framing (cost.ts). Once a reply to the same request on
 * the same endpoint (another try of it) says how many input tokens the vendor
 * counted, the call is bounded by those tokens instead: the same request body
 * to the same model is the same text to the same tokenizer, so the vendor
 * counted the same input tokens for it. The bound stays a worst case: every
 * input token at the dearest input rate (whether the vendor's cache was read
 * or written is not known), and `n × max_tokens` of output, the most the
 * vendor may generate.
 *
 * The estimate is, in this order of preference:
 *
 * - "retry": the mean cost of the replies to the same request on the same
 *   endpoint that said their usage (its other tries), priced like any reply:
 *   the same body is billed the same input tokens, and their output is the
 *   best guess of the output the vendor generated for the lost reply;
 * - "item": when no such reply came, the mean cost of the replies that said
 *   their usage to requests of the same model, item and `n` in this run;
 * - "worst case": when there is none either, the call's worst case.
 *
 * Never above the worst case. Only the tally and the run's summary see the
 * tightened bound and the estimate; the budget and the store keep the
 * reservation (the cap is never crossed, nor relaxed by an estimate, and the
 * next run counts the call at its reservation).
 */
import type { ResolvedPrice } from "../providers/prices.ts";
import type { Provider } from "../providers/types.ts";
import { worstCaseCost } from "./cost.ts";
import type { EngineTotals } from "./engine-types.ts";

/** A request as sent on one endpoint, and the kind of request it is. */
export interface SentRequest {
  endpoint: Provider;
  /** Its request key. */
  key: string;
  /** Its model, item and `n`: requests whose replies stand in for its own when none of its own came. */
  kind: string;
}

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

/** A reply that said what the vendor billed for it. */
export interface StatedReply {
  inputTokens: number;
  /** What its usage costs, priced like any reply's. */
  costUsd: number;
}

/** Replies that said their usage: how many, and what they cost together. */
interface Replies {
  count: number;
  costUsd: number;
}

/** One request body on one endpoint. */
interface Body {
  /** The most input tokens a reply to it said were billed (all should say the same). */
  inputTokens?: number;
  replies: Replies;
  unknown: Tracked[];
}

/** The requests of one model, item and `n`. */
interface Kind {
  replies: Replies;
  /** Its unknown calls no reply to their own request has said the usage of. */
  unanswered: Set<Tracked>;
}

type Basis = "retry" | "item" | "worst case";

/** An unknown call and what it is counted at in the totals. */
interface Tracked extends UnknownCall {
  body: Body;
  kind: Kind;
  boundUsd: number;
  estimateUsd: number;
  basis?: Basis;
}

/** The unknown-billing totals of a run; requests are matched while they are asked (forgotten once their ask ends). */
export class UnknownBilling {
  private readonly totals: EngineTotals;
  /** Per request key, per endpoint (its provider). */
  private readonly bodies = new Map<string, Map<Provider, Body>>();
  /** For the whole run. */
  private readonly kinds = new Map<string, Kind>();
  /** Kinds with a reply since their calls without a reply of their own were last counted (see `settle`). */
  private readonly staleKinds = new Set<Kind>();

  constructor(totals: EngineTotals) {
    this.totals = totals;
  }

  /** A call of `request` whose billing is unknown. */
  unknown(request: SentRequest, call: UnknownCall): void {
    const body = this.body(request);
    const kind = this.kind(request.kind);
    const tracked: Tracked = { ...call, body, kind, boundUsd: 0, estimateUsd: 0 };
    body.unknown.push(tracked);
    if (body.replies.count === 0) kind.unanswered.add(tracked);
    this.totals.unknownBillingCalls += 1;
    this.count(tracked);
  }

  /**
   * A reply to `request` said what the vendor billed: the unknown calls of
   * the same body are bounded by its input tokens and estimated from it, and,
   * while `retrying` (the request is sent again), so are its later ones. Those
   * of the same kind with no reply of their own are estimated from it too, when
   * the totals are next read (`settle`): recounting them on every reply would
   * cost replies × such calls in a long outage.
   */
  known(request: SentRequest, reply: StatedReply, retrying: boolean): void {
    const body = retrying ? this.body(request) : this.bodies.get(request.key)?.get(request.endpoint);
    if (body !== undefined) {
      body.inputTokens = Math.max(body.inputTokens ?? 0, reply.inputTokens);
      add(body.replies, reply.costUsd);
      for (const call of body.unknown) {
        call.kind.unanswered.delete(call);
        this.count(call);
      }
    }
    const kind = this.kind(request.kind);
    add(kind.replies, reply.costUsd);
    if (kind.unanswered.size > 0) this.staleKinds.add(kind);
  }

  /** Brings the totals up to date: the calls with no reply of their own, at their kinds' replies so far. */
  settle(): void {
    for (const kind of this.staleKinds) for (const call of kind.unanswered) this.count(call);
    this.staleKinds.clear();
  }

  /** The ask of `key` is over: no later reply is matched with its calls (they stay counted as they are). */
  forget(key: string): void {
    this.bodies.delete(key);
  }

  /** (Re)counts `call` in the totals at its bound and estimate as they stand. */
  private count(call: Tracked): void {
    const boundUsd = bound(call, call.body.inputTokens);
    const [basis, estimateUsd] = estimate(call, boundUsd);
    const totals = this.totals;
    totals.unknownBillingUsd += boundUsd - call.boundUsd;
    totals.unknownBillingEstimateUsd += estimateUsd - call.estimateUsd;
    if (call.basis === "item") totals.unknownBillingFromItemCalls -= 1;
    if (call.basis === "worst case") totals.unknownBillingAtWorstCaseCalls -= 1;
    if (basis === "item") totals.unknownBillingFromItemCalls += 1;
    if (basis === "worst case") totals.unknownBillingAtWorstCaseCalls += 1;
    call.boundUsd = boundUsd;
    call.estimateUsd = estimateUsd;
    call.basis = basis;
  }

  private body(request: SentRequest): Body {
    let endpoints = this.bodies.get(request.key);
    if (endpoints === undefined) this.bodies.set(request.key, (endpoints = new Map()));
    let body = endpoints.get(request.endpoint);
    if (body === undefined) endpoints.set(request.endpoint, (body = { replies: { count: 0, costUsd: 0 }, unknown: [] }));
    return body;
  }

  private kind(name: string): Kind {
    let kind = this.kinds.get(name);
    if (kind === undefined) this.kinds.set(name, (kind = { replies: { count: 0, costUsd: 0 }, unanswered: new Set() }));
    return kind;
  }
}

function add(replies: Replies, costUsd: number): void {
  replies.count += 1;
  replies.costUsd += costUsd;
}

/**
 * The worst case of `call`, given the input tokens the vendor counts for its
 * body if known; never above its reservation (both are bounds: the lesser holds).
 */
function bound(call: UnknownCall, inputTokens: number | undefined): number {
  if (inputTokens === undefined) return call.reservationUsd;
  return Math.min(call.reservationUsd, worstCaseCost(inputTokens, call.outputTokens, call.price) * call.priceFactor);
}

/** What `call` is estimated at, and from what (the module's comment gives the rule). */
function estimate(call: Tracked, boundUsd: number): [Basis, number] {
  const own = call.body.replies;
  if (own.count > 0) return ["retry", Math.min(boundUsd, own.costUsd / own.count)];
  const like = call.kind.replies;
  if (like.count > 0) return ["item", Math.min(boundUsd, like.costUsd / like.count)];
  return ["worst case", boundUsd];
}
