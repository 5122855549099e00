/**
 * Prompt caching: the persona is the stable prefix of every request and is
 * marked for caching; cached and cache-write tokens are stored, and what the
 * cache saved is counted in USD and shown in the run's summary line.
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { formatRunSummary } from "../../src/cli/generate.ts";
import { generate, type RunSummary } from "../../src/generation/run.ts";
import { ManualClock } from "../helpers/clock.ts";
import { fakeDeps, FakeProvider, TEST_PRICE } from "../helpers/fake-provider.ts";
import { makeStudy, ITEMS } from "../helpers/study.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir();

describe("prompt caching", () => {
  it("marks the persona as a cache prefix when a respondent is asked several items, and the item comes last", async () => {
    const several = new FakeProvider();
    await generate(makeStudy({ respondents: 1 }), { deps: fakeDeps(several), resultsDir: tempDir(), clock: new ManualClock() });
    expect(several.requests.every((r) => r.cacheSystemPrompt === true && r.cacheMessages === undefined)).toBe(true);
    expect(several.requests.map((r) => r.system)).toEqual(Array(3).fill("You are respondent r1, a 20-year-old Democrat."));
    const one = new FakeProvider();
    await generate(makeStudy({ respondents: 1, items: [ITEMS[0]] }), { deps: fakeDeps(one), resultsDir: tempDir(), clock: new ManualClock() });
    expect(one.requests[0]!.cacheSystemPrompt).toBe(false);
  });

  it("stores cached tokens and counts what the cache saved (reads at 0.1 ×, writes at 1.25 × the input price)", async () => {
    // The first request of each respondent writes 80 persona tokens; the other two read them.
    const provider = new FakeProvider({
      inputTokens: () => 100,
      cacheWriteTokens: (request) => (request.subject!.item.id === "approve" ? 80 : 0),
      cachedInputTokens: (request) => (request.subject!.item.id === "approve" ? 0 : 80),
      outputTokensPerChoice: 5,
    });
    const summary = (await generate(makeStudy({ respondents: 4 }), {
      deps: fakeDeps(provider, TEST_PRICE),
      resultsDir: tempDir(),
      clock: new ManualClock(),
    })) as RunSummary;
    const t = summary.totals;
    expect(t).toMatchObject({ inputTokens: 1200, cachedInputTokens: 640, cacheWriteTokens: 320, outputTokens: 60 });
    // Uncached: 1200 input at $1 + 60 output at $4 per million. Actual: 240 uncached + 640 × 0.1 + 320 × 1.25, same output.
    const uncached = (1200 * 1 + 60 * 4) / 1e6;
    const actual = (240 * 1 + 640 * 0.1 + 320 * 1.25 + 60 * 4) / 1e6;
    expect(t.costUsd).toBeCloseTo(actual, 15);
    expect(t.cacheSavingsUsd).toBeCloseTo(uncached - actual, 15);
    expect(formatRunSummary(summary)).toContain("prompt cache: 640 of 1200 input tokens read from it (53%), saved $0.00050; ");
    const db = new DatabaseSync(join(summary.storeDir, "store.sqlite"), { readOnly: true });
    expect(db.prepare("SELECT cache_savings_usd AS s FROM runs").get()).toEqual({ s: expect.closeTo(uncached - actual, 15) });
    expect(db.prepare("SELECT sum(cached_input_tokens) AS c, sum(cache_write_tokens) AS w FROM calls").get()).toEqual({ c: 640, w: 320 });
    db.close();
  });
});
