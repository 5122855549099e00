/**
 * Questionnaire elicitation: a respondent's items in one conversation per
 * generation, each answer parsed and stored per item, re-asks inside the
 * conversation, and a resumed conversation replayed from the store.
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { AuthError, ServerError } from "../../src/errors.ts";
import { generate, type DryRunSummary, type GenerateOptions, type RunSummary } from "../../src/generation/run.ts";
import type { CompletionRequest } from "../../src/providers/types.ts";
import { ManualClock } from "../helpers/clock.ts";
import { fakeDeps, FakeProvider, validAnswer } from "../helpers/fake-provider.ts";
import { makeStudy } from "../helpers/study.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir();

async function run(provider: FakeProvider, options: Partial<GenerateOptions> & { respondents?: number; generations?: number } = {}): Promise<RunSummary> {
  const study = makeStudy({ respondents: options.respondents ?? 2, study: { elicitation: "questionnaire", generations: options.generations ?? 1 } });
  const summary = await generate(study, { deps: fakeDeps(provider), resultsDir: options.resultsDir ?? tempDir(), clock: new ManualClock(), retry: { maxTries: 2 }, ...options });
  if (summary.kind !== "run") throw new Error("expected a run");
  return summary;
}

function answers(summary: RunSummary): Record<string, unknown>[] {
  const db = new DatabaseSync(join(summary.storeDir, "store.sqlite"), { readOnly: true });
  try {
    return db.prepare("SELECT respondent, item, generation, value, status, reason, attempts, transient FROM answers ORDER BY respondent, generation, item").all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

const itemOf = (request: CompletionRequest) => request.subject!.item.id;

describe("a questionnaire", () => {
  it("asks each respondent's items in one conversation per generation, with earlier answers as assistant turns", async () => {
    const provider = new FakeProvider();
    const summary = await run(provider, { respondents: 2, generations: 2 });
    expect(summary.totals).toMatchObject({ answered: 12, callsSent: 12, nonresponse: 0 });
    expect(summary.cells).toBe(12);
    const conversation = provider.requests.filter((r) => r.subject!.respondentId === "r1" && r.subject!.generation === 2);
    expect(conversation.map(itemOf)).toEqual(["approve", "economy", "therm_dem"]);
    const last = conversation[2]!;
    expect(last.messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant", "user"]);
    expect(last.messages[1]!.content).toBe(validAnswer(conversation[0]!));
    expect(last.messages[3]!.content).toBe(validAnswer(conversation[1]!));
    expect(last.messages[4]!.content).toContain("How warm do you feel toward Democrats?");
    // Each turn is constrained by its own item's schema; the conversation is a cache prefix.
    expect(last.answerSchema?.name).toBe("answer_therm_dem");
    expect(conversation.every((r) => r.n === 1 && r.cacheMessages === true && r.cacheSystemPrompt === true && r.seed === 1)).toBe(true);
    expect(answers(summary).filter((r) => r.respondent === "r1" && r.generation === 2).map((r) => [r.item, r.value])).toEqual([
      ["approve", 1],
      ["economy", 3],
      ["therm_dem", 50],
    ]);
  });

  it("re-asks an invalid answer inside the conversation, which then goes on after the correction", async () => {
    let bad = true;
    const provider = new FakeProvider({
      respond: (request) => {
        if (itemOf(request) === "economy" && request.subject!.respondentId === "r1" && bad) {
          bad = false;
          return [{ text: "Somewhat", finishReason: "stop" }];
        }
        return [{ text: validAnswer(request), finishReason: "stop" }];
      },
    });
    const summary = await run(provider, { respondents: 1 });
    expect(summary.totals).toMatchObject({ answered: 3, callsSent: 4 });
    const last = provider.requests.at(-1)!;
    expect(itemOf(last)).toBe("therm_dem");
    expect(last.messages.map((m) => m.content.slice(0, 40))).toEqual([
      expect.stringContaining("Answer as yourself."),
      validAnswer(provider.requests[0]!),
      expect.stringContaining("Answer as yourself."),
      "Somewhat",
      expect.stringContaining("That answer could not be used"),
      validAnswer(provider.requests[2]!),
      expect.stringContaining("Answer as yourself."),
    ]);
    expect(answers(summary).find((r) => r.item === "economy")).toMatchObject({ status: "answered", attempts: 2 });
  });

  it("resumes a conversation where it stopped, replaying the answered turns from the store", async () => {
    const resultsDir = tempDir();
    const failing = new FakeProvider({
      fail: (request) => (itemOf(request) === "therm_dem" && request.subject!.respondentId === "r2" ? new AuthError("openai:fake-model", "key revoked", { retryable: false }) : undefined),
    });
    await expect(run(failing, { resultsDir })).rejects.toThrow("key revoked");
    const sentBefore = failing.requests.filter((r) => r.subject!.respondentId === "r2").map(itemOf);
    expect(sentBefore).toEqual(["approve", "economy", "therm_dem"]);

    const provider = new FakeProvider();
    const summary = await run(provider, { resultsDir });
    // Only r2's last question is asked: its first two turns come from the store, unchanged.
    expect(provider.requests.map((r) => [r.subject!.respondentId, itemOf(r)])).toEqual([["r2", "therm_dem"]]);
    expect(summary.totals).toMatchObject({ answered: 1, cacheHits: 2 });
    expect(provider.requests[0]!.messages.slice(0, 4)).toEqual(failing.requests.filter((r) => r.subject!.respondentId === "r2")[2]!.messages.slice(0, 4));
    expect(answers(summary)).toHaveLength(6);
  });

  it("records the rest of a conversation as nonresponse when the vendor keeps failing, and asks it again next time", async () => {
    const resultsDir = tempDir();
    const flaky = new FakeProvider({
      fail: (request) => (itemOf(request) === "economy" ? new ServerError("openai:fake-model", "HTTP 500", { retryable: true }) : undefined),
    });
    const first = await run(flaky, { respondents: 1, resultsDir });
    expect(answers(first).map((r) => [r.item, r.status, r.transient])).toEqual([
      ["approve", "answered", 0],
      ["economy", "nonresponse", 1],
      ["therm_dem", "nonresponse", 1],
    ]);
    expect(answers(first).find((r) => r.item === "therm_dem")!.reason).toBe("vendor failure on an earlier question of the questionnaire");
    const second = await run(new FakeProvider(), { respondents: 1, resultsDir });
    expect(second.totals).toMatchObject({ answered: 2, cacheHits: 1, callsSent: 2 });
  });

  it("prices every turn with the conversation before it in a dry run", async () => {
    const study = makeStudy({ respondents: 2, study: { elicitation: "questionnaire" } });
    const structured = makeStudy({ respondents: 2 });
    const dry = (await generate(study, { deps: fakeDeps(new FakeProvider()), resultsDir: tempDir(), dryRun: true })) as DryRunSummary;
    const perItem = (await generate(structured, { deps: fakeDeps(new FakeProvider()), resultsDir: tempDir(), dryRun: true })) as DryRunSummary;
    expect(dry.total.calls).toBe(6);
    expect(perItem.total.calls).toBe(6);
    // Turn t carries the questions and answers before it: more input than asking each item alone.
    expect(dry.total.inputTokens).toBeGreaterThan(perItem.total.inputTokens);
    expect(dry.mode).toBe("questionnaire");
  });
});
