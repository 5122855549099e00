/** Public API of the simulator (docs/simulated-provider.md, docs/calibrate.md). */
export { createRng, hash53, uniformFromKey, normalFromKey, type Rng } from "./random.ts";
export {
  generatePopulationFrames,
  writeTable,
  PROFILE_COLUMNS,
  type PopulationOptions,
  type PopulationFrames,
  type GeneratedWave,
  type WaveSpec,
} from "./frames.ts";
export { expectedTaskMeans, type TaskTruth, type TruthOptions } from "./truth.ts";
export { SIMULATED_MODELS, type SiliconSpec } from "./models.ts";
export { simulateSection54, section54Rows, SECTION_54, type Section54Design, type BinaryTasks } from "./tasks.ts";
export { exampleTasks } from "./example.ts";
