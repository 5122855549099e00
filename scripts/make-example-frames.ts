/**
 * Regenerates the example study's frames (surveys/example-frames/*.csv) with
 * silicon's own simulator: a Pew-like panel, 300 respondents per wave, the
 * waves and contexts of surveys/example-study.yaml (two historical waves with
 * real answers, one target wave without).
 *
 *   node scripts/make-example-frames.ts
 *
 * Deterministic: the same seed writes byte-identical files (a test checks
 * that the committed frames are what this script writes).
 */
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { loadStudy, loadSurvey } from "../src/config/load.ts";
import { Study } from "../src/config/schema.ts";
import { readYamlFile, validateYaml } from "../src/config/yaml.ts";
import { generatePopulationFrames, type PopulationFrames } from "../src/simulation/frames.ts";

const SEED = 2024;
const RESPONDENTS_PER_WAVE = 300;

export const exampleStudyFile = fileURLToPath(new URL("../surveys/example-study.yaml", import.meta.url));

/** The example frames and the folder they belong in. */
export function exampleFrames(): { frames: PopulationFrames; frameDir: string } {
  // Waves and their contexts come from the study itself, so the two cannot drift apart.
  const study = validateYaml(readYamlFile(exampleStudyFile), Study, "a study");
  const studyDir = dirname(exampleStudyFile);
  const survey = loadSurvey(join(studyDir, study.survey));
  const frames = generatePopulationFrames({
    seed: SEED,
    items: survey.items,
    design: "panel",
    waves: study.waves.map((wave) => ({ id: wave.id, size: RESPONDENTS_PER_WAVE, role: wave.role, context: wave.context })),
  });
  return { frames, frameDir: dirname(join(studyDir, study.waves[0]!.frame.file)) };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { frames, frameDir } = exampleFrames();
  for (const path of await frames.write(frameDir, "csv")) console.log(`wrote ${relative(process.cwd(), path)}`);
  // The frames must load under the example study exactly as a user's would.
  const loaded = await loadStudy(exampleStudyFile);
  const waves = loaded.waves.map((w) => `${w.wave.id} (${w.frame.size} respondents, ${w.wave.role})`);
  console.log(`checked ${relative(process.cwd(), loaded.file)}: ${waves.join(", ")}`);
}
