/**
 * Scale and cost (issue 5), against the fake OpenAI-compatible vendor in a
 * process of its own on loopback (bench/fake-vendor-server.ts):
 *
 * 1. Throughput under a vendor's rate limit: 600 requests a minute (10 per
 *    1-second sliding window) enforced with 429 + retry-after, 100 ms
 *    latency; 300 calls through `generate()`. Reported: achieved requests per
 *    second over the limit's 10, the 429s the vendor sent, and requests that
 *    arrived before a retry-after had elapsed (must be 0). Once relying on the
 *    vendor's headers and 429s alone, once with the study's rate_limits set
 *    to the same 600/min.
 * 2. Tokens per answered item for each elicitation mode on the example survey
 *    (one wave, 100 respondents, 7 items, k = 4), counted with the o200k
 *    tokenizer (gpt-tokenizer): chat framing of 3 tokens per message + 3, the
 *    answer schema's JSON for structured turns (OpenAI does not document how
 *    it counts response_format; this approximates it).
 *
 * CPU and memory per call against the openai SDK called directly are
 * measured by bench/generation.bench.ts. Estimands over 1,000,000 synthetic answers × 50 subgroups (seconds, peak
 * memory) are measured by bench/estimate.bench.ts.
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import { loadStudy } from "../src/config/load.ts";
import { generate, type RunSummary } from "../src/generation/run.ts";
import { RateLimitError } from "../src/errors.ts";
import { createProvider } from "../src/providers/index.ts";
import { createSimulatedProvider } from "../src/providers/simulated.ts";
import type { CompletionRequest, Provider } from "../src/providers/types.ts";
import type { StudyLike } from "../src/generation/types.ts";
import { makeStudy } from "../test/helpers/study.ts";
import type { FakeVendorOptions } from "../test/helpers/fake-vendor.ts";
import type { Report } from "./harness.ts";

interface Server {
  url: string;
  stats(): Promise<{ received: number; billed: number; retryAfters: number; earlyRequests: number }>;
  stop(): void;
}

async function startServer(options: FakeVendorOptions): Promise<Server> {
  const child: ChildProcess = fork(fileURLToPath(new URL("./fake-vendor-server.ts", import.meta.url)), [JSON.stringify(options)], { stdio: "inherit" });
  const url = await new Promise<string>((resolve) => child.once("message", (m) => resolve((m as { url: string }).url)));
  return {
    url,
    stats: () =>
      new Promise((resolve) => {
        child.once("message", (m) => resolve((m as { stats: Awaited<ReturnType<Server["stats"]>> }).stats));
        child.send("stats");
      }),
    stop: () => child.disconnect(),
  };
}

function tempResults(): string {
  return mkdtempSync(join(tmpdir(), "silicon-bench-scale-"));
}

async function throughput(report: Report, label: string, studyLimits: boolean): Promise<void> {
  const server = await startServer({ latencyMs: 100, requestsPerMinute: 10, windowMs: 1000, seed: 7 });
  const dir = tempResults();
  const watch = new RetryAfterWatch();
  try {
    const study = makeStudy({
      respondents: 100,
      study: { concurrency: 16, ...(studyLimits ? { rate_limits: { requests_per_minute: 600 } } : {}) },
    });
    const start = performance.now();
    const summary = (await generate(study, {
      resultsDir: dir,
      env: { OPENAI_BASE_URL: server.url },
      deps: { renderQuestion: testRender, createProvider: (id, options) => watch.wrap(createProvider(id, { ...options, fetch: stamping })) },
    })) as RunSummary;
    const seconds = (performance.now() - start) / 1000;
    const stats = await server.stats();
    const perSecond = summary.totals.answered / seconds;
    report({ name: `throughput ${label}: achieved / limit (10 req/s)`, value: perSecond / 10, unit: "×", note: `${summary.totals.answered} answered in ${seconds.toFixed(1)} s, ${summary.totals.nonresponse} nonresponse` });
    report({ name: `throughput ${label}: 429s sent by the vendor`, value: stats.retryAfters, unit: "", note: `${watch.seen} received by the engine` });
    report({
      name: `throughput ${label}: sends after a 429, before its retry-after`,
      value: watch.early,
      unit: "",
      note: `must be 0; the vendor saw ${stats.earlyRequests} arrive within one (sent before the 429 reached the client)`,
      mustBeZero: true,
    });
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Watches the engine's sends: every 429 it gets back opens a window of its
 * retry-after; a send (a call of the provider) inside an open window is one
 * that did not honour it. The window opens in the microtask just before the
 * engine's own reaction to the 429: sends that were already queued to run
 * before the engine could read it are not counted.
 */
class RetryAfterWatch {
  seen = 0;
  early = 0;
  private readonly windows: [number, number][] = [];

  wrap(provider: Provider): Provider {
    return {
      ...provider,
      complete: async (request, options) => {
        const sentAt = performance.now();
        if (this.windows.some(([from, until]) => sentAt > from && sentAt < until)) this.early += 1;
        try {
          return await provider.complete(request, options);
        } catch (error) {
          if (error instanceof RateLimitError && error.retryAfterMs !== undefined) {
            this.seen += 1;
            const now = performance.now();
            const retryAfterMs = error.retryAfterMs;
            // Opens as the engine hears of it: the reactions already queued (sends on their way) run first.
            queueMicrotask(() => this.windows.push([now, now + retryAfterMs]));
          }
          throw error;
        }
      },
    };
  }
}

/** fetch that stamps each request with the moment it left (x-sent-at), for the vendor's retry-after check. */
const stamping: typeof fetch = (input, init) => {
  const headers = new Headers(init?.headers);
  headers.set("x-sent-at", String(Date.now()));
  return fetch(input, { ...init, headers });
};

/** The question renderer of the hand-built study (its texts use {{president}}). */
const testRender = (item: { text: string }, context: Record<string, unknown>) => item.text.replace(/\{\{(\w+)\}\}/g, (_m, key: string) => String(context[key]));

/** The simulated model answering, with usage counted by the o200k tokenizer as OpenAI bills chat requests. */
function tokenCounting(): Provider {
  const simulated = createSimulatedProvider("biased");
  return {
    ...simulated,
    id: "openai:token-counter",
    vendor: "openai",
    capabilities: { multipleChoices: true, answerSchema: true, logprobs: true, promptCaching: false },
    async complete(request: CompletionRequest, options) {
      const result = await simulated.complete(request, options);
      const framing = 3 * (request.messages.length + 1) + 3;
      const schema = request.answerSchema === undefined ? 0 : countTokens(JSON.stringify(request.answerSchema.schema));
      const input = countTokens(request.system) + request.messages.reduce((n, m) => n + countTokens(m.content), 0) + framing + schema;
      // logprobs mode sends max_tokens 1: one token out, whatever the simulator's text.
      const output = result.choices.reduce((n, c) => n + (request.maxTokens === 1 ? 1 : countTokens(c.text)), 0);
      return { ...result, usage: { inputTokens: input, outputTokens: output, cachedInputTokens: 0, cacheWriteTokens: 0 } };
    },
  };
}

async function tokensPerMode(report: Report): Promise<void> {
  const example = await loadStudy(fileURLToPath(new URL("../surveys/example-study.yaml", import.meta.url)));
  const { wave, frame } = example.waves.find((w) => w.wave.role === "target")!;
  const respondents = 100;
  const items = example.survey.items.length;
  for (const mode of ["free_text", "structured", "logprobs", "questionnaire"] as const) {
    const study: StudyLike = {
      ...example,
      // No client-side rate limits: nothing is sent anywhere.
      study: { ...example.study, elicitation: mode, models: ["openai:token-counter"], prices: {}, rate_limits: {} },
      waves: [{ wave, frame: { ...frame, size: respondents } }],
    };
    const dir = tempResults();
    try {
      const provider = tokenCounting();
      const summary = (await generate(study, {
        resultsDir: dir,
        deps: { createProvider: () => provider, priceFor: () => ({ input: 0, output: 0, cached_input: 0, cache_write: 0, batch_factor: 1, source: "study" }) },
      })) as RunSummary;
      const asked = respondents * items;
      const t = summary.totals;
      report({
        name: `tokens per respondent-item, ${mode}: input + output`,
        value: (t.inputTokens + t.outputTokens) / asked,
        unit: "tokens",
        note: `input ${(t.inputTokens / asked).toFixed(1)}, output ${(t.outputTokens / asked).toFixed(1)}; ${t.callsSent} calls for ${asked} respondent-items (k = ${example.study.generations})`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

export default async function (report: Report): Promise<void> {
  await throughput(report, "(vendor headers and 429s only)", false);
  await throughput(report, "(study rate_limits 600/min)", true);
  await tokensPerMode(report);
}
