import { describe, expect, it } from "vitest";
import { costNote } from "../../src/cli/generate.ts";
import type { EngineTotals } from "../../src/generation/engine-types.ts";
import { Tally } from "../../src/generation/tally.ts";

/** A run's totals: $0.50 billed, and what `unknown` says of the calls whose billing is unknown. */
const totals = (unknown: Partial<EngineTotals> = {}): EngineTotals => ({ ...new Tally().totals, costUsd: 0.5, ...unknown });

describe("costNote: what the run's summary line says it cost", () => {
  it("is the billed figure alone when every reply said what it billed", () => {
    expect(costNote(totals())).toBe("$0.50");
  });

  it("gives the estimate of the whole bill and its worst case apart, saying how the unknown calls were estimated", () => {
    const fromRetries = { unknownBillingCalls: 14, unknownBillingEstimateUsd: 0.03, unknownBillingUsd: 0.4 };
    expect(costNote(totals(fromRetries))).toBe("$0.50 billed, about $0.53 in all (14 calls whose billing is unknown estimated from their retries; at most $0.90)");
    const one = { unknownBillingCalls: 1, unknownBillingEstimateUsd: 0.03, unknownBillingUsd: 0.4, unknownBillingAtWorstCaseCalls: 1 };
    expect(costNote(totals(one))).toBe("$0.50 billed, about $0.53 in all (1 call whose billing is unknown estimated at its worst case; at most $0.90)");
    const mixed = { ...fromRetries, unknownBillingFromItemCalls: 1, unknownBillingAtWorstCaseCalls: 2 };
    expect(costNote(totals(mixed))).toBe(
      "$0.50 billed, about $0.53 in all (14 calls whose billing is unknown, estimated: 11 from their retries, 1 from replies to its item, 2 at their worst case; at most $0.90)",
    );
  });

  it("keeps three significant digits below $0.10, so the figures of a small run stay apart", () => {
    const small = { costUsd: 0.028655, unknownBillingCalls: 14, unknownBillingEstimateUsd: 0.001939, unknownBillingUsd: 0.025175 };
    expect(costNote(totals(small))).toBe("$0.0287 billed, about $0.0306 in all (14 calls whose billing is unknown estimated from their retries; at most $0.0538)");
    expect(costNote(totals({ ...small, costUsd: 1.84 }))).toMatch(/^\$1\.84 billed, about \$1\.84 in all .*; at most \$1\.87\)$/);
  });
});
