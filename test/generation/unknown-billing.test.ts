import { describe, expect, it } from "vitest";
import type { ResolvedPrice } from "../../src/providers/prices.ts";
import type { Provider } from "../../src/providers/types.ts";
import { Tally } from "../../src/generation/tally.ts";
import { UnknownBilling, type SentRequest, type UnknownCall } from "../../src/generation/unknown-billing.ts";

/** USD per million tokens; a cache write (2.5) is the dearest input rate. */
const PRICE: ResolvedPrice = { input: 2, output: 8, cached_input: 0.2, cache_write: 2.5, batch_factor: 0.5, source: "study" };
/** Two endpoints of one model (only their identity matters here). */
const ENDPOINT = { id: "openai" } as unknown as Provider;
const OTHER_ENDPOINT = { id: "openai" } as unknown as Provider;

/** Request `key` on `endpoint`, of one kind (model, item, n) unless told. */
const req = (key: string, endpoint = ENDPOINT, kind = "m\nq1\n1"): SentRequest => ({ endpoint, key, kind });
/** A call reserved at $0.01 (its byte-based worst case), max_tokens 200. */
const call = (reservationUsd = 0.01, priceFactor = 1): UnknownCall => ({ reservationUsd, outputTokens: 200, price: PRICE, priceFactor });
/** Its worst case once the vendor is known to count `input` tokens for its body: dearest input rate, max_tokens out. */
const tight = (input: number) => (input * 2.5 + 200 * 8) / 1e6;
/** A reply that said it was billed `input` tokens and cost `costUsd`. */
const reply = (input: number, costUsd = 0.0007) => ({ inputTokens: input, costUsd });

function setUp() {
  const tally = new Tally();
  return { totals: tally.totals, billing: new UnknownBilling(tally.totals) };
}

describe("UnknownBilling: the worst case of calls whose billing is unknown", () => {
  it("counts a call at its reservation until a reply to the same body says its input tokens, then at those", () => {
    const { totals, billing } = setUp();
    billing.unknown(req("k1"), call());
    billing.unknown(req("k1"), call());
    expect(totals).toMatchObject({ unknownBillingCalls: 2, unknownBillingUsd: 0.02 });
    billing.known(req("k1"), reply(300), false);
    expect(totals.unknownBillingCalls).toBe(2);
    expect(totals.unknownBillingUsd).toBeCloseTo(2 * tight(300), 15);
  });

  it("bounds a later try by the input tokens an earlier reply said, while the request is retried", () => {
    const { totals, billing } = setUp();
    billing.known(req("k1"), reply(300), true);
    billing.unknown(req("k1"), call());
    expect(totals.unknownBillingUsd).toBeCloseTo(tight(300), 15);
  });

  it("matches only the same request on the same endpoint, and only while it is asked", () => {
    const { totals, billing } = setUp();
    billing.unknown(req("k1"), call());
    billing.known(req("k2"), reply(300), true);
    billing.known(req("k1", OTHER_ENDPOINT), reply(300), false);
    expect(totals.unknownBillingUsd).toBe(0.01);
    // A reply that ends the ask is not kept for calls that never follow.
    billing.known(req("k3"), reply(300), false);
    billing.unknown(req("k3"), call());
    expect(totals.unknownBillingUsd).toBe(0.02);
    billing.forget("k1");
    billing.known(req("k1"), reply(300), false);
    expect(totals.unknownBillingUsd).toBe(0.02);
  });

  it("stays a worst case: never above the reservation, and the most input tokens any reply said", () => {
    const { totals, billing } = setUp();
    billing.unknown(req("k1"), call(0.0005));
    billing.known(req("k1"), reply(300), false);
    expect(totals.unknownBillingUsd).toBe(0.0005);
    billing.unknown(req("k2"), call());
    billing.known(req("k2"), reply(300), true);
    billing.known(req("k2"), reply(200), true);
    expect(totals.unknownBillingUsd).toBeCloseTo(0.0005 + tight(300), 15);
    billing.known(req("k2"), reply(400), true);
    expect(totals.unknownBillingUsd).toBeCloseTo(0.0005 + tight(400), 15);
  });

  it("prices a batch request at the batch factor", () => {
    const { totals, billing } = setUp();
    billing.unknown(req("k1"), call(0.005, 0.5));
    billing.known(req("k1"), reply(300), false);
    expect(totals.unknownBillingUsd).toBeCloseTo(0.5 * tight(300), 15);
  });
});

describe("UnknownBilling: the estimate of calls whose billing is unknown", () => {
  it("estimates a call at what the replies to its other tries cost (their mean), before or after it", () => {
    const { totals, billing } = setUp();
    billing.unknown(req("k1"), call());
    billing.known(req("k1"), reply(300, 0.0007), true);
    expect(totals.unknownBillingEstimateUsd).toBeCloseTo(0.0007, 15);
    billing.unknown(req("k1"), call());
    billing.known(req("k1"), reply(300, 0.0009), false);
    expect(totals.unknownBillingEstimateUsd).toBeCloseTo(2 * 0.0008, 15);
    expect(totals).toMatchObject({ unknownBillingCalls: 2, unknownBillingFromItemCalls: 0, unknownBillingAtWorstCaseCalls: 0 });
  });

  it("with no reply to the same request, estimates it from the replies to the same kind of request, else at its worst case", () => {
    const { totals, billing } = setUp();
    // k1 gave up: all its tries were lost. Nothing of its kind replied yet: its worst case.
    billing.unknown(req("k1"), call());
    billing.forget("k1");
    expect(totals).toMatchObject({ unknownBillingEstimateUsd: 0.01, unknownBillingFromItemCalls: 0, unknownBillingAtWorstCaseCalls: 1 });
    // Replies to other requests of its kind (another respondent, the same model, item and n) come in later.
    billing.known(req("k2"), reply(300, 0.0006), false);
    billing.known(req("k3", OTHER_ENDPOINT), reply(300, 0.001), false);
    // Counted when the totals are read (settle), not at every reply: a long outage would make that quadratic.
    expect(totals.unknownBillingEstimateUsd).toBe(0.01);
    billing.settle();
    expect(totals.unknownBillingEstimateUsd).toBeCloseTo(0.0008, 15);
    expect(totals).toMatchObject({ unknownBillingFromItemCalls: 1, unknownBillingAtWorstCaseCalls: 0 });
    // Replies to another kind of request do not count.
    billing.known(req("k4", ENDPOINT, "m\nq2\n1"), reply(300, 0.009), false);
    billing.settle();
    expect(totals.unknownBillingEstimateUsd).toBeCloseTo(0.0008, 15);
    // Its worst case is untouched: no reply to its own body said its input tokens.
    expect(totals.unknownBillingUsd).toBe(0.01);
  });

  it("prefers a reply to its own request once one comes, over the replies to its kind", () => {
    const { totals, billing } = setUp();
    billing.known(req("k2"), reply(300, 0.002), false);
    billing.unknown(req("k1"), call());
    expect(totals).toMatchObject({ unknownBillingEstimateUsd: 0.002, unknownBillingFromItemCalls: 1 });
    billing.known(req("k1"), reply(300, 0.0007), false);
    expect(totals.unknownBillingEstimateUsd).toBeCloseTo(0.0007, 15);
    expect(totals).toMatchObject({ unknownBillingFromItemCalls: 0, unknownBillingAtWorstCaseCalls: 0 });
    // It no longer moves with its kind.
    billing.known(req("k5"), reply(300, 0.005), false);
    billing.settle();
    expect(totals.unknownBillingEstimateUsd).toBeCloseTo(0.0007, 15);
  });

  it("never estimates a call above its worst case", () => {
    const { totals, billing } = setUp();
    billing.known(req("k2"), reply(300, 0.05), false);
    billing.unknown(req("k1"), call(0.01));
    expect(totals.unknownBillingEstimateUsd).toBe(0.01);
  });
});
