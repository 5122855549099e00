/**
 * The registry: ids, keys and base URLs from the given environment, and the
 * one-line errors the engine shows before any call.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { InputError, UsageError } from "../../src/errors.ts";
import { DEFAULT_TIMEOUT_MS, VENDORS, createProvider, parseModelId } from "../../src/providers/index.ts";
import type { Provider } from "../../src/providers/types.ts";
import { type SentRequest, fixture, isolateNetwork, vendorScope } from "../helpers/vendor-replay.ts";

// The simulated provider belongs to the `inputs` branch; a stand-in keeps
// this test independent of it.
const simulated = vi.hoisted(() => ({
  createSimulatedProvider: (model: string): Provider => ({
    vendor: "simulated",
    model,
    id: `simulated:${model}`,
    capabilities: { multipleChoices: true, answerSchema: true, logprobs: true, promptCaching: false },
    complete: () => Promise.reject(new Error("stand-in")),
  }),
}));
vi.mock("../../src/providers/simulated.ts", () => simulated);

const STUDY = { file: "studies/pilot.yaml", field: "models" };

isolateNetwork({ beforeEach, afterEach });
afterEach(() => {
  vi.unstubAllEnvs();
});

describe("parseModelId", () => {
  it("splits at the first colon", () => {
    expect(parseModelId("anthropic:claude-haiku-5-5")).toEqual({ vendor: "anthropic", model: "claude-haiku-5-5" });
    expect(parseModelId("openai:llama3.1:8b")).toEqual({ vendor: "openai", model: "llama3.1:8b" });
    expect(parseModelId("simulated:biased")).toEqual({ vendor: "simulated", model: "biased" });
  });

  it.each(["gpt-6-luna", ":gpt", "openai:", "openai: gpt", ""])("rejects %j", (id) => {
    expect(() => parseModelId(id, STUDY)).toThrow(InputError);
    expect(() => parseModelId(id, STUDY)).toThrow(
      `studies/pilot.yaml: field "models": expected vendor:model (e.g. openai:gpt-6-luna or anthropic:claude-haiku-5-5), got ${JSON.stringify(id)}`,
    );
  });

  it("names the known vendors for an unknown one", () => {
    expect(() => parseModelId("gemini:pro", STUDY)).toThrow(
      'studies/pilot.yaml: field "models": unknown provider "gemini" in "gemini:pro"; known providers: anthropic, openai, simulated',
    );
    expect(VENDORS).toEqual(["anthropic", "openai", "simulated"]);
  });

  it("without a location the error is a usage error (exit 2 all the same)", () => {
    let error: unknown;
    try {
      parseModelId("gemini:pro");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
  });
});

describe("createProvider", () => {
  it("builds each vendor's provider without sending anything", () => {
    const fetch = vi.fn<typeof globalThis.fetch>();
    const anthropic = createProvider("anthropic:claude-haiku-5-5", { env: { ANTHROPIC_API_KEY: "sk-ant-x" }, fetch });
    expect(anthropic).toMatchObject({ vendor: "anthropic", model: "claude-haiku-5-5", id: "anthropic:claude-haiku-5-5" });
    expect(anthropic.capabilities).toEqual({ multipleChoices: false, answerSchema: true, logprobs: false, promptCaching: true, temperature: false });
    const openai = createProvider("openai:gpt-6-luna", { env: { OPENAI_API_KEY: "sk-x" }, fetch });
    expect(openai).toMatchObject({ vendor: "openai", model: "gpt-6-luna", id: "openai:gpt-6-luna" });
    expect(openai.capabilities).toEqual({ multipleChoices: true, answerSchema: true, logprobs: true, promptCaching: false, temperature: true });
    expect(fetch).not.toHaveBeenCalled();
    expect(DEFAULT_TIMEOUT_MS).toBe(60_000);
  });

  it("hands simulated:<name> to the simulated provider", () => {
    expect(createProvider("simulated:polarized", { env: {} })).toMatchObject({ vendor: "simulated", id: "simulated:polarized" });
  });

  it("a missing key names the environment variable, the study file and the field", () => {
    expect(() => createProvider("anthropic:claude-haiku-5-5", { env: {}, location: STUDY })).toThrow(
      'studies/pilot.yaml: field "models": anthropic:claude-haiku-5-5 needs an API key: set the environment variable ANTHROPIC_API_KEY',
    );
    expect(() => createProvider("openai:gpt-6-luna", { env: { OPENAI_API_KEY: "  " }, location: STUDY })).toThrow(
      'studies/pilot.yaml: field "models": openai:gpt-6-luna needs an API key: set the environment variable OPENAI_API_KEY ' +
        "(or OPENAI_BASE_URL to an OpenAI-compatible server that needs none)",
    );
  });

  it("reads keys only from the environment it is given", () => {
    vi.stubEnv("ANTHROPIC_API_KEY", "sk-ant-from-process-env");
    expect(() => createProvider("anthropic:claude-haiku-5-5", { env: {} })).toThrow(/needs an API key/);
    expect(createProvider("anthropic:claude-haiku-5-5").vendor).toBe("anthropic");
  });

  it("talks to ANTHROPIC_BASE_URL when it is set", async () => {
    const sent: SentRequest[] = [];
    vendorScope("https://gateway.example.org", sent).post("/anthropic/v1/messages").reply(200, fixture("anthropic", "message-structured"));
    const provider = createProvider("anthropic:claude-sonnet-5-5", {
      env: { ANTHROPIC_API_KEY: "sk-ant-x", ANTHROPIC_BASE_URL: "https://gateway.example.org/anthropic" },
    });
    const result = await provider.complete(
      { system: "s", messages: [{ role: "user", content: "q" }], maxTokens: 10, temperature: 1, n: 1 },
      { signal: new AbortController().signal },
    );
    expect(result.choices[0]!.text).toBe('{"answer":4}');
    expect(sent).toHaveLength(1);
  });

  it("an OpenAI-compatible server at OPENAI_BASE_URL needs no key", async () => {
    const sent: SentRequest[] = [];
    vendorScope("http://localhost:11434", sent).post("/v1/chat/completions").reply(200, fixture("openai", "vllm-chat"));
    const provider = createProvider("openai:llama3.1:8b", { env: { OPENAI_BASE_URL: "http://localhost:11434/v1" } });
    expect(provider.capabilities.multipleChoices).toBe(false);
    await provider.complete(
      { system: "s", messages: [{ role: "user", content: "q" }], maxTokens: 10, temperature: 0.8, n: 1 },
      { signal: new AbortController().signal },
    );
    expect(sent[0]!.body).toMatchObject({ model: "llama3.1:8b", max_tokens: 10, temperature: 0.8 });
    expect(sent[0]!.headers["authorization"]).toBeUndefined();
  });

  it("an explicit baseURL wins over the environment", async () => {
    const sent: SentRequest[] = [];
    vendorScope("http://127.0.0.1:8000", sent).post("/v1/chat/completions").reply(200, fixture("openai", "vllm-chat"));
    const provider = createProvider("openai:m", {
      env: { OPENAI_BASE_URL: "http://localhost:11434/v1" },
      baseURL: "http://127.0.0.1:8000/v1",
    });
    await provider.complete(
      { system: "s", messages: [{ role: "user", content: "q" }], maxTokens: 10, temperature: 1, n: 1 },
      { signal: new AbortController().signal },
    );
    expect(sent).toHaveLength(1);
  });

  it("rejects a base URL that is not a URL, bad overrides and a bad timeout", () => {
    expect(() => createProvider("openai:m", { env: { OPENAI_BASE_URL: "localhost 11434" } })).toThrow(
      new UsageError("OPENAI_BASE_URL is not a valid URL"),
    );
    expect(() => createProvider("openai:m", { env: { OPENAI_API_KEY: "k", SILICON_OPENAI_LOGPROBS: "sometimes" } })).toThrow(
      /SILICON_OPENAI_LOGPROBS: expected true or false/,
    );
    expect(() => createProvider("openai:m", { env: { OPENAI_API_KEY: "k" }, timeoutMs: 0 })).toThrow(UsageError);
  });

  it("refuses a timeout Node's timers cannot hold (2^31 ms or more would fire at once)", () => {
    const env = { OPENAI_API_KEY: "k" };
    expect(() => createProvider("openai:m", { env, timeoutMs: 2 ** 31 })).toThrow(/request timeout must be from 1 to 2147483647 milliseconds/);
    expect(() => createProvider("anthropic:m", { env: { ANTHROPIC_API_KEY: "k" }, timeoutMs: 3_000_000_000 })).toThrow(UsageError);
    expect(createProvider("openai:m", { env, timeoutMs: 2 ** 31 - 1 }).id).toBe("openai:m");
  });

  it("refuses a base URL with credentials in it, without printing them; nothing is sent", () => {
    for (const [id, variable] of [["openai:m", "OPENAI_BASE_URL"], ["anthropic:m", "ANTHROPIC_BASE_URL"]] as const) {
      const env = { OPENAI_API_KEY: "k", ANTHROPIC_API_KEY: "k", [variable]: "http://alice:pw-s3cret-1234@127.0.0.1:9/v1" };
      let message = "";
      try {
        createProvider(id, { env });
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        message = (error as Error).message;
      }
      expect(message).toBe(
        `${variable} http://[redacted]@127.0.0.1:9/v1 holds a user name or password: silicon never sends credentials in a URL; remove them and put the key in ${variable.replace("BASE_URL", "API_KEY")}`,
      );
    }
    expect(() => createProvider("openai:m", { env: { OPENAI_API_KEY: "k" }, baseURL: "https://token@gpu1/v1" })).toThrow(/^base URL https:\/\/\[redacted\]@gpu1\/v1 holds/);
  });
});
