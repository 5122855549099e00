/** Loads ../fixtures/r-survey (copied from the shared R-checked fixture) as plain arrays. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "csv-parse/sync";

const dir = fileURLToPath(new URL("../fixtures/r-survey/", import.meta.url));

export const fixtureDir = dir;

export interface FixtureRespondent {
  id: string;
  party: string;
  region: string;
  weight: number;
  therm: number;
  approve: number;
}

export interface FixtureGeneration {
  id: string;
  generation: number;
  therm: number;
  approve: number;
}

function readCsv(name: string): Record<string, string>[] {
  return parse(readFileSync(dir + name), { columns: true, skip_empty_lines: true });
}

export function loadRespondents(): FixtureRespondent[] {
  return readCsv("respondents.csv").map((r) => ({
    id: r.id!,
    party: r.party!,
    region: r.region!,
    weight: Number(r.weight),
    therm: Number(r.therm),
    approve: Number(r.approve),
  }));
}

export function loadGenerations(): FixtureGeneration[] {
  return readCsv("synthetic.csv").map((r) => ({
    id: r.id!,
    generation: Number(r.generation),
    therm: Number(r.therm),
    approve: Number(r.approve),
  }));
}

export interface EstimateSe {
  est: number;
  se: number;
}

export interface Expected {
  real_therm_overall: EstimateSe;
  real_therm_by_party: Record<string, EstimateSe>;
  real_approve_by_party_region: Record<string, EstimateSe>;
  real_approve_independent_logit90: { est: number; lo: number; hi: number };
  syn_therm_by_party_clustered: Record<string, EstimateSe>;
  paired_gap_therm_by_party: Record<string, EstimateSe>;
  n_paired: number;
}

export function loadExpected(): Expected {
  return JSON.parse(readFileSync(dir + "expected.json", "utf8")) as Expected;
}

/** Relative difference, for "to 1e-6 relative" checks. */
export function relativeError(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);
}
