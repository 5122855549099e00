/**
 * Writes the estimate bench's two CSV files without holding them in memory:
 * real.csv (id, group, weight, therm: one row per respondent) and syn.csv
 * (id, generation, therm: GENERATIONS rows per respondent), seeded, so that
 * silicon, R and the other peers read the very same bytes.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { createRng } from "../src/simulation/random.ts";

export const GENERATIONS = 4;
export const SUBGROUPS = 50;

export interface EstimateBenchFiles {
  real: string;
  synthetic: string;
  respondents: number;
  syntheticRows: number;
}

/** Writes `syntheticRows` synthetic answers (syntheticRows / 4 respondents) into `dir`. */
export function writeEstimateBenchFiles(dir: string, syntheticRows: number, seed = 42): EstimateBenchFiles {
  const respondents = Math.ceil(syntheticRows / GENERATIONS);
  const random = createRng(seed).next;
  const real = join(dir, "real.csv");
  const synthetic = join(dir, "syn.csv");
  const realFile = openSync(real, "w");
  const synFile = openSync(synthetic, "w");
  try {
    writeSync(realFile, "id,group,weight,therm\n");
    writeSync(synFile, "id,generation,therm\n");
    const block = 10_000;
    for (let start = 0; start < respondents; start += block) {
      const realLines: string[] = [];
      const synLines: string[] = [];
      for (let i = start; i < Math.min(start + block, respondents); i++) {
        const id = `r${String(i).padStart(7, "0")}`;
        const group = Math.floor(random() * SUBGROUPS);
        const weight = 0.3 + 2 * random();
        const therm = Math.round(30 + group + 40 * random());
        realLines.push(`${id},g${String(group).padStart(2, "0")},${weight},${therm}\n`);
        for (let k = 1; k <= GENERATIONS; k++) synLines.push(`${id},${k},${Math.round(therm * 0.6 + 30 * random())}\n`);
      }
      writeSync(realFile, realLines.join(""));
      writeSync(synFile, synLines.join(""));
    }
  } finally {
    closeSync(realFile);
    closeSync(synFile);
  }
  return { real, synthetic, respondents, syntheticRows: respondents * GENERATIONS };
}
