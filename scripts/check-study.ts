/**
 * Checks a study without calling any model, and shows what the models will
 * see: loads the study, survey, persona and every frame (all the checks
 * `silicon generate` makes before its first call), prints a summary, and
 * renders the persona and questions for one respondent. Then the pre-flight
 * check `run` makes: the historical tasks each kind will have per model and
 * whether calibration at the study's α is feasible with them (exit 2 when not,
 * with the remedies), and subgroups with fewer than 30 respondents in a wave.
 *
 *   node scripts/check-study.ts surveys/example-study.yaml
 *   node scripts/check-study.ts surveys/example-study.yaml --wave w2022 --respondent P00004
 *
 * Exit status 2 with a one-line message on bad input, like the CLI.
 */
import { parseArgs } from "node:util";
import { reportError } from "../src/cli/main.ts";
import { loadStudy } from "../src/config/load.ts";
import { UsageError } from "../src/errors.ts";
import { renderQuestion } from "../src/personas/render.ts";
import { checkBeforeGenerating } from "../src/cli/preflight-text.ts";

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { wave: { type: "string" }, respondent: { type: "string" }, debug: { type: "boolean" } },
  });
  if (positionals.length !== 1) throw new UsageError("usage: node scripts/check-study.ts <study.yaml> [--wave ID] [--respondent ID]");
  const loaded = await loadStudy(positionals[0]!);
  const { study, survey, persona } = loaded;
  console.log(`study ${study.name}: ${study.models.join(", ")}; ${study.generations} generation(s) per respondent and item`);
  console.log(`survey ${loaded.surveyFile}: ${survey.items.length} items (${survey.items.map((i) => `${i.id}: ${i.type}`).join(", ")})`);
  console.log(`persona ${persona.file}: uses ${persona.fields.join(", ")}`);
  for (const { wave, frame } of loaded.waves) {
    const total = frame.weights.reduce((a, b) => a + b, 0);
    const answered = survey.items.filter((item) => frame.answers(item).some((v) => !Number.isNaN(v))).length;
    console.log(
      `wave ${wave.id} (${wave.role}): ${frame.source}, ${frame.size} respondents, weights sum to ${total.toFixed(1)}, real answers for ${answered} of ${survey.items.length} items`,
    );
  }
  const chosen = values.wave === undefined ? loaded.waves[0]! : loaded.waves.find((w) => w.wave.id === values.wave);
  if (chosen === undefined) throw new UsageError(`--wave: no wave "${values.wave}" in ${loaded.file}`);
  const index = values.respondent === undefined ? 0 : chosen.frame.ids.indexOf(values.respondent);
  if (index < 0) throw new UsageError(`--respondent: no respondent "${values.respondent}" in ${chosen.frame.source}`);
  const id = chosen.frame.ids[index]!;
  console.log(`\n--- persona of respondent ${id}, wave ${chosen.wave.id} ---`);
  console.log(persona.render(chosen.frame.profile(index), chosen.wave.context, id));
  console.log(`\n--- questions in wave ${chosen.wave.id} ---`);
  for (const item of survey.items) console.log(`[${item.id}] ${renderQuestion(item, chosen.wave.context, loaded.surveyFile)}`);
  checkBeforeGenerating(loaded, { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) }, { print: true });
}

try {
  await main();
} catch (error) {
  process.exitCode = reportError(error, process.argv.includes("--debug"));
}
