/**
 * Inputs and the simulator:
 * - the simulated provider's CPU cost per call (250 respondents × 4
 *   generations, one call each), against JSON round trips of the same
 *   requests (the least any provider must do with a request);
 * - loading an ANES-sized study (3 waves × 8,000 respondents: schema checks,
 *   frame validation, every persona pre-rendered), against parsing the same
 *   CSV frames alone.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadStudy, loadSurvey } from "../src/config/load.ts";
import { createSimulatedProvider } from "../src/providers/simulated.ts";
import type { CompletionRequest } from "../src/providers/types.ts";
import { generatePopulationFrames } from "../src/simulation/frames.ts";
import { readTable } from "../src/tables/read.ts";
import { cpuMs, timeMs, type Report } from "./harness.ts";

export default async function (report: Report): Promise<void> {
  const survey = loadSurvey("surveys/example-survey.yaml");
  const wave = { id: "w2024", context: { president: "Joe Biden", president_party: "Democrat" } };
  // 250 respondents of a simulated frame × 4 generations each, as the engine asks for them.
  const { table } = generatePopulationFrames({ seed: 9, items: [], waves: [{ id: "w", size: 250, role: "target", context: {} }] }).waves[0]!;
  const profiles = Array.from({ length: table.numRows }, (_, r) => Object.fromEntries(table.columnNames.map((c) => [c, table.columns[c]![r]!])));
  const schema = { name: "answer", schema: { type: "object", properties: { answer: { type: "integer", minimum: 0, maximum: 100 } }, required: ["answer"] } };
  const signal = new AbortController().signal;
  const calls = 1000;

  for (const itemId of ["therm_democrats", "approve", "top_issue"]) {
    const item = survey.items.find((i) => i.id === itemId)!;
    const requests: CompletionRequest[] = Array.from({ length: calls }, (_, g) => ({
      system: "You are a 66-year-old man living in the South of the United States.".repeat(4),
      messages: [{ role: "user", content: item.text }],
      maxTokens: 50, temperature: 1, seed: 1, n: 1, answerSchema: schema,
      subject: { respondent: profiles[g % 250]!, respondentId: String(profiles[g % 250]!.id), item, wave, generation: 1 + Math.floor(g / 250) },
    }));
    const provider = createSimulatedProvider("biased");
    // Warm up the JIT on another wave, so that no measured call finds its distribution cached.
    for (const request of requests.slice(0, 200)) {
      await provider.complete({ ...request, subject: { ...request.subject!, wave: { id: "warm-up", context: wave.context } } }, { signal });
    }
    const simulated = await cpuMs(async () => {
      for (const request of requests) await provider.complete(request, { signal });
    });
    const baseline = await cpuMs(async () => {
      for (const request of requests) JSON.parse(JSON.stringify(request));
    });
    report({ name: `simulated:biased, ${item.type} (${itemId}): CPU per 1,000 calls`, value: simulated, unit: "ms" });
    report({ name: `  ratio to 1,000 JSON round trips of the request`, value: simulated / baseline, unit: "x" });
  }

  const dir = mkdtempSync(join(tmpdir(), "silicon-bench-"));
  try {
    const frames = generatePopulationFrames({
      seed: 1,
      items: survey.items,
      waves: ["a", "b", "c"].map((id, i) => ({ id, size: 8000, role: i < 2 ? ("historical" as const) : ("target" as const), context: wave.context })),
    });
    await frames.write(dir, "csv");
    writeFileSync(join(dir, "survey.yaml"), `id: s\nitems:\n${survey.items.map((i) => `  - ${JSON.stringify(i)}`).join("\n")}\n`);
    writeFileSync(join(dir, "persona.hbs"), "You are {{article age}}-year-old {{lowercase gender}} from the {{region}}, {{article party}}; {{race}}; {{lowercase education}}. Interviewed about {{president}}.");
    writeFileSync(
      join(dir, "study.yaml"),
      `name: bench\nsurvey: survey.yaml\npersona: persona.hbs\nmodels: [simulated:biased]\nwaves:\n${["a", "b", "c"]
        .map((id, i) => `  - { id: ${id}, frame: ${id}.csv, role: ${i < 2 ? "historical" : "target"}, context: { president: Joe Biden, president_party: Democrat } }`)
        .join("\n")}\n`,
    );
    const load = await timeMs(() => loadStudy(join(dir, "study.yaml")), 3);
    const parse = await timeMs(() => Promise.all(["a", "b", "c"].map((id) => readTable(join(dir, `${id}.csv`)))), 3);
    report({ name: "loadStudy, 3 waves × 8,000 respondents (CSV): wall time", value: load, unit: "ms" });
    report({ name: "  ratio to parsing the three CSV frames alone", value: load / parse, unit: "x" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
