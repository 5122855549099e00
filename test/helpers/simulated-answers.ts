/**
 * Synthetic answers for a loaded study straight from the simulated models'
 * answer distributions, without the generation engine: for tests of the
 * stages after it (estimands, calibration, report) on realistic data.
 */
import type { LoadedStudy } from "../../src/config/load.ts";
import type { SyntheticAnswers } from "../../src/estimands/answers.ts";
import { sample } from "../../src/simulation/distribution.ts";
import { uniformFromKey } from "../../src/simulation/random.ts";
import { siliconDistribution } from "../../src/simulation/respondent.ts";

export function simulatedAnswers(study: LoadedStudy, generations = study.study.generations): SyntheticAnswers {
  const id: string[] = [];
  const item: string[] = [];
  const value: number[] = [];
  const model: string[] = [];
  const wave: string[] = [];
  const generation: number[] = [];
  for (const modelId of study.study.models) {
    const name = modelId.slice("simulated:".length);
    for (const { wave: w, frame } of study.waves) {
      for (let r = 0; r < frame.size; r++) {
        const profile = frame.profile(r);
        for (const it of study.survey.items) {
          const dist = siliconDistribution(name, it, profile, { id: w.id, context: w.context });
          for (let g = 1; g <= generations; g++) {
            id.push(frame.ids[r]!);
            item.push(it.id);
            value.push(sample(dist, uniformFromKey(`test|${modelId}|${w.id}|${frame.ids[r]}|${it.id}|${g}`)));
            model.push(modelId);
            wave.push(w.id);
            generation.push(g);
          }
        }
      }
    }
  }
  return { source: "simulated answers", id, item, value, model, wave, generation };
}
