/**
 * A dry run works without API keys: the real providers are built with a
 * stand-in key, nothing reaches the network, and the user is told which key
 * a real run needs.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dryRunEnv, STAND_IN_KEY } from "../../src/generation/dry-run-keys.ts";
import { generate, type DryRunSummary } from "../../src/generation/run.ts";
import { makeStudy } from "../helpers/study.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir();

describe("dryRunEnv", () => {
  it("stands in for a missing key and names the variable a real run needs", () => {
    const notes: string[] = [];
    const env = dryRunEnv({}, "anthropic:claude-haiku-4-5", {}, (line) => notes.push(line));
    expect(env.ANTHROPIC_API_KEY).toBe(STAND_IN_KEY);
    expect(notes).toEqual(["note: ANTHROPIC_API_KEY is not set: this dry run sends nothing, but generating for anthropic:claude-haiku-4-5 will need it"]);
  });

  it("leaves a key that is set alone, and says nothing", () => {
    const notes: string[] = [];
    const env = { OPENAI_API_KEY: "test-key-not-real" };
    expect(dryRunEnv(env, "openai:gpt-4o-mini", {}, (line) => notes.push(line))).toBe(env);
    expect(notes).toEqual([]);
  });

  it("a self-hosted OpenAI-compatible server may need no key: stand-in, no note", () => {
    const notes: string[] = [];
    const env = dryRunEnv({ OPENAI_BASE_URL: "http://localhost:8000/v1" }, "openai:llama", {}, (line) => notes.push(line));
    expect(env.OPENAI_API_KEY).toBe(STAND_IN_KEY);
    expect(notes).toEqual([]);
  });

  it("names an endpoint's own key variable", () => {
    const notes: string[] = [];
    dryRunEnv({}, "openai:gpt-4o-mini", { keyVariable: "TEAM_B_KEY" }, (line) => notes.push(line));
    expect(notes[0]).toMatch(/^note: TEAM_B_KEY is not set/);
  });

  it("simulated models need no key", () => {
    const env = {};
    expect(dryRunEnv(env, "simulated:biased", {}, () => undefined)).toBe(env);
  });
});

describe("generate --dry-run without keys", () => {
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it("plans and prices both vendors' models with the real providers, sending and writing nothing", async () => {
    const study = makeStudy({ respondents: 3, study: { models: ["openai:gpt-4o-mini", "anthropic:claude-haiku-4-5"] } });
    const resultsDir = tempDir();
    const notes: string[] = [];
    const summary = (await generate(study, { env: {}, resultsDir, dryRun: true, log: (line) => notes.push(line) })) as DryRunSummary;
    expect(summary.kind).toBe("dry-run");
    expect(summary.total.calls).toBeGreaterThan(0);
    expect(summary.total.costUsd).toBeGreaterThan(0);
    expect(notes.filter((n) => n.includes("is not set"))).toHaveLength(2);
    expect(existsSync(join(resultsDir, "test-study"))).toBe(false);
  });

  it("a real run without a key still refuses with the one-line error", async () => {
    const study = makeStudy({ respondents: 1, study: { models: ["anthropic:claude-haiku-4-5"] } });
    await expect(generate(study, { env: {}, resultsDir: tempDir() })).rejects.toThrow(/needs an API key: set the environment variable ANTHROPIC_API_KEY/);
  });
});
