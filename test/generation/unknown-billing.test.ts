import { describe, expect, it } from "vitest";
import type { ResolvedPrice } from "../../src/providers/prices.ts";
import type { Provider } from "../../src/providers/types.ts";
import { Tally } from "../../src/generation/tally.ts";
import { UnknownBilling, type UnknownCall } from "../../src/generation/unknown-billing.ts";

/** USD per million tokens; a cache write (2.5) is the dearest input rate. */
const PRICE: ResolvedPrice = { input: 2, output: 8, cached_input: 0.2, cache_write: 2.5, batch_factor: 0.5, source: "study" };
/** Two endpoints of one model (only their identity matters here). */
const ENDPOINT = { id: "openai" } as unknown as Provider;
const OTHER_ENDPOINT = { id: "openai" } as unknown as Provider;

/** A call reserved at $0.01 (its byte-based worst case), max_tokens 200. */
const call = (reservationUsd = 0.01, priceFactor = 1): UnknownCall => ({ reservationUsd, outputTokens: 200, price: PRICE, priceFactor });
/** Its worst case once the vendor is known to count `input` tokens for its body: dearest input rate, max_tokens out. */
const tight = (input: number) => (input * 2.5 + 200 * 8) / 1e6;

function setUp() {
  const tally = new Tally();
  return { totals: tally.totals, billing: new UnknownBilling(tally.totals) };
}

describe("UnknownBilling: the worst case of calls whose billing is unknown", () => {
  it("counts a call at its reservation until a reply to the same body says its input tokens, then at those", () => {
    const { totals, billing } = setUp();
    billing.unknown(ENDPOINT, "k1", call());
    billing.unknown(ENDPOINT, "k1", call());
    expect(totals).toMatchObject({ unknownBillingCalls: 2, unknownBillingUsd: 0.02 });
    billing.known(ENDPOINT, "k1", 300, false);
    expect(totals.unknownBillingCalls).toBe(2);
    expect(totals.unknownBillingUsd).toBeCloseTo(2 * tight(300), 15);
  });

  it("bounds a later try by the input tokens an earlier reply said, while the request is retried", () => {
    const { totals, billing } = setUp();
    billing.known(ENDPOINT, "k1", 300, true);
    billing.unknown(ENDPOINT, "k1", call());
    expect(totals.unknownBillingUsd).toBeCloseTo(tight(300), 15);
  });

  it("matches only the same request on the same endpoint, and only while it is asked", () => {
    const { totals, billing } = setUp();
    billing.unknown(ENDPOINT, "k1", call());
    billing.known(ENDPOINT, "k2", 300, true);
    billing.known(OTHER_ENDPOINT, "k1", 300, false);
    expect(totals.unknownBillingUsd).toBe(0.01);
    // A reply that ends the ask is not kept for calls that never follow.
    billing.known(ENDPOINT, "k3", 300, false);
    billing.unknown(ENDPOINT, "k3", call());
    expect(totals.unknownBillingUsd).toBe(0.02);
    billing.forget("k1");
    billing.known(ENDPOINT, "k1", 300, false);
    expect(totals.unknownBillingUsd).toBe(0.02);
  });

  it("stays a worst case: never above the reservation, and the most input tokens any reply said", () => {
    const { totals, billing } = setUp();
    billing.unknown(ENDPOINT, "k1", call(0.0005));
    billing.known(ENDPOINT, "k1", 300, false);
    expect(totals.unknownBillingUsd).toBe(0.0005);
    billing.unknown(ENDPOINT, "k2", call());
    billing.known(ENDPOINT, "k2", 300, true);
    billing.known(ENDPOINT, "k2", 200, true);
    expect(totals.unknownBillingUsd).toBeCloseTo(0.0005 + tight(300), 15);
    billing.known(ENDPOINT, "k2", 400, true);
    expect(totals.unknownBillingUsd).toBeCloseTo(0.0005 + tight(400), 15);
  });

  it("prices a batch request at the batch factor", () => {
    const { totals, billing } = setUp();
    billing.unknown(ENDPOINT, "k1", call(0.005, 0.5));
    billing.known(ENDPOINT, "k1", 300, false);
    expect(totals.unknownBillingUsd).toBeCloseTo(0.5 * tight(300), 15);
  });
});
