/**
 * Engine overhead: CPU per 1,000 answered calls of `generate()` (planning,
 * cache lookups, scheduling, parsing, storing each call and answer, exports)
 * against an in-process provider that answers at once, so nothing but the
 * engine is measured. Baseline, same run: the same provider calls and answer
 * parsing with no engine around them. Target (later issues): under 1 s CPU per
 * 1,000 calls.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generate } from "../src/generation/run.ts";
import { parseAnswer } from "../src/generation/parse.ts";
import { fakeDeps, FakeProvider } from "../test/helpers/fake-provider.ts";
import { makeStudy } from "../test/helpers/study.ts";
import { cpuMs, type Report } from "./harness.ts";

const RESPONDENTS = 1000; // × 3 items = 3,000 calls

export default async function (report: Report): Promise<void> {
  const study = makeStudy({ respondents: RESPONDENTS, study: { concurrency: 32 } });
  const calls = RESPONDENTS * study.survey.items.length;

  const baselineProvider = new FakeProvider();
  const baseline = await cpuMs(async () => {
    for (let r = 0; r < RESPONDENTS; r++) {
      for (const item of study.survey.items) {
        const result = await baselineProvider.complete(
          {
            system: `You are respondent r${r}.`,
            messages: [{ role: "user", content: item.text }],
            maxTokens: 200,
            temperature: 1,
            n: 1,
            subject: { respondent: {}, respondentId: `r${r}`, item, wave: { id: "w1", context: {} }, generation: 1 },
          },
        );
        parseAnswer(item, result.choices[0]!);
      }
    }
  });

  const dir = mkdtempSync(join(tmpdir(), "silicon-bench-"));
  try {
    const fresh = await cpuMs(() => generate(study, { deps: fakeDeps(new FakeProvider()), resultsDir: dir }));
    const rerun = await cpuMs(() => generate(study, { deps: fakeDeps(new FakeProvider()), resultsDir: dir }));
    report({ name: "baseline: provider calls + parsing, CPU per 1,000 calls", value: (baseline / calls) * 1000, unit: "ms" });
    report({ name: "generate(): CPU per 1,000 answered calls (incl. store, export)", value: (fresh / calls) * 1000, unit: "ms", note: `${calls} calls` });
    report({ name: "generate() / baseline", value: fresh / baseline, unit: "×" });
    report({
      name: "rerun with every cell stored: CPU per 1,000 cells",
      value: (rerun / calls) * 1000,
      unit: "ms",
      note: "renders, plans, finds every cell stored, exports",
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
