import { describe, expect, it } from "vitest";
import { InputError, UsageError } from "../../src/errors.ts";
import { DEFAULT_PRICES, PRICES_CHECKED, costUsd, priceFor } from "../../src/providers/prices.ts";

const STUDY = { file: "studies/pilot.yaml", field: "models" };

describe("priceFor", () => {
  it("reads the default table", () => {
    expect(priceFor("anthropic:claude-opus-5-5", {}, { env: {} })).toEqual({
      input: 4,
      output: 20,
      cached_input: 0.2,
      cache_write: 5,
      batch_factor: 0.5,
      source: "table",
    });
    expect(priceFor("openai:gpt-6-luna", {}, { env: {} })).toEqual({
      input: 0.1,
      output: 0.5,
      cached_input: 0.01,
      cache_write: 0.125,
      batch_factor: 0.5,
      source: "table",
    });
    expect(priceFor("anthropic:claude-haiku-5-5", {}, { env: {} }).note).toMatch(/prompts up to 100,000 tokens/);
  });

  it("prices a dated snapshot as its model", () => {
    expect(priceFor("anthropic:claude-sonnet-4-5-20250929", {}, { env: {} })).toMatchObject({ input: 3, output: 15, cached_input: 0.3, cache_write: 3.75 });
    expect(priceFor("openai:gpt-4o-mini-2024-07-18", {}, { env: {} })).toMatchObject({ input: 0.15, output: 0.6, cached_input: 0.075 });
  });

  it("takes the study's override, filling the cache rates from the input rate", () => {
    const overrides = { "openai:gpt-9": { input: 3, output: 12 }, "openai:gpt-6-luna": { input: 1, output: 2, cached_input: 0.5, cache_write: 0, batch_factor: 1 } };
    expect(priceFor("openai:gpt-9", overrides, { env: {} })).toEqual({
      input: 3,
      output: 12,
      cached_input: 0.30000000000000004,
      cache_write: 3.75,
      batch_factor: 0.5,
      source: "study",
    });
    expect(priceFor("openai:gpt-6-luna", overrides, { env: {} })).toEqual({
      input: 1,
      output: 2,
      cached_input: 0.5,
      cache_write: 0,
      batch_factor: 1,
      source: "study",
    });
  });

  it("prices a self-hosted endpoint at 0 and says so", () => {
    const price = priceFor("openai:llama3.1:8b", {}, { env: { OPENAI_BASE_URL: "http://localhost:11434/v1" } });
    expect(price).toEqual({
      input: 0,
      output: 0,
      cached_input: 0,
      cache_write: 0,
      batch_factor: 1,
      source: "self-hosted",
      note: "openai:llama3.1:8b at http://localhost:11434/v1 is priced at 0 (custom base URL); add a price under prices: in the study to count costs",
    });
    // …unless the study prices it
    expect(priceFor("openai:llama3.1:8b", { "openai:llama3.1:8b": { input: 0.05, output: 0.05 } }, { baseURL: "http://gpu01:8000/v1", env: {} }).source).toBe("study");
    // api.openai.com given explicitly is still OpenAI's own price
    expect(priceFor("openai:gpt-6-sol", {}, { env: { OPENAI_BASE_URL: "https://api.openai.com/v1" } }).source).toBe("table");
  });

  it("simulated models cost nothing", () => {
    expect(priceFor("simulated:biased", {}, { env: {} })).toMatchObject({ input: 0, output: 0, source: "simulated" });
  });

  it("an unknown model on the vendor's endpoint is an error naming the study field, with a suggestion", () => {
    expect(() => priceFor("openai:gpt-6-lunar", {}, { env: {}, location: STUDY })).toThrow(InputError);
    expect(() => priceFor("openai:gpt-6-lunar", {}, { env: {}, location: STUDY })).toThrow(
      'studies/pilot.yaml: field "models": no known price for openai:gpt-6-lunar (did you mean openai:gpt-6-luna?); ' +
        'if the model name is right, add its price under prices: in the study, e.g. prices: { "openai:gpt-6-lunar": { input: 1.0, output: 4.0 } } ' +
        `(USD per million tokens; table checked ${PRICES_CHECKED})`,
    );
    expect(() => priceFor("anthropic:claude-fable-5-2", {}, { env: {} })).toThrow(UsageError);
    expect(() => priceFor("anthropic:claude-fable-5-2", {}, { env: {} })).toThrow(/no known price for anthropic:claude-fable-5-2 \(did you mean anthropic:claude-fable-5-1/);
  });

  it("every table row is internally consistent", () => {
    for (const [id, price] of Object.entries(DEFAULT_PRICES)) {
      expect(id).toMatch(/^(anthropic|openai):[a-z0-9.-]+$/);
      expect(price.cached_input, id).toBeLessThan(price.input);
      expect(price.output, id).toBeGreaterThan(price.input);
      expect(price.batch_factor, id).toBe(0.5);
      if (id.startsWith("anthropic:")) expect(price.cache_write, id).toBeCloseTo(price.input * 1.25, 12);
      // A cache write is never cheaper than input: tokens reported as cache writes leave uncached input.
      expect(price.cache_write, id).toBeGreaterThanOrEqual(price.input);
    }
  });

  it("prices cache-write tokens as input for OpenAI models without a separate cache-write price", () => {
    for (const id of ["openai:gpt-5", "openai:gpt-4.1", "openai:gpt-4o", "openai:gpt-4o-mini"]) {
      const price = priceFor(id, {}, { env: {} });
      expect(price.cache_write, id).toBe(price.input);
      const usage = { inputTokens: 2000, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 1500 };
      expect(costUsd(usage, price), id).toBeCloseTo(costUsd({ ...usage, cacheWriteTokens: 0 }, price), 15);
    }
  });
});

describe("costUsd", () => {
  it("bills uncached, cached, cache-write and output tokens at their rates", () => {
    // test/fixtures/providers/openai/chat-structured.json at gpt-6-luna:
    // (2006 - 1920) × 0.10 + 1920 × 0.01 + 7 × 0.50 = 8.6 + 19.2 + 3.5 = 31.3 per million
    const usage = { inputTokens: 2006, outputTokens: 7, cachedInputTokens: 1920, cacheWriteTokens: 0 };
    const luna = priceFor("openai:gpt-6-luna", {}, { env: {} });
    expect(costUsd(usage, luna)).toBeCloseTo(31.3e-6, 15);
    expect(costUsd(usage, luna, { batch: true })).toBeCloseTo(15.65e-6, 15);
    // anthropic/message-thinking.json at claude-opus-5-5:
    // 15 × 4 + 1900 × 5 + 141 × 20 = 60 + 9500 + 2820 = 12380 per million
    const thinking = { inputTokens: 1915, outputTokens: 141, cachedInputTokens: 0, cacheWriteTokens: 1900 };
    expect(costUsd(thinking, priceFor("anthropic:claude-opus-5-5", {}, { env: {} }))).toBeCloseTo(0.01238, 12);
  });

  it("is 0 for free models", () => {
    const usage = { inputTokens: 500, outputTokens: 20, cachedInputTokens: 0, cacheWriteTokens: 0 };
    expect(costUsd(usage, priceFor("simulated:faithful", {}, { env: {} }))).toBe(0);
  });
});
