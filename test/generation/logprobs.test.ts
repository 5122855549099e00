/**
 * logprobs elicitation: one token, the option's code, and the answer
 * distribution read from the first token's top alternatives.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parse as parseCsv } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { loadStudy } from "../../src/config/load.ts";
import { Survey } from "../../src/config/schema.ts";
import { parseLogprobs } from "../../src/generation/parse.ts";
import { answerKeys, buildItemPrompt, itemModeOf } from "../../src/generation/prompt.ts";
import { generate, type RunSummary } from "../../src/generation/run.ts";
import { parseSimulatedModel } from "../../src/simulation/models.ts";
import { siliconDistribution } from "../../src/simulation/respondent.ts";
import { writeStudy } from "../helpers/cli.ts";
import { ManualClock } from "../helpers/clock.ts";
import { fakeDeps, FakeProvider, TEST_PRICE } from "../helpers/fake-provider.ts";
import { makeStudy } from "../helpers/study.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir();

const survey = Survey.parse({
  id: "s",
  items: [
    { id: "approve", type: "binary", text: "Approve?" },
    { id: "trust", type: "likert", text: "Trust?", options: [{ code: 1, label: "Low" }, { code: 2, label: "Mid" }, { code: 3, label: "High" }] },
    { id: "income", type: "single_choice", text: "Income?", options: [{ code: -1, label: "Refuse" }, { code: 10, label: "Low" }, { code: 20, label: "High" }] },
    { id: "therm", type: "thermometer", text: "Warmth?" },
  ],
});
const [approve, trust, income, therm] = survey.items as [any, any, any, any];

const lp = (entries: [string, number][]) => ({ text: entries[0]![0], finishReason: "length", topLogprobs: entries.map(([token, p]) => ({ token, logprob: Math.log(p) })) });

describe("answer keys and the prompt", () => {
  it("uses digit codes as they are, renumbers others 1..k, and cannot ask a scale for one token", () => {
    expect(answerKeys(approve)).toEqual([{ key: "1", code: 1 }, { key: "0", code: 0 }]);
    expect(answerKeys(income)).toEqual([{ key: "1", code: -1 }, { key: "2", code: 10 }, { key: "3", code: 20 }]);
    expect(answerKeys(therm)).toBeUndefined();
    expect(itemModeOf("logprobs", therm)).toBe("structured");
    expect(itemModeOf("logprobs", trust)).toBe("logprobs");
    expect(itemModeOf("questionnaire", trust)).toBe("structured");
  });

  it("shows the keys and asks for the code alone, with no schema", () => {
    const prompt = buildItemPrompt(survey, income, "Income?", "logprobs");
    expect(prompt.user).toBe("Income?\n\n1 = Refuse\n2 = Low\n3 = High\n\nReply with the code of one option (1, 2, 3) only.");
    expect(prompt.schema).toBeUndefined();
    expect(prompt.answerKeys).toHaveLength(3);
  });
});

describe("parseLogprobs", () => {
  it("renormalises over the option tokens, adds up tokens naming the same option, and reports the rest", () => {
    const keys = answerKeys(trust)!;
    const outcome = parseLogprobs(trust, lp([["2", 0.5], [" 2", 0.1], ["3", 0.2], ["I", 0.15], ["\n", 0.05]]), keys, 1);
    expect(outcome.status).toBe("answered");
    if (outcome.status !== "answered") return;
    expect(outcome.distribution!.probabilities).toEqual({ "1": 0, "2": expect.closeTo(0.75, 12), "3": expect.closeTo(0.25, 12) });
    expect(outcome.distribution!.nonOptionMass).toBeCloseTo(0.2, 12);
    expect(outcome.value).toBeCloseTo(2 * 0.75 + 3 * 0.25, 12);
  });

  it("maps renumbered keys back to the item's codes and tolerates tokenizer word marks", () => {
    const outcome = parseLogprobs(income, lp([["Ġ3", 0.6], ["▁1", 0.4]]), answerKeys(income)!, 1);
    expect(outcome).toMatchObject({ status: "answered", distribution: { probabilities: { "-1": expect.closeTo(0.4, 12), "10": 0, "20": expect.closeTo(0.6, 12) } } });
    if (outcome.status === "answered") expect(outcome.value).toBeCloseTo(-0.4 + 12, 12);
  });

  it("tempers the distribution as sampling at the study's temperature would", () => {
    const keys = answerKeys(approve)!;
    const half = parseLogprobs(approve, lp([["1", 0.6], ["0", 0.2]]), keys, 0.5);
    // p ∝ (0.75, 0.25)^2 = (0.5625, 0.0625) → (0.9, 0.1)
    expect(half).toMatchObject({ status: "answered", distribution: { probabilities: { "1": expect.closeTo(0.9, 12), "0": expect.closeTo(0.1, 12) } } });
    const greedy = parseLogprobs(approve, lp([["1", 0.6], ["0", 0.2]]), keys, 0);
    expect(greedy).toMatchObject({ status: "answered", value: 1, distribution: { probabilities: { "1": 1, "0": 0 } } });
  });

  it("is invalid when no likely token is an option, and a refusal when the vendor says so", () => {
    expect(parseLogprobs(approve, lp([["I", 0.7], ["As", 0.2]]), answerKeys(approve)!, 1)).toEqual({
      status: "invalid",
      reason: 'no option code among the likely first tokens ("I", "As")',
    });
    expect(parseLogprobs(approve, { text: "", finishReason: "stop", refusal: "no" }, answerKeys(approve)!, 1).status).toBe("refusal");
  });
});

describe("a logprobs run", () => {
  function answersOf(summary: RunSummary): Record<string, unknown>[] {
    const db = new DatabaseSync(join(summary.storeDir, "store.sqlite"), { readOnly: true });
    try {
      return db.prepare("SELECT respondent, item, generation, value, distribution, non_option_mass, status FROM answers ORDER BY respondent, item, generation").all() as Record<string, unknown>[];
    } finally {
      db.close();
    }
  }

  it("asks each choice item once for one token, stores the distribution, and asks scales as structured k times", async () => {
    const provider = new FakeProvider({
      capabilities: { logprobs: true, multipleChoices: true },
      respond: (request) =>
        request.topLogprobs !== undefined
          ? [{ text: "1", finishReason: "length", topLogprobs: [{ token: "1", logprob: Math.log(0.6) }, { token: "0", logprob: Math.log(0.3) }, { token: "2", logprob: Math.log(0.05) }, { token: "Yes", logprob: Math.log(0.05) }] }]
          : Array.from({ length: request.n }, () => ({ text: '{"answer": 40}', finishReason: "stop" })),
    });
    const lines: string[] = [];
    const summary = (await generate(makeStudy({ respondents: 2, study: { elicitation: "logprobs", generations: 3 } }), {
      deps: fakeDeps(provider),
      resultsDir: tempDir(),
      clock: new ManualClock(),
      log: (line) => lines.push(line),
    })) as RunSummary;
    expect(lines).toContain("note: logprobs elicitation: therm_dem cannot be answered with one token (a scale, or more than ten options); asked as structured instead, 3 generation(s) each");
    // 2 respondents × (approve + economy once, therm with n = 3 in one call)
    expect(provider.requests).toHaveLength(6);
    const approveRequest = provider.requests.find((r) => r.subject!.item.id === "approve")!;
    expect(approveRequest).toMatchObject({ maxTokens: 1, topLogprobs: 20, n: 1 });
    expect(approveRequest.answerSchema).toBeUndefined();
    expect(summary.cells).toBe(2 * (1 + 1 + 3));
    const rows = answersOf(summary);
    const first = rows.find((r) => r.respondent === "r1" && r.item === "approve")!;
    expect(JSON.parse(first.distribution as string)).toEqual({ "1": expect.closeTo(2 / 3, 12), "0": expect.closeTo(1 / 3, 12) });
    expect(first.value).toBeCloseTo(2 / 3, 12);
    expect(first.non_option_mass).toBeCloseTo(0.1, 12);
    // The Likert item's options 1..5: only "1" and "2" were likely.
    const economy = rows.find((r) => r.respondent === "r1" && r.item === "economy")!;
    expect(JSON.parse(economy.distribution as string)).toEqual({ "1": expect.closeTo(0.6 / 0.65, 12), "2": expect.closeTo(0.05 / 0.65, 12), "3": 0, "4": 0, "5": 0 });
    expect(rows.filter((r) => r.item === "therm_dem").map((r) => [r.generation, r.value, r.distribution])).toEqual([
      [1, 40, null], [2, 40, null], [3, 40, null], [1, 40, null], [2, 40, null], [3, 40, null],
    ]);
    expect(summary.distributions).toEqual({ answers: 4, meanNonOptionMass: expect.closeTo((0.1 + 0.35) / 2, 12), maxNonOptionMass: expect.closeTo(0.35, 12) });
    expect(summary.exports.rows).toBe(10);
    const exported = (parseCsv(readFileSync(summary.exports.csv), { columns: true }) as Record<string, string>[]).find(
      (r) => r.respondent === "r1" && r.item === "approve",
    )!;
    expect(exported).toMatchObject({ generation: "1", status: "answered", distribution: first.distribution });
    expect(Number(exported.value)).toBeCloseTo(2 / 3, 12);
    expect(Number(exported.non_option_mass)).toBeCloseTo(0.1, 12);
  });

  it("stops with a clear error when the server returns no log-probabilities", async () => {
    const provider = new FakeProvider({ capabilities: { logprobs: true }, respond: () => [{ text: "1", finishReason: "length" }] });
    const attempt = generate(makeStudy({ respondents: 1, items: [{ id: "approve", type: "binary", text: "Approve?" }], study: { elicitation: "logprobs" } }), {
      deps: fakeDeps(provider),
      resultsDir: tempDir(),
      clock: new ManualClock(),
    });
    await expect(attempt).rejects.toThrow("asked for first-token log-probabilities (top_logprobs) and got none");
  });

  it("records what such a response cost: it was billed", async () => {
    const provider = new FakeProvider({ capabilities: { logprobs: true }, inputTokens: () => 100, outputTokensPerChoice: 1, respond: () => [{ text: "1", finishReason: "length" }] });
    const resultsDir = tempDir();
    await expect(
      generate(makeStudy({ respondents: 1, items: [{ id: "approve", type: "binary", text: "Approve?" }], study: { elicitation: "logprobs" } }), {
        deps: fakeDeps(provider, TEST_PRICE),
        resultsDir,
        clock: new ManualClock(),
      }),
    ).rejects.toThrow("got none");
    const db = new DatabaseSync(join(resultsDir, "test-study", "store.sqlite"), { readOnly: true });
    try {
      // 100 input tokens at $1 and 1 output token at $4 per million.
      const expected = (100 * 1 + 1 * 4) / 1e6;
      expect(db.prepare("SELECT status, cost_usd FROM calls").all()).toEqual([{ status: "failed", cost_usd: expect.closeTo(expected, 15) }]);
      expect((db.prepare("SELECT cost_usd FROM runs").get() as { cost_usd: number }).cost_usd).toBeCloseTo(expected, 15);
    } finally {
      db.close();
    }
  });

  it("is refused for an Anthropic model at load, naming the study file, line and field, before anything is written", async () => {
    const dir = tempDir();
    const file = writeStudy(dir, { models: ["anthropic:claude-haiku-5-5"], extra: "elicitation: logprobs" });
    const study = await loadStudy(file);
    const attempt = generate(study, { resultsDir: join(dir, "results"), env: { ANTHROPIC_API_KEY: "sk-ant-test-key-123456" } });
    await expect(attempt).rejects.toThrow(
      `${file}: line 13, field "elicitation": logprobs elicitation reads the first token's log-probabilities, and anthropic:claude-haiku-5-5 has none (the Messages API returns no log-probabilities); use structured, free_text or questionnaire, or leave this model out (--model)`,
    );
    expect(existsSync(join(dir, "results"))).toBe(false);
  });

  it("reads the simulated model's exact distribution", async () => {
    const dir = tempDir();
    const study = await loadStudy(writeStudy(dir, { respondents: 3, models: ["simulated:biased"], extra: "elicitation: logprobs" }));
    const summary = (await generate(study, { resultsDir: join(dir, "results") })) as RunSummary;
    expect(summary.totals).toMatchObject({ nonresponse: 0 });
    const rows = answersOf(summary).filter((r) => r.item === "economy");
    expect(rows).toHaveLength(3);
    const model = parseSimulatedModel("biased");
    const item = study.survey.items.find((i) => i.id === "economy")!;
    const { wave, frame } = study.waves[0]!;
    rows.forEach((row, r) => {
      const exact = siliconDistribution(model, item, frame.profile(r), { id: wave.id, context: wave.context });
      if (exact.kind !== "discrete") throw new Error("expected a discrete distribution");
      const stored = JSON.parse(row.distribution as string) as Record<string, number>;
      exact.values.forEach((code, k) => expect(stored[String(code)]).toBeCloseTo(exact.probs[k]!, 10));
      expect(row.non_option_mass).toBeCloseTo(0, 10);
    });
  });
});
