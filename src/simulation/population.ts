/**
 * The simulated population: US-adult-like demographics (region, race, age,
 * education, gender, party with realistic dependence), and a survey sample
 * drawn with unequal response propensities, so that the weights (inverse
 * propensities, mean 1) matter as they do in ANES and Pew.
 */
import {
  EDUCATION_LEVELS,
  GENDERS,
  PARTIES,
  RACES,
  REGIONS,
  type Party,
  type Race,
  type Region,
} from "./features.ts";
import { logistic } from "./distribution.ts";
import type { Rng } from "./random.ts";

export interface Person {
  party: Party;
  region: Region;
  age: number;
  /** One of EDUCATION_LEVELS. */
  education: string;
  gender: (typeof GENDERS)[number];
  race: Race;
}

export interface SampledPerson extends Person {
  /** Inverse response propensity, normalised to mean 1 within the sample. */
  weight: number;
}

const REGION_SHARES = [0.17, 0.21, 0.38, 0.24];
/** Race shares by region (White, Black, Hispanic, Asian, Other). */
const RACE_BY_REGION: Record<Region, number[]> = {
  Northeast: [0.68, 0.11, 0.12, 0.06, 0.03],
  Midwest: [0.76, 0.1, 0.08, 0.03, 0.03],
  South: [0.58, 0.19, 0.17, 0.03, 0.03],
  West: [0.52, 0.05, 0.29, 0.1, 0.04],
};
/** Education shares by race (high school or less, some college, bachelor's, postgraduate). */
const EDUCATION_BY_RACE: Record<Race, number[]> = {
  White: [0.33, 0.28, 0.24, 0.15],
  Black: [0.42, 0.32, 0.17, 0.09],
  Hispanic: [0.52, 0.26, 0.15, 0.07],
  Asian: [0.22, 0.16, 0.34, 0.28],
  Other: [0.38, 0.32, 0.19, 0.11],
};

/** One adult of the population. */
export function drawPerson(rng: Rng): Person {
  const region = REGIONS[rng.pick(REGION_SHARES)]!;
  const race = RACES[rng.pick(RACE_BY_REGION[region])]!;
  const educationIndex = rng.pick(EDUCATION_BY_RACE[race]);
  const age = Math.min(90, Math.max(18, Math.round(47 + 17 * rng.normal())));
  const woman = rng.next() < 0.51;
  const party = PARTIES[rng.pick(partyWeights(race, educationIndex, age, woman, region))]!;
  return { party, region, age, education: EDUCATION_LEVELS[educationIndex]!, gender: woman ? "Woman" : "Man", race };
}

/** Multinomial logit for party identification (Democrat, Republican, Independent). */
function partyWeights(race: Race, education: number, age: number, woman: boolean, region: Region): number[] {
  const e = education - 1.5;
  const a = (age - 50) / 10;
  const w = woman ? 1 : 0;
  const dem =
    -0.65 + (race === "Black" ? 2.0 : race === "Hispanic" ? 0.7 : race === "Asian" ? 0.6 : 0) + 0.25 * e + 0.3 * w - 0.05 * a +
    (region === "Northeast" ? 0.2 : region === "West" ? 0.15 : region === "South" ? -0.25 : 0);
  const rep =
    -0.15 + (race === "Black" ? -1.8 : race === "Hispanic" ? -0.5 : race === "Asian" ? -0.6 : 0) - 0.15 * e - 0.2 * w + 0.1 * a +
    (region === "South" ? 0.35 : region === "Midwest" ? 0.1 : 0);
  return [Math.exp(dem), Math.exp(rep), 1];
}

/** Probability that a sampled adult responds: lower for the young, the less educated, Hispanic and Black adults. */
export function responsePropensity(person: Person): number {
  const e = EDUCATION_LEVELS.indexOf(person.education as (typeof EDUCATION_LEVELS)[number]) - 1.5;
  const a = (person.age - 50) / 10;
  return logistic(-0.5 + 0.35 * e + 0.15 * a - (person.race === "Hispanic" ? 0.3 : 0) - (person.race === "Black" ? 0.2 : 0));
}

/** A survey sample of `size` respondents, drawn by rejection on the response propensity, with weights. */
export function drawSample(rng: Rng, size: number): SampledPerson[] {
  const people: Person[] = [];
  const inverse: number[] = [];
  while (people.length < size) {
    const person = drawPerson(rng);
    const p = responsePropensity(person);
    if (rng.next() < p) {
      people.push(person);
      inverse.push(1 / p);
    }
  }
  const mean = inverse.reduce((s, v) => s + v, 0) / inverse.length;
  return people.map((person, i) => ({ ...person, weight: inverse[i]! / mean }));
}
