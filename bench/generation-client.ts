/**
 * One side of the generation bench, in a process of its own so that its CPU
 * time and peak memory are its own: `engine` runs silicon's `generate()` on a
 * study against the fake vendor; `sdk` makes the same calls with the openai
 * SDK directly (the same request bodies, byte for byte: the same persona,
 * question prompt, schema and seed; the same concurrency; each answer
 * parsed), as a researcher's own script would. Prints one line
 * of JSON: CPU milliseconds of the calls, peak RSS of the process, calls made.
 *
 *   node bench/generation-client.ts engine|sdk <vendor url> <respondents> <results dir>
 */
import OpenAI from "openai";
import { buildItemPrompt } from "../src/generation/prompt.ts";
import { generate, type RunSummary } from "../src/generation/run.ts";
import type { StudyLike } from "../src/generation/types.ts";
import { makeStudy } from "../test/helpers/study.ts";

const [side, baseURL, respondentsText, resultsDir] = process.argv.slice(2) as [string, string, string, string];
const respondents = Number(respondentsText);
const CONCURRENCY = 8;

/** The question renderer of the hand-built study (its texts use {{president}}). */
const render = (item: { text: string }, context: Record<string, unknown>) => item.text.replace(/\{\{(\w+)\}\}/g, (_m, key: string) => String(context[key]));

const study = makeStudy({ respondents, study: { concurrency: CONCURRENCY } });
const calls = respondents * study.survey.items.length;

async function viaEngine(): Promise<{ cpuMs: number; calls: number; rerunCpuMs: number }> {
  const options = { resultsDir, env: { OPENAI_BASE_URL: baseURL }, deps: { renderQuestion: render } };
  const start = process.cpuUsage();
  const summary = (await generate(study, options)) as RunSummary;
  const fresh = process.cpuUsage(start);
  const again = process.cpuUsage();
  await generate(study, options);
  const rerun = process.cpuUsage(again);
  return { cpuMs: (fresh.user + fresh.system) / 1000, calls: summary.totals.callsSent, rerunCpuMs: (rerun.user + rerun.system) / 1000 };
}

async function viaSdk(): Promise<{ cpuMs: number; calls: number }> {
  const start = process.cpuUsage();
  await direct(study);
  const used = process.cpuUsage(start);
  return { cpuMs: (used.user + used.system) / 1000, calls };
}

/** The same calls with the openai SDK alone, CONCURRENCY at a time, each answer parsed. */
async function direct(study: StudyLike): Promise<void> {
  const client = new OpenAI({ apiKey: "unused", baseURL, maxRetries: 0 });
  const { frame, wave } = study.waves[0]!;
  const items = study.survey.items;
  // Each question's prompt written once, as a script would (silicon's own wording, so the bodies match).
  const prompts = items.map((item) => buildItemPrompt(study.survey, item, render(item, wave.context), "structured"));
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= calls) return;
      const r = Math.floor(i / items.length) % frame.size;
      const { user, schema } = prompts[i % items.length]!;
      const completion = await client.chat.completions.create({
        model: "fake-model",
        messages: [
          { role: "system", content: study.persona.render(frame.profile(r), wave.context, frame.ids[r]!) },
          { role: "user", content: user },
        ],
        max_tokens: study.study.max_tokens,
        temperature: study.study.temperature,
        seed: study.study.seed,
        response_format: { type: "json_schema", json_schema: { name: schema!.name, schema: schema!.schema, strict: true } },
      });
      JSON.parse(completion.choices[0]!.message.content ?? "null");
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

const result = side === "engine" ? await viaEngine() : await viaSdk();
process.stdout.write(JSON.stringify({ ...result, maxRssKb: process.resourceUsage().maxRSS }) + "\n");
