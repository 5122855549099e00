/**
 * The survey design every estimand takes, in the shape of R survey's
 * `svydesign(ids = ~1, weights = ~w, data)`: one row per real respondent with
 * an id, a weight, the subgroup (profile) columns and the real answers. A
 * design with waves is one independent design per wave: each wave's n is the
 * n of its n/(n−1) factor, and ids need be unique only within a wave (panels
 * reuse them).
 *
 * The respondent attributes live in an arquero table, which groups them into
 * domains (src/estimands/domains.ts); weights and answers stay typed arrays.
 */
import { table, type ColumnTable } from "arquero";
import { InputError, type InputLocation } from "../errors.ts";

/** What the pipeline (or the file adapter) knows about the real respondents. */
export interface RespondentFrame {
  /** Where the respondents came from, for messages (a file path). */
  source?: string;
  /** Respondent id per row. */
  id: readonly string[];
  /** Respondent weights (finite, ≥ 0); all 1 when omitted. */
  weight?: ArrayLike<number>;
  /** Wave (the tasks table's `group`) per row; one design per wave. */
  wave?: readonly (string | null)[];
  /** Subgroup columns as display strings (e.g. SPSS labels); null is missing. */
  attributes?: Readonly<Record<string, readonly (string | null)[]>>;
  /** Order of the levels of an attribute (or of the waves, under key `wave`), e.g. by SPSS code; else natural order. */
  levels?: Readonly<Record<string, readonly string[]>>;
  /** Real answers per item, NaN where missing (nonresponse). An item may be absent (no real data). */
  answers?: Readonly<Record<string, ArrayLike<number>>>;
  /** Labels of answer codes per item, for per-option coordinates. */
  optionLabels?: Readonly<Record<string, ReadonlyMap<number, string>>>;
  /** Locates row `row` (0-based), column role `field` in the user's file; default: row + 1 of `source`. */
  locate?: (row: number, field: FrameField) => InputLocation;
}

/** Column roles of a respondent frame, for error locations. */
export type FrameField = "id" | "weight" | "wave" | { attribute: string } | { answer: string };

export interface SurveyDesign {
  readonly source: string;
  /** Respondents in all waves. */
  readonly size: number;
  readonly ids: readonly string[];
  readonly weights: Float64Array;
  /** Respondent attributes (the subgroup columns), one row per respondent. */
  readonly data: ColumnTable;
  readonly hasWaves: boolean;
  /** Wave names in order; `[""]` for a design without waves. */
  readonly waves: readonly string[];
  /** Wave index of each respondent. */
  readonly waveIndex: Int32Array;
  /** Respondents per wave: the n of each wave's n/(n−1). */
  readonly waveSizes: Int32Array;
  readonly answers: Readonly<Record<string, Float64Array>>;
  readonly levels: Readonly<Record<string, readonly string[]>>;
  readonly optionLabels: Readonly<Record<string, ReadonlyMap<number, string>>>;
  /** The respondent row of `id` (in `wave`, when the design has waves and a wave is given). */
  rowOf(id: string, wave?: string): RowLookup;
  locate(row: number, field: FrameField): InputLocation;
}

/** A row index, or why there is none: unknown id, or an id present in several waves. */
export type RowLookup = number | "missing" | "ambiguous";

/** Natural order ("wave 2" before "wave 10"), the same on every machine. */
export const naturalOrder = new Intl.Collator("en", { numeric: true }).compare;

/**
 * Validates a respondent frame and builds its design. Ids must be present and
 * unique within a wave; weights finite and non-negative; answers as long as
 * the frame. Errors name the row and column through `frame.locate`.
 */
export function surveyDesign(frame: RespondentFrame): SurveyDesign {
  const source = frame.source ?? "respondent frame";
  const size = frame.id.length;
  const locate = (row: number, field: FrameField): InputLocation =>
    frame.locate?.(row, field) ?? { file: source, row: row + 1, field: fieldName(field) };

  const weights = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const w = frame.weight === undefined ? 1 : frame.weight[i]!;
    if (!Number.isFinite(w) || w < 0) {
      throw new InputError(locate(i, "weight"), `expected a non-negative weight, got ${Number.isNaN(w) ? "a missing value" : w}`);
    }
    weights[i] = w;
  }

  const hasWaves = frame.wave !== undefined;
  const waveNames = hasWaves ? orderedLevels(frame.wave!, frame.levels?.wave) : [""];
  const waveCode = new Map(waveNames.map((name, k) => [name, k]));
  const waveIndex = new Int32Array(size);
  const waveSizes = new Int32Array(waveNames.length);
  for (let i = 0; i < size; i++) {
    let k = 0;
    if (hasWaves) {
      const wave = frame.wave![i];
      if (wave === null || wave === undefined) throw new InputError(locate(i, "wave"), "missing wave");
      k = waveCode.get(wave)!;
    }
    waveIndex[i] = k;
    waveSizes[k]! += 1;
  }

  // By id; with waves also by (wave, id), an id alone being ambiguous when a panel reuses it.
  const byId = new Map<string, number | "ambiguous">();
  const byKey = hasWaves ? new Map<string, number>() : undefined;
  for (let i = 0; i < size; i++) {
    const id = frame.id[i];
    if (id === null || id === undefined || id === "") throw new InputError(locate(i, "id"), "missing respondent id");
    const earlierId = byId.get(id);
    let earlier: number | undefined;
    if (byKey !== undefined) {
      const key = `${waveNames[waveIndex[i]!]}\u0000${id}`;
      earlier = byKey.get(key);
      byKey.set(key, i);
    } else if (typeof earlierId === "number") {
      earlier = earlierId;
    }
    if (earlier !== undefined) {
      const where = hasWaves ? ` in wave ${waveNames[waveIndex[i]!]}` : "";
      throw new InputError(locate(i, "id"), `duplicate respondent id ${JSON.stringify(id)}${where} (first on row ${earlier + 1}); ids must be unique`);
    }
    byId.set(id, earlierId === undefined ? i : "ambiguous");
  }

  const answers: Record<string, Float64Array> = {};
  for (const [item, values] of Object.entries(frame.answers ?? {})) {
    if (values.length !== size) throw new RangeError(`surveyDesign: answers to ${item} have ${values.length} rows, the frame ${size}`);
    answers[item] = Float64Array.from(values);
  }
  const attributes: Record<string, readonly (string | null)[]> = {};
  for (const [name, values] of Object.entries(frame.attributes ?? {})) {
    if (values.length !== size) throw new RangeError(`surveyDesign: attribute ${name} has ${values.length} rows, the frame ${size}`);
    attributes[name] = values;
  }

  return {
    source,
    size,
    ids: frame.id,
    weights,
    data: table(attributes),
    hasWaves,
    waves: waveNames,
    waveIndex,
    waveSizes,
    answers,
    levels: { ...frame.levels },
    optionLabels: { ...frame.optionLabels },
    rowOf(id: string, wave?: string): RowLookup {
      if (byKey !== undefined && wave !== undefined) return byKey.get(`${wave}\u0000${id}`) ?? "missing";
      return byId.get(id) ?? "missing";
    },
    locate,
  };
}

/**
 * The same design with more respondent attributes (arquero style: a new
 * design, the old one untouched), e.g. subgroup columns that sit beside the
 * synthetic answers rather than in the real file.
 */
export function withAttributes(
  design: SurveyDesign,
  attributes: Readonly<Record<string, readonly (string | null)[]>>,
  levels: Readonly<Record<string, readonly string[]>> = {},
): SurveyDesign {
  const columns: Record<string, readonly (string | null)[]> = {};
  for (const name of design.data.columnNames()) columns[name] = design.data.array(name) as (string | null)[];
  for (const [name, values] of Object.entries(attributes)) {
    if (values.length !== design.size) throw new RangeError(`withAttributes: ${name} has ${values.length} rows, the design ${design.size}`);
    columns[name] = values;
  }
  return { ...design, data: table(columns), levels: { ...design.levels, ...levels } };
}

/** Distinct non-missing values, in the given order first, then naturally sorted. */
export function orderedLevels(values: readonly (string | null)[], order?: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const value of values) if (value !== null && value !== undefined) seen.add(value);
  const known = (order ?? []).filter((level) => seen.has(level));
  const knownSet = new Set(known);
  const rest = [...seen].filter((level) => !knownSet.has(level)).sort(naturalOrder);
  return [...known, ...rest];
}

function fieldName(field: FrameField): string {
  if (typeof field === "string") return field;
  return "attribute" in field ? field.attribute : field.answer;
}
