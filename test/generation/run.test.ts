/**
 * The engine end to end in-process: a hand-built study, fake providers, a
 * real store in a temporary folder.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parse as parseCsv } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { AuthError, InputError, RateLimitError, ServerError } from "../../src/errors.ts";
import { generate, type DryRunSummary, type GenerateOptions, type RunSummary } from "../../src/generation/run.ts";
import type { StudyLike } from "../../src/generation/types.ts";
import { ManualClock } from "../helpers/clock.ts";
import { fakeDeps, FakeProvider, price, TEST_PRICE, validAnswer } from "../helpers/fake-provider.ts";
import { makeStudy } from "../helpers/study.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir();

async function run(study: StudyLike, provider: FakeProvider | FakeProvider[], options: Partial<GenerateOptions> = {}): Promise<RunSummary> {
  const summary = await generate(study, { deps: fakeDeps(provider), resultsDir: options.resultsDir ?? tempDir(), clock: new ManualClock(), ...options });
  if (summary.kind !== "run") throw new Error("expected a run");
  return summary;
}

function storeOf(summary: RunSummary): DatabaseSync {
  return new DatabaseSync(join(summary.storeDir, "store.sqlite"), { readOnly: true });
}

function answers(summary: RunSummary): Record<string, unknown>[] {
  const db = storeOf(summary);
  try {
    return db.prepare("SELECT model, wave, respondent, item, generation, value, status, reason, attempts, transient FROM answers ORDER BY respondent, item, generation").all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

describe("a complete run", () => {
  it("asks every cell once and stores one answer per cell", async () => {
    const study = makeStudy({ respondents: 4, study: { generations: 2 } });
    const provider = new FakeProvider();
    const summary = await run(study, provider);
    expect(summary.status).toBe("completed");
    expect(summary.cells).toBe(4 * 3 * 2);
    expect(provider.requests).toHaveLength(24);
    expect(summary.totals).toMatchObject({ answered: 24, nonresponse: 0, refusals: 0, callsSent: 24, cacheHits: 0, done: 24 });
    const rows = answers(summary);
    expect(rows).toHaveLength(24);
    expect(rows.every((r) => r.status === "answered")).toBe(true);
    // Every request carries the persona, the schema and the simulator's subject.
    const first = provider.requests[0]!;
    expect(first.system).toBe("You are respondent r1, a 20-year-old Democrat.");
    expect(first.messages[0]!.content).toContain("Do you approve of the way Joe Biden is handling the job?");
    expect(first.answerSchema?.name).toBe("answer_approve");
    expect(first.subject).toMatchObject({ respondentId: "r1", generation: 1, wave: { id: "w1" } });
    expect(provider.requests.map((r) => r.seed).sort()).toEqual([...Array(12).fill(0), ...Array(12).fill(1)]);
  });

  it("asks for k generations in one call when the provider returns several choices", async () => {
    const study = makeStudy({ respondents: 3, study: { generations: 5 } });
    const provider = new FakeProvider({ capabilities: { multipleChoices: true } });
    const summary = await run(study, provider);
    expect(provider.requests).toHaveLength(9);
    expect(provider.requests.every((r) => r.n === 5)).toBe(true);
    expect(summary.totals.answered).toBe(45);
    expect(answers(summary).filter((r) => r.item === "economy" && r.respondent === "r1").map((r) => r.value)).toEqual([2, 3, 4, 5, 1]);
  });

  it("writes responses.csv and responses.parquet with one row per answer", async () => {
    const study = makeStudy({ respondents: 2 });
    const summary = await run(study, new FakeProvider());
    const csv = parseCsv(readFileSync(summary.exports.csv), { columns: true }) as Record<string, string>[];
    expect(csv).toHaveLength(6);
    expect(Object.keys(csv[0]!)).toEqual(["study", "model", "wave", "respondent", "item", "generation", "value", "status", "reason", "distribution", "non_option_mass"]);
    expect(csv[0]).toEqual({
      study: "test-study",
      model: "openai:fake-model",
      wave: "w1",
      respondent: "r1",
      item: "approve",
      generation: "1",
      value: "0",
      status: "answered",
      reason: "",
      distribution: "",
      non_option_mass: "",
    });
    const { parquetReadObjects } = await import("hyparquet");
    const bytes = readFileSync(summary.exports.parquet);
    const rows = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer });
    expect(rows).toHaveLength(6);
    expect(rows[2]).toEqual({ study: "test-study", model: "openai:fake-model", wave: "w1", respondent: "r1", item: "therm_dem", generation: 1, value: 50, status: "answered", reason: null, distribution: null, non_option_mass: null });
  });
});

describe("the store is the cache", () => {
  it("makes no call for cells already answered", async () => {
    const study = makeStudy({ respondents: 3 });
    const resultsDir = tempDir();
    await run(study, new FakeProvider(), { resultsDir });
    const again = new FakeProvider();
    const summary = await run(study, again, { resultsDir });
    expect(again.requests).toHaveLength(0);
    expect(summary).toMatchObject({ cells: 9, done: 9, pending: 0, status: "completed" });
  });

  it("answers from stored responses without calling when the answers are missing", async () => {
    const study = makeStudy({ respondents: 3 });
    const resultsDir = tempDir();
    const first = await run(study, new FakeProvider(), { resultsDir });
    const db = new DatabaseSync(join(first.storeDir, "store.sqlite"));
    db.exec("DELETE FROM answer_records"); // the rows behind the view `answers`
    db.close();
    const again = new FakeProvider();
    const summary = await run(study, again, { resultsDir });
    expect(again.requests).toHaveLength(0);
    expect(summary.totals).toMatchObject({ cacheHits: 9, answered: 9, callsSent: 0 });
    expect(answers(summary)).toEqual(answers(first));
  });

  it("asks again when the prompt changed, and exports only current answers", async () => {
    const base = makeStudy({ respondents: 2, study: { models: ["openai:a", "openai:b"] } });
    const resultsDir = tempDir();
    const a = new FakeProvider({ id: "openai:a" });
    const b = new FakeProvider({ id: "openai:b" });
    await run(base, [a, b], { resultsDir });
    const changed: StudyLike = { ...base, persona: { file: "p.hbs", render: (_p, _c, id) => `Respondent ${id}, new wording.` } };
    const a2 = new FakeProvider({ id: "openai:a" });
    const summary = await run(changed, [a2, b], { resultsDir, model: "openai:a" });
    expect(a2.requests).toHaveLength(6);
    expect(summary).toMatchObject({ cells: 6, done: 0, pending: 6 });
    expect(summary.exports).toMatchObject({ rows: 6, stale: 6 });
    // Changing back costs nothing: the old requests are still in the store.
    const a3 = new FakeProvider({ id: "openai:a" });
    const back = await run(base, [a3, b], { resultsDir, model: "openai:a" });
    expect(a3.requests).toHaveLength(0);
    expect(back.totals.cacheHits).toBe(6);
    expect(back.exports).toMatchObject({ rows: 12, stale: 0 });
  });
});

describe("invalid answers and refusals", () => {
  it("re-asks an invalid answer with a correction, then accepts a valid one", async () => {
    const study = makeStudy({ respondents: 1, items: [study1Likert] });
    const provider = new FakeProvider({
      respond: (request) => [{ text: request.messages.length === 1 ? '{"answer": 9}' : '{"answer": 2}', finishReason: "stop" }],
    });
    const summary = await run(study, provider);
    expect(provider.requests).toHaveLength(2);
    expect(provider.requests[1]!.messages).toEqual([
      provider.requests[0]!.messages[0],
      { role: "assistant", content: '{"answer": 9}' },
      {
        role: "user",
        content:
          'That answer could not be used (9 is not one of the codes 1, 2, 3). Reply with JSON of the form {"answer": <code>}, giving the code of one option (1, 2, 3).',
      },
    ]);
    expect(answers(summary)).toEqual([expect.objectContaining({ status: "answered", value: 2, attempts: 2 })]);
  });

  it("records nonresponse with the reason after max_attempts invalid answers", async () => {
    const study = makeStudy({ respondents: 2, items: [study1Likert], study: { max_attempts: 3 } });
    const provider = new FakeProvider({ respond: () => [{ text: "maybe", finishReason: "stop" }] });
    const summary = await run(study, provider);
    expect(provider.requests).toHaveLength(6);
    expect(answers(summary)).toEqual([
      expect.objectContaining({ respondent: "r1", status: "nonresponse", value: null, attempts: 3, transient: 0, reason: 'invalid after 3 attempts: no option code in the answer "maybe"' }),
      expect.objectContaining({ respondent: "r2", status: "nonresponse", attempts: 3 }),
    ]);
    // Final: a rerun does not ask again.
    const again = new FakeProvider();
    await run(study, again, { resultsDir: summary.storeDir.replace(/\/test-study$/, "") });
    expect(again.requests).toHaveLength(0);
  });

  it("re-asks only the invalid generations of a multi-choice call", async () => {
    const study = makeStudy({ respondents: 1, items: [study1Likert], study: { generations: 3 } });
    const provider = new FakeProvider({
      capabilities: { multipleChoices: true },
      respond: (request) =>
        request.n === 3
          ? [{ text: "1", finishReason: "stop" }, { text: "nine", finishReason: "stop" }, { text: "3", finishReason: "stop" }]
          : [{ text: "2", finishReason: "stop" }],
    });
    const summary = await run(study, provider);
    expect(provider.requests.map((r) => [r.n, r.messages.length, r.subject!.generation])).toEqual([
      [3, 1, 1],
      [1, 3, 2],
    ]);
    expect(answers(summary).map((r) => [r.generation, r.value, r.attempts])).toEqual([
      [1, 1, 1],
      [2, 2, 2],
      [3, 3, 1],
    ]);
  });

  it("records refusals as such, without re-asking", async () => {
    const study = makeStudy({ respondents: 1, items: [study1Likert] });
    const provider = new FakeProvider({ respond: () => [{ text: "", refusal: "I can't share political views.", finishReason: "stop" }] });
    const summary = await run(study, provider);
    expect(provider.requests).toHaveLength(1);
    expect(answers(summary)).toEqual([expect.objectContaining({ status: "refusal", reason: "refused: I can't share political views.", value: null })]);
    expect(summary.totals.refusals).toBe(1);
  });
});

describe("vendor failures", () => {
  it("honours retry-after before sending again, and stores the failed attempt", async () => {
    const study = makeStudy({ respondents: 1, items: [study1Likert] });
    const clock = new ManualClock();
    const sentAt: number[] = [];
    const provider = new FakeProvider({
      fail: (_r, call) => {
        sentAt.push(clock.now());
        return call === 0 ? new RateLimitError("openai", "429 Too Many Requests", { status: 429, retryable: true, retryAfterMs: 1_234 }) : undefined;
      },
    });
    const summary = await run(study, provider, { clock, random: () => 0.5 });
    expect(sentAt).toEqual([0, 1_234]);
    const db = storeOf(summary);
    expect(db.prepare("SELECT try, status, error_class, http_status FROM calls ORDER BY id").all()).toEqual([
      { try: 1, status: "failed", error_class: "RateLimitError", http_status: 429 },
      { try: 2, status: "completed", error_class: null, http_status: null },
    ]);
    db.close();
    expect(summary.totals).toMatchObject({ retries: 1, callsFailed: 1, callsSent: 2, answered: 1 });
  });

  it("records nonresponse after the tries run out, and asks again on the next run", async () => {
    const study = makeStudy({ respondents: 1, items: [study1Likert] });
    const resultsDir = tempDir();
    const failing = new FakeProvider({ fail: () => new ServerError("openai", "502 Bad Gateway", { status: 502, retryable: true }) });
    const clock = new ManualClock();
    const first = await run(study, failing, { resultsDir, clock, random: () => 0 });
    expect(failing.requests).toHaveLength(6);
    expect(clock.sleeps).toEqual([500, 1_000, 2_000, 4_000, 8_000]);
    expect(answers(first)).toEqual([
      expect.objectContaining({ status: "nonresponse", transient: 1, reason: "vendor failure: gave up after 6 tries; last ServerError: openai: 502 Bad Gateway" }),
    ]);
    const healthy = new FakeProvider();
    const second = await run(study, healthy, { resultsDir });
    expect(healthy.requests).toHaveLength(1);
    expect(second).toMatchObject({ done: 0, pending: 1 });
    expect(answers(second)).toEqual([expect.objectContaining({ status: "answered", transient: 0 })]);
  });

  it("stops the run on a bad key, keeps what was answered, and says why", async () => {
    const study = makeStudy({ respondents: 6, items: [study1Likert], study: { concurrency: 1 } });
    const provider = new FakeProvider({
      fail: (_r, call) => (call === 3 ? new AuthError("openai", "401 Incorrect API key provided", { status: 401, retryable: false }) : undefined),
    });
    const resultsDir = tempDir();
    await expect(run(study, provider, { resultsDir })).rejects.toThrow("openai: 401 Incorrect API key provided");
    expect(provider.requests).toHaveLength(4);
    const db = new DatabaseSync(join(resultsDir, "test-study", "store.sqlite"), { readOnly: true });
    expect(db.prepare("SELECT count(*) AS n FROM answers").get()).toEqual({ n: 3 });
    expect(db.prepare("SELECT status, message FROM runs").get()).toEqual({ status: "failed", message: "openai: 401 Incorrect API key provided" });
    db.close();
    expect(existsSync(join(resultsDir, "test-study", "responses.csv"))).toBe(true);
  });
});

describe("concurrency", () => {
  it("never has more requests in flight than the cap", async () => {
    const study = makeStudy({ respondents: 20, study: { concurrency: 5 } });
    const provider = new FakeProvider({ latencyMs: (call) => 1 + (call % 4) });
    await run(study, provider, { clock: undefined });
    expect(provider.requests).toHaveLength(60);
    expect(provider.maxInFlight).toBe(5);
  });

  it("backs off when the vendor throttles, and finishes", async () => {
    // A vendor that can serve 4 requests at once and answers 429 beyond that.
    const study = makeStudy({ respondents: 40, study: { concurrency: 32 } });
    let serving = 0;
    let throttled = 0;
    const provider = new FakeProvider({
      latencyMs: 3,
      fail: () => {
        if (serving >= 4) {
          throttled += 1;
          return new RateLimitError("openai", "429", { status: 429, retryable: true });
        }
        return undefined;
      },
      respond: async (request) => {
        serving += 1;
        await new Promise((resolve) => setTimeout(resolve, 3));
        serving -= 1;
        return [{ text: validAnswer(request), finishReason: "stop" }];
      },
    });
    const summary = await run(study, provider, { clock: undefined, retry: { baseDelayMs: 1, maxDelayMs: 5, maxTries: 50 } });
    expect(summary.totals.answered).toBe(120);
    // AIMD: after the first burst the limit falls towards what the vendor serves.
    expect(throttled).toBeGreaterThan(0);
    const late = provider.inFlightAtArrival.slice(-60).sort((x, y) => x - y);
    expect(late[30]).toBeLessThanOrEqual(8);
  });
});

describe("the cost cap", () => {
  it("is never exceeded at concurrency 32 with random latencies", async () => {
    const study = makeStudy({ respondents: 100, study: { concurrency: 32, max_tokens: 20 } });
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const provider = new FakeProvider({ latencyMs: () => Math.floor(random() * 8), inputTokens: () => 150, outputTokensPerChoice: 20 });
    // Each call costs 150 × $1 + 20 × $4 per Mtok = $0.00023 at most; 300 cells would cost $0.069.
    const summary = await run(study, provider, { clock: undefined, maxCostUsd: 0.02 });
    expect(summary.status).toBe("budget");
    const db = storeOf(summary);
    const { spent, n } = db.prepare("SELECT sum(cost_usd) AS spent, count(*) AS n FROM calls WHERE status = 'completed'").get() as { spent: number; n: number };
    const reservedMax = (db.prepare("SELECT max(reserved_usd) AS r FROM calls").get() as { r: number }).r;
    db.close();
    expect(spent).toBeLessThanOrEqual(0.02);
    expect(summary.totals.costUsd).toBeCloseTo(spent, 12);
    // It stops only when the next worst case no longer fits with nothing in flight.
    expect(spent + reservedMax).toBeGreaterThan(0.02);
    expect(n).toBe(provider.requests.length);
    expect(summary.message).toBe("stopped at the cost cap (--max-cost, $0.02 for this run): the next request could have crossed it");
  });

  it("takes the study's budget as the cap of a run, which --max-cost overrides", async () => {
    const study = makeStudy({ respondents: 10, study: { budget: { max_cost_usd: 0.2 } } });
    const dear = price(100, 100); // about $0.01 a call
    const first = await run(study, new FakeProvider(), { deps: fakeDeps(new FakeProvider(), dear) });
    expect(first.status).toBe("budget");
    expect(first.limitUsd).toBe(0.2);
    expect(first.totals.costUsd).toBeLessThanOrEqual(0.2);
    const db = storeOf(first);
    const { reserved } = db.prepare("SELECT max(reserved_usd) AS reserved FROM calls").get() as { reserved: number };
    db.close();
    expect(first.totals.costUsd + reserved).toBeGreaterThan(0.2);
    expect(first.message).toBe("stopped at the cost cap (the study's budget.max_cost_usd, $0.20 for this run): the next request could have crossed it");
    const second = await run(study, new FakeProvider(), { deps: fakeDeps(new FakeProvider(), dear), maxCostUsd: 10 });
    expect(second).toMatchObject({ status: "completed", limitUsd: 10 });
  });
});

describe("checks before any call", () => {
  it("accepts a --model that is not in the study, with a note saying so", async () => {
    const provider = new FakeProvider({ id: "openai:other" });
    const lines: string[] = [];
    const summary = await run(makeStudy({ respondents: 2 }), provider, { model: "openai:other", log: (line: string) => lines.push(line) });
    expect(summary).toMatchObject({ status: "completed", models: ["openai:other"] });
    expect(lines).toContain("note: --model openai:other is not among the study's models (openai:fake-model); generating for it anyway");
  });

  it("lets --model name any openai: model of a self-hosted server (OPENAI_BASE_URL), and exports its answers", async () => {
    const provider = new FakeProvider({ id: "openai:llama-3.1-8b" });
    const summary = await run(makeStudy({ respondents: 2 }), provider, { model: "openai:llama-3.1-8b", env: { OPENAI_BASE_URL: "http://127.0.0.1:9/v1" } });
    expect(summary).toMatchObject({ status: "completed", models: ["openai:llama-3.1-8b"] });
    expect(summary.exports).toMatchObject({ rows: 6, stale: 0 });
  });

  it("locates a provider error at the study's models field and creates nothing", async () => {
    const resultsDir = tempDir();
    const attempt = generate(makeStudy({ study: { models: ["simulated:x", "openai:nokey"] } }), {
      resultsDir,
      deps: {
        ...fakeDeps(new FakeProvider()),
        createProvider: (id) => {
          if (id === "openai:nokey") throw new AuthError("openai", "OPENAI_API_KEY is not set", { retryable: false });
          return new FakeProvider({ id });
        },
      },
    });
    await expect(attempt).rejects.toThrow('study.yaml: field "models[1]": openai: OPENAI_API_KEY is not set');
    expect(existsSync(join(resultsDir, "test-study"))).toBe(false);
  });

  it("refuses logprobs elicitation for a model without log-probabilities, naming the field, before anything is written", async () => {
    const resultsDir = tempDir();
    const attempt = run(makeStudy({ study: { elicitation: "logprobs" } }), new FakeProvider({ capabilities: { logprobs: false } }), { resultsDir });
    await expect(attempt).rejects.toThrow(
      'study.yaml: field "elicitation": logprobs elicitation reads the first token\'s log-probabilities, and openai:fake-model has none',
    );
    expect(existsSync(join(resultsDir, "test-study"))).toBe(false);
  });
});

describe("dry run", () => {
  it("prices the plan, calls nothing and writes nothing", async () => {
    const study = makeStudy({ respondents: 5, study: { generations: 2, max_tokens: 50 } });
    const provider = new FakeProvider();
    const resultsDir = tempDir();
    const summary = (await generate(study, { deps: fakeDeps(provider, TEST_PRICE), resultsDir, dryRun: true })) as DryRunSummary;
    expect(summary.kind).toBe("dry-run");
    expect(provider.requests).toHaveLength(0);
    expect(existsSync(join(resultsDir, "test-study"))).toBe(false);
    expect(summary).toMatchObject({ cells: 30, pending: 30, done: 0 });
    expect(summary.total.calls).toBe(30);
    expect(summary.total.outputTokens).toBe(30 * 8);
    expect(summary.total.costUsd).toBeCloseTo((summary.total.inputTokens * 1 + 240 * 4) / 1e6, 15);
    expect(summary.total.worstCaseUsd).toBeGreaterThan(summary.total.costUsd);
    // One call prompt is about 300-400 characters here: ~100 tokens each.
    expect(summary.total.inputTokens / 30).toBeGreaterThan(60);
    expect(summary.total.inputTokens / 30).toBeLessThan(200);
  });

  it("counts stored responses as free", async () => {
    const study = makeStudy({ respondents: 2 });
    const resultsDir = tempDir();
    const first = await run(study, new FakeProvider(), { resultsDir });
    const db = new DatabaseSync(join(first.storeDir, "store.sqlite"));
    db.exec("DELETE FROM answer_records WHERE item_id = (SELECT id FROM names WHERE name = 'economy')");
    db.close();
    const summary = (await generate(study, { deps: fakeDeps(new FakeProvider()), resultsDir, dryRun: true })) as DryRunSummary;
    expect(summary).toMatchObject({ cells: 6, done: 4, pending: 2 });
    expect(summary.total).toMatchObject({ calls: 0, cachedCalls: 2, costUsd: 0 });
  });
});

const study1Likert = {
  id: "trust",
  type: "likert",
  text: "I trust the news media.",
  options: [
    { code: 1, label: "Agree" },
    { code: 2, label: "Neither" },
    { code: 3, label: "Disagree" },
  ],
};
