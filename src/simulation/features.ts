/**
 * What the simulator reads from a respondent's profile: party, region, age,
 * education, gender and race, recognised by column name and label so that
 * real frames work too (ANES `pid3` "Republican", Pew `F_CREGION` "South",
 * an SPSS code already turned into its label). Anything unrecognised is
 * simply absent and contributes nothing.
 */
import type { Cell } from "../tables/types.ts";

export const PARTIES = ["Democrat", "Republican", "Independent"] as const;
export type Party = (typeof PARTIES)[number];
export const REGIONS = ["Northeast", "Midwest", "South", "West"] as const;
export type Region = (typeof REGIONS)[number];
export const RACES = ["White", "Black", "Hispanic", "Asian", "Other"] as const;
export type Race = (typeof RACES)[number];
/** Education levels, lowest first; the simulator uses the index 0..3. */
export const EDUCATION_LEVELS = ["High school or less", "Some college", "Bachelor's degree", "Postgraduate degree"] as const;
export const GENDERS = ["Woman", "Man"] as const;

export interface Features {
  party?: Party;
  region?: Region;
  age?: number;
  /** 0 high school or less, 1 some college, 2 bachelor's, 3 postgraduate. */
  education?: number;
  woman?: boolean;
  race?: Race;
}

const COLUMN_NAMES: Record<keyof Features, RegExp> = {
  party: /^(party|party_?id|pid3?|partisanship|f_party.*)$/i,
  region: /^(region|census_?region|f_cregion)$/i,
  age: /^(age|f_age|age_?years)$/i,
  education: /^(education|educ\d?|f_educcat\d?|edu)$/i,
  woman: /^(gender|sex|f_gender)$/i,
  race: /^(race|race_?ethnicity|raceeth|f_racethn)$/i,
};

export function profileFeatures(profile: Record<string, Cell>): Features {
  const features: Features = {};
  for (const [column, cell] of Object.entries(profile)) {
    if (cell === null) continue;
    const text = String(cell).trim();
    if (text === "") continue;
    if (features.party === undefined && COLUMN_NAMES.party.test(column)) features.party = partyOf(text);
    else if (features.region === undefined && COLUMN_NAMES.region.test(column)) features.region = regionOf(text);
    else if (features.age === undefined && COLUMN_NAMES.age.test(column)) features.age = ageOf(text);
    else if (features.education === undefined && COLUMN_NAMES.education.test(column)) features.education = educationOf(text);
    else if (features.woman === undefined && COLUMN_NAMES.woman.test(column)) features.woman = womanOf(text);
    else if (features.race === undefined && COLUMN_NAMES.race.test(column)) features.race = raceOf(text);
  }
  for (const key of Object.keys(features) as (keyof Features)[]) if (features[key] === undefined) delete features[key];
  return features;
}

export function partyOf(text: string): Party | undefined {
  const t = text.toLowerCase();
  if (/\bdem/.test(t)) return "Democrat";
  if (/\brep|\bgop\b/.test(t)) return "Republican";
  if (/indep|other|none|no preference|neither/.test(t)) return "Independent";
  return undefined;
}

function regionOf(text: string): Region | undefined {
  const t = text.toLowerCase();
  if (/north\s*east/.test(t)) return "Northeast";
  if (/mid\s*west|north\s*central/.test(t)) return "Midwest";
  if (/south/.test(t)) return "South";
  if (/west/.test(t)) return "West";
  return undefined;
}

/** A number, or the midpoint of a bracket such as "30-49" or "65+". */
function ageOf(text: string): number | undefined {
  const bracket = /^(\d+)\s*[-–]\s*(\d+)/.exec(text);
  if (bracket) return (Number(bracket[1]) + Number(bracket[2])) / 2;
  const plus = /^(\d+)\s*\+/.exec(text);
  if (plus) return Number(plus[1]) + 7;
  const n = Number(text);
  return Number.isFinite(n) && n >= 15 && n <= 110 ? n : undefined;
}

function educationOf(text: string): number | undefined {
  const t = text.toLowerCase();
  if (/post\s*grad|graduate degree|master|doctor|phd|professional degree/.test(t)) return 3;
  if (/bachelor|college grad|4[- ]year|ba\b|bs\b/.test(t)) return 2;
  if (/some college|associate|2[- ]year|vocational/.test(t)) return 1;
  if (/high school|hs\b|less|no degree|grade/.test(t)) return 0;
  return undefined;
}

function womanOf(text: string): boolean | undefined {
  const t = text.toLowerCase();
  if (/^(woman|female|f)$|women|female/.test(t)) return true;
  if (/^(man|male|m)$|\bmen\b|\bmale/.test(t)) return false;
  return undefined;
}

function raceOf(text: string): Race | undefined {
  const t = text.toLowerCase();
  if (/black|african/.test(t)) return "Black";
  if (/asian/.test(t)) return "Asian";
  if (/non[- ]?hispanic white|^white/.test(t)) return "White";
  if (/hispanic|latin/.test(t)) return "Hispanic";
  if (/white/.test(t)) return "White";
  return "Other";
}

/** The subgroup a silicon bias is drawn for: party × region ("unknown" where the profile lacks one). */
export function subgroupOf(features: Features): string {
  return `${features.party ?? "unknown"}|${features.region ?? "unknown"}`;
}
