/**
 * The cost cap under pressure: 64 requests in flight, random latencies,
 * token counts drawn up to the worst case a request can cost, invalid
 * answers (re-asks), timeouts whose billing is unknown, two models sharing
 * one cap, k answers per call — over 25 seeds, what the store counts as
 * spent (actual costs, plus the reserved worst case of every call whose
 * billing is unknown) never exceeds --max-cost, nor does what the vendor
 * actually charged. A second part runs the real command line at
 * --concurrency 64 against the fake vendor reporting random usage, and a
 * third a --batch run (the fake vendor's OpenAI Batch API) at --max-cost.
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { TimeoutError } from "../../src/errors.ts";
import { worstCaseInputTokens } from "../../src/generation/cost.ts";
import { generate } from "../../src/generation/run.ts";
import { costUsd } from "../../src/providers/prices.ts";
import { createRng } from "../../src/simulation/random.ts";
import type { CompletionRequest } from "../../src/providers/types.ts";
import { openStoreReadOnly } from "../../src/store/store.ts";
import { runCli, writeStudy } from "../helpers/cli.ts";
import { fakeDeps, FakeProvider, TEST_PRICE, validAnswer } from "../helpers/fake-provider.ts";
import { startFakeVendor, type FakeVendor } from "../helpers/fake-vendor.ts";
import { makeStudy } from "../helpers/study.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir("silicon-budget-");

const MAX_TOKENS = 30;

describe("--max-cost at concurrency 64", () => {
  it("is never exceeded, over 25 seeds of random latencies, token counts, re-asks and timeouts", async () => {
    const outcomes: { seed: number; cap: number; spent: number; charged: number; status: string; maxInFlight: number }[] = [];
    for (let seed = 1; seed <= 25; seed++) {
      const random = createRng(seed).next;
      /** What the fake vendors charged: every answered request at its reported usage. */
      let charged = 0;
      let inFlight = 0;
      let maxInFlight = 0;
      const makeProvider = (id: string, multipleChoices: boolean) =>
        new FakeProvider({
          id,
          capabilities: { multipleChoices },
          latencyMs: () => Math.floor(random() * 12),
          // Input tokens anywhere up to the bound a byte-level tokenizer allows.
          inputTokens: (request) => Math.floor((0.5 + 0.5 * random()) * worstCaseInputTokens(request.system, request.messages, request.answerSchema)),
          outputTokensPerChoice: () => 1 + Math.floor(random() * MAX_TOKENS),
          respond: (request) =>
            Array.from({ length: request.n }, (_, i) => ({ text: random() < 0.1 ? "maybe" : validAnswer(request, i), finishReason: "stop" })),
          fail: () => (random() < 0.04 ? new TimeoutError(id, "no complete response before the request timeout", { retryable: true }) : undefined),
        });
      const providers = [makeProvider("openai:fake-model", true), makeProvider("openai:other-model", false)];
      for (const provider of providers) {
        const complete = provider.complete.bind(provider);
        provider.complete = async (request: CompletionRequest) => {
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          try {
            const result = await complete(request);
            charged += costUsd(result.usage, TEST_PRICE);
            return result;
          } finally {
            inFlight -= 1;
          }
        };
      }
      const study = makeStudy({
        respondents: 40,
        study: { models: ["openai:fake-model", "openai:other-model"], concurrency: 64, max_tokens: MAX_TOKENS, generations: 3 },
      });
      // A worst-case request costs about $0.003 here: room for 64 in flight, and for about half the study.
      const cap = Number((0.3 + 0.15 * random()).toFixed(4));
      const dir = tempDir();
      const summary = await generate(study, {
        deps: fakeDeps(providers, TEST_PRICE),
        resultsDir: dir,
        maxCostUsd: cap,
        retry: { baseDelayMs: 1, maxDelayMs: 4 },
        random,
      });
      if (summary.kind !== "run") throw new Error("expected a run");
      const store = openStoreReadOnly(join(dir, "test-study"))!;
      const spent = store.spentUsd();
      store.close();
      outcomes.push({ seed, cap, spent, charged, status: summary.status, maxInFlight });
    }
    for (const outcome of outcomes) {
      expect(outcome.spent, `seed ${outcome.seed}`).toBeLessThanOrEqual(outcome.cap);
      expect(outcome.charged, `seed ${outcome.seed}`).toBeLessThanOrEqual(outcome.spent + 1e-15);
    }
    // The caps bound: every run stopped at its cap, with real concurrency on the way.
    expect(outcomes.every((o) => o.status === "budget")).toBe(true);
    expect(Math.min(...outcomes.map((o) => o.maxInFlight))).toBe(64);
    // And not by stopping early: each got within a few worst-case requests of its cap.
    for (const o of outcomes) expect(o.spent, `seed ${o.seed}`).toBeGreaterThan(o.cap * 0.5);
  });
});

describe("the command line at --concurrency 64 against the fake vendor", () => {
  let vendor: FakeVendor | undefined;
  afterEach(async () => {
    await vendor?.close();
    vendor = undefined;
  });

  it.each([1, 2, 3])("keeps what it stores, and what the vendor bills, within --max-cost (seed %i)", async (seed) => {
    const random = createRng(seed * 7919).next;
    vendor = await startFakeVendor({
      seed,
      latencyMs: [0, 15],
      // Each body's bytes bound its tokens; report anywhere up to that, and up to max_tokens out.
      usage: (request) => ({
        input: Math.floor(random() * JSON.stringify(request.body).length),
        output: Math.floor(random() * (request.body.max_tokens ?? MAX_TOKENS)),
      }),
    });
    const dir = tempDir();
    const study = writeStudy(dir, {
      respondents: 60,
      extra: `max_tokens: ${MAX_TOKENS}\nprices:\n  "openai:fake-model": { input: 3, output: 15 }\n`,
    });
    const cap = 0.05;
    const result = await runCli(["generate", study, "--concurrency", "64", "--max-cost", String(cap), "--quiet"], {
      cwd: dir,
      env: { OPENAI_BASE_URL: vendor.baseURL },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/silicon: stopped at the cost cap \(--max-cost, \$0\.05 for this run\)/);
    const db = new DatabaseSync(join(dir, "results/cli-study/store.sqlite"), { readOnly: true });
    const { stored, reserved } = db
      .prepare("SELECT sum(cost_usd) AS stored, max(reserved_usd) AS reserved FROM calls WHERE status = 'completed'")
      .get() as { stored: number; reserved: number };
    db.close();
    const d = vendor.stats.delivered;
    const billed = (d.inputTokens * 3 + d.outputTokens * 15) / 1e6;
    expect(stored).toBeLessThanOrEqual(cap);
    expect(billed).toBeCloseTo(stored, 12);
    expect(stored + reserved).toBeGreaterThan(cap); // stopped only when the next worst case no longer fit
  });
});

describe("a batch run at --max-cost", () => {
  let vendor: FakeVendor | undefined;
  afterEach(async () => {
    await vendor?.close();
    vendor = undefined;
  });

  it("reserves each request's worst case at the batch price: what it stores stays within the cap", async () => {
    const random = createRng(4242).next;
    vendor = await startFakeVendor({
      usage: (request) => ({
        input: Math.floor(random() * JSON.stringify(request.body).length),
        output: Math.floor(random() * (request.body.max_tokens ?? MAX_TOKENS)),
      }),
    });
    const dir = tempDir();
    const study = writeStudy(dir, { respondents: 60, extra: `max_tokens: ${MAX_TOKENS}\nprices:\n  "openai:fake-model": { input: 3, output: 15 }\n` });
    const cap = 0.02;
    const result = await runCli(["generate", study, "--batch", "--poll-interval", "0.02", "--max-cost", String(cap), "--quiet"], {
      cwd: dir,
      env: { OPENAI_BASE_URL: vendor.baseURL, SILICON_OPENAI_N: "false" },
    });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/silicon: stopped at the cost cap \(--max-cost, \$0\.02 for this run\)/);
    const db = new DatabaseSync(join(dir, "results/cli-study/store.sqlite"), { readOnly: true });
    const { stored, calls } = db.prepare("SELECT sum(cost_usd) AS stored, count(*) AS calls FROM calls WHERE status = 'completed'").get() as { stored: number; calls: number };
    db.close();
    expect(calls).toBeGreaterThan(0);
    expect(vendor.stats.batches.billedLines).toBe(calls);
    const d = vendor.stats.delivered;
    expect(stored).toBeCloseTo((0.5 * (d.inputTokens * 3 + d.outputTokens * 15)) / 1e6, 12);
    expect(stored).toBeLessThanOrEqual(cap);
  });
});
