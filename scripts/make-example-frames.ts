/**
 * Regenerates the example study's frames (surveys/example-frames/*.csv) with
 * silicon's own simulator: 300 respondents per wave, a Pew-like panel with
 * three waves (two historical with real answers, one target without).
 *
 *   node scripts/make-example-frames.ts
 *
 * Deterministic: the same seed writes byte-identical files.
 */
import { fileURLToPath } from "node:url";
import { dirname, join, relative } from "node:path";
import { loadStudy, loadSurvey } from "../src/config/load.ts";
import { Study } from "../src/config/schema.ts";
import { readYamlFile, validateYaml } from "../src/config/yaml.ts";
import { generatePopulationFrames } from "../src/simulation/frames.ts";

const SEED = 2024;
const RESPONDENTS_PER_WAVE = 300;

const root = fileURLToPath(new URL("..", import.meta.url));
const studyFile = join(root, "surveys/example-study.yaml");
// Waves and their contexts come from the study itself, so the two cannot drift apart.
const study = validateYaml(readYamlFile(studyFile), Study, "a study");
const survey = loadSurvey(join(dirname(studyFile), study.survey));

const frames = generatePopulationFrames({
  seed: SEED,
  items: survey.items,
  design: "panel",
  waves: study.waves.map((wave) => ({ id: wave.id, size: RESPONDENTS_PER_WAVE, role: wave.role, context: wave.context })),
});
const frameDir = dirname(join(dirname(studyFile), study.waves[0]!.frame));
const paths = await frames.write(frameDir, "csv");
for (const path of paths) console.log(`wrote ${relative(process.cwd(), path)}`);

// The frames must load under the example study exactly as a user's would.
const loaded = await loadStudy(studyFile);
console.log(`checked ${relative(process.cwd(), loaded.file)}: ${loaded.waves.map((w) => `${w.wave.id} (${w.frame.size} respondents, ${w.wave.role})`).join(", ")}`);
