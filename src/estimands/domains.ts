/**
 * Subgroups (domains, as `svyby` calls them): `party` gives one domain per
 * level of party, `party+region` one per combination, and the empty spec one
 * domain of everyone. Domains never cross waves: each wave is its own design.
 * Respondents with a missing subgroup value belong to no domain of that spec
 * but stay in their wave's design (its n), as in `svyby`.
 */
import { InputError, UsageError } from "../errors.ts";
import { naturalOrder, orderedLevels, type SurveyDesign } from "./design.ts";

/** Subgroup columns crossed into domains; no columns means everyone. */
export interface SubgroupSpec {
  readonly columns: readonly string[];
}

export const EVERYONE: SubgroupSpec = { columns: [] };

/** The spec word for "everyone", e.g. `--by all,party`. */
export const EVERYONE_WORD = "all";

/**
 * Parses `party,party+region` (comma-separated specs, `+` crossing columns;
 * `all` for everyone). Repeated specs are kept once, in first-seen order.
 */
export function parseSubgroupSpecs(text: string | readonly string[]): SubgroupSpec[] {
  const parts = (typeof text === "string" ? [text] : text).flatMap((t) => t.split(","));
  const specs: SubgroupSpec[] = [];
  const seen = new Set<string>();
  for (const raw of parts) {
    const part = raw.trim();
    if (part === "") throw new UsageError(`--by: empty subgroup spec in ${JSON.stringify(typeof text === "string" ? text : text.join(","))}`);
    const columns = part === EVERYONE_WORD ? [] : part.split("+").map((c) => c.trim());
    if (columns.some((c) => c === "")) throw new UsageError(`--by: ${JSON.stringify(part)} has an empty column name around "+"`);
    if (new Set(columns).size !== columns.length) throw new UsageError(`--by: ${JSON.stringify(part)} names a column twice`);
    const name = specName({ columns });
    if (seen.has(name)) continue;
    seen.add(name);
    specs.push({ columns });
  }
  return specs;
}

/** `party+region`, or `all` for everyone. */
export function specName(spec: SubgroupSpec): string {
  return spec.columns.length === 0 ? EVERYONE_WORD : spec.columns.join("+");
}

/** One domain: a wave and one value per spec column. */
export interface DomainLevel {
  readonly wave: number;
  readonly values: readonly string[];
}

export interface Domains {
  readonly spec: SubgroupSpec;
  /** Domain of each respondent (design row); −1 where a subgroup value is missing. */
  readonly index: Int32Array;
  /** Domains in output order: by wave, then by each column's level order. */
  readonly levels: readonly DomainLevel[];
}

/** `party=Democrat+region=Midwest`, or `all`. */
export function subgroupLabel(spec: SubgroupSpec, level: DomainLevel): string {
  if (spec.columns.length === 0) return EVERYONE_WORD;
  return spec.columns.map((column, j) => `${column}=${level.values[j]}`).join("+");
}

/** Groups the design's respondents into the domains of `spec` (with arquero), per wave. */
export function domainsOf(design: SurveyDesign, spec: SubgroupSpec): Domains {
  if (spec.columns.length === 0) {
    return { spec, index: Int32Array.from(design.waveIndex), levels: design.waves.map((_, wave) => ({ wave, values: [] })) };
  }
  const names = design.data.columnNames();
  for (const column of spec.columns) {
    if (!names.includes(column)) {
      throw new InputError({ file: design.source, field: column }, `missing subgroup column; the respondents have: ${names.join(", ") || "no subgroup columns"}`);
    }
  }
  const groups = design.data.groupby(...spec.columns).groups()!;
  const columnValues = spec.columns.map((c) => design.data.array(c) as (string | null)[]);
  const ranks = spec.columns.map((c, j) => rankOf(orderedLevels(columnValues[j]!, design.levels[c])));

  // A domain is (arquero group, wave); groups with a missing value are no domain.
  const groupValues: (string[] | null)[] = [];
  for (let g = 0; g < groups.size; g++) {
    const row = groups.rows[g]!;
    const values = columnValues.map((column) => column[row] ?? null);
    groupValues.push(values.some((v) => v === null) ? null : (values as string[]));
  }
  const waves = design.waves.length;
  const domainOfKey = new Map<number, number>();
  const levels: DomainLevel[] = [];
  const raw = new Int32Array(design.size);
  for (let i = 0; i < design.size; i++) {
    const g = groups.keys[i]!;
    const values = groupValues[g];
    if (values === null || values === undefined) {
      raw[i] = -1;
      continue;
    }
    const key = g * waves + design.waveIndex[i]!;
    let domain = domainOfKey.get(key);
    if (domain === undefined) {
      domain = levels.push({ wave: design.waveIndex[i]!, values }) - 1;
      domainOfKey.set(key, domain);
    }
    raw[i] = domain;
  }

  const order = levels.map((_, d) => d);
  order.sort((a, b) => compareLevels(levels[a]!, levels[b]!, ranks));
  const renumber = new Int32Array(levels.length);
  order.forEach((d, position) => (renumber[d] = position));
  const index = raw.map((d) => (d < 0 ? -1 : renumber[d]!));
  return { spec, index, levels: order.map((d) => levels[d]!) };
}

function rankOf(levels: readonly string[]): Map<string, number> {
  return new Map(levels.map((level, k) => [level, k]));
}

function compareLevels(a: DomainLevel, b: DomainLevel, ranks: readonly Map<string, number>[]): number {
  if (a.wave !== b.wave) return a.wave - b.wave;
  for (let j = 0; j < ranks.length; j++) {
    const ra = ranks[j]!.get(a.values[j]!)!;
    const rb = ranks[j]!.get(b.values[j]!)!;
    if (ra !== rb) return ra - rb;
  }
  return naturalOrder(a.values.join("\u0000"), b.values.join("\u0000"));
}
