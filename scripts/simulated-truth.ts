/**
 * Prints the known truth of a study run with simulated models: for every
 * simulated model, wave, item and subgroup, the expected weighted mean of the
 * real answers (population), of the model's answers, and the gap between
 * them. CSV on stdout.
 *
 *   node scripts/simulated-truth.ts surveys/example-study.yaml --by party
 *   node scripts/simulated-truth.ts surveys/example-study.yaml --by party+region --model simulated:polarized
 */
import { parseArgs } from "node:util";
import { csvText } from "../src/util/csv-text.ts";
import { loadStudy } from "../src/config/load.ts";
import { expectedTaskMeans } from "../src/simulation/truth.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { by: { type: "string" }, model: { type: "string" }, wave: { type: "string" } },
});
if (positionals.length !== 1) {
  console.error("usage: node scripts/simulated-truth.ts <study.yaml> [--by col[+col]] [--model simulated:NAME] [--wave ID]");
  process.exit(2);
}
const study = await loadStudy(positionals[0]!);
const models = (values.model !== undefined ? [values.model] : study.study.models).filter((m) => m.startsWith("simulated:"));
const rows: (string | number)[][] = [];
for (const model of models) {
  for (const { wave, frame } of study.waves) {
    if (values.wave !== undefined && wave.id !== values.wave) continue;
    const truth = expectedTaskMeans({ model: model.slice("simulated:".length), frame, wave, items: study.survey.items, ...(values.by ? { by: values.by } : {}) });
    for (const t of truth) {
      rows.push([model, t.wave, t.item, t.option ?? "", t.group, t.n, t.population.toFixed(4), t.silicon.toFixed(4), t.gap.toFixed(4)]);
    }
  }
}
process.stdout.write(csvText(["model", "wave", "item", "option", "group", "n", "population", "silicon", "gap"], rows));
