import { describe, expect, it } from "vitest";
import type { SurveyItem } from "../../src/config/schema.ts";
import { Budget, estimateInputTokens, FRAMING_TOKENS, FRAMING_TOKENS_PER_MESSAGE, worstCaseCost, worstCaseInputTokens } from "../../src/generation/cost.ts";
import { answerSchema } from "../../src/generation/prompt.ts";
import type { AnswerSchema } from "../../src/providers/types.ts";

describe("token estimates", () => {
  it("estimates four characters per token plus framing", () => {
    expect(estimateInputTokens("a".repeat(400), [{ role: "user", content: "b".repeat(200) }])).toBe(150 + 8);
  });

  it("bounds input tokens by UTF-8 bytes plus framing, above the estimate", () => {
    const system = "Ünïcödé persona ".repeat(20);
    const messages = [{ role: "user" as const, content: "Question?" }];
    const bound = worstCaseInputTokens(system, messages);
    expect(bound).toBe(Buffer.byteLength(system) + 9 + 600 + 16);
    expect(bound).toBeGreaterThan(estimateInputTokens(system, messages));
  });

  it("prices the worst case at the dearest input rate", () => {
    expect(worstCaseCost(1_000_000, 1_000_000, { input: 3, output: 15, cached_input: 0.3, cache_write: 3.75, batch_factor: 0.5, source: "table" })).toBeCloseTo(18.75, 12);
  });
});

describe("Budget", () => {
  it("reserves only what fits under the cap and settles to the actual cost", () => {
    const budget = new Budget(1);
    const a = budget.tryReserve(0.6)!;
    expect(budget.tryReserve(0.5)).toBeUndefined(); // 0.6 + 0.5 > 1
    const b = budget.tryReserve(0.4)!;
    expect(budget.reservedUsd).toBeCloseTo(1, 12);
    budget.settle(a, 0.1);
    expect(budget.spentUsd).toBeCloseTo(0.1, 12);
    expect(budget.tryReserve(0.5)).toBeDefined(); // 0.1 + 0.4 + 0.5 = 1
    budget.settle(b, 0.4);
    expect(budget.spentUsd).toBeCloseTo(0.5, 12);
  });

  it("waits for reservations in flight before declaring the cap reached", async () => {
    const budget = new Budget(1);
    const a = budget.tryReserve(0.7)!;
    const waiting = budget.reserve(0.5);
    budget.settle(a, 0.2); // frees 0.5 of the 0.7
    const b = await waiting;
    expect(b).toEqual({ amountUsd: 0.5 });
    budget.settle(b!, 0.5);
    // 0.7 spent, nothing in flight: 0.4 can never fit.
    expect(await budget.reserve(0.4)).toBeUndefined();
    expect(await budget.reserve(0.3)).toEqual({ amountUsd: 0.3 });
  });

  it("has no cap by default", () => {
    expect(new Budget().tryReserve(1e9)).toBeDefined();
  });
});

describe("request size with an answer schema", () => {
  const messages = [{ role: "user" as const, content: "Wie geht's? \u00e9" }];
  /** The sizes computed the slow way, as before they were kept per frozen schema. */
  const slow = (schema: AnswerSchema) => ({
    estimate: Math.ceil(("persona".length + messages[0]!.content.length + JSON.stringify(schema.schema).length) / 4) + 8,
    worst: Buffer.byteLength("persona") + Buffer.byteLength(messages[0]!.content) + Buffer.byteLength(JSON.stringify(schema)) + FRAMING_TOKENS + 2 * FRAMING_TOKENS_PER_MESSAGE,
  });

  it("counts a frozen schema (as prompt.ts makes them) as computed the slow way, every time", () => {
    const schema = answerSchema({ id: "q\u00e9", type: "binary", text: "Yes?", options: [{ code: 1, label: "Oui \u00e9" }, { code: 0, label: "Non" }] } as SurveyItem);
    for (let i = 0; i < 2; i++) {
      expect(estimateInputTokens("persona", messages, schema)).toBe(slow(schema).estimate);
      expect(worstCaseInputTokens("persona", messages, schema)).toBe(slow(schema).worst);
    }
  });

  it("follows a schema that is not frozen when it changes", () => {
    const schema: AnswerSchema = { name: "answer", schema: { type: "object", description: "short" } };
    expect(worstCaseInputTokens("persona", messages, schema)).toBe(slow(schema).worst);
    schema.schema["description"] = "much longer than before \u00e9\u00e9\u00e9";
    expect(worstCaseInputTokens("persona", messages, schema)).toBe(slow(schema).worst);
    expect(estimateInputTokens("persona", messages, schema)).toBe(slow(schema).estimate);
  });
});
