/**
 * Synthetic answers in long form, the estimands' core input beside the
 * respondent frame: one entry per (respondent, item, generation, model, wave).
 * The pipeline builds it from stored answers; `silicon estimate --real
 * --synthetic` builds it from files (src/estimands/from-files.ts).
 *
 * An entry is either an answer (`value`, NaN for a failed or refused one:
 * the respondent was asked and stays in the synthetic design) or, where
 * `option` holds an answer code, one probability of a distribution answer
 * (e.g. from log-probabilities): all entries of one (respondent, item,
 * generation, model) with an option form one answer.
 */
import { InputError, type InputLocation } from "../errors.ts";
import type { RowLookup, SurveyDesign } from "./design.ts";

export interface SyntheticAnswers {
  /** Where the answers came from, for messages (a file path). */
  source?: string;
  /** Respondent id: a row of the design (within the entry's wave, when given). */
  id: readonly string[];
  item: readonly string[];
  /** The answer (a number or code; NaN when missing), or the probability of `option`. */
  value: ArrayLike<number>;
  /** Which synthetic generator; each model gets its own tasks. */
  model?: readonly (string | null)[];
  /** Wave of the entry; when omitted, the respondent's wave. */
  wave?: readonly (string | null)[];
  /** Generation label; entries of one respondent, item and generation are one answer. */
  generation?: readonly (string | number | null)[];
  /** Answer code whose probability `value` is (NaN: `value` is a plain answer). */
  option?: ArrayLike<number>;
  /** Locates entry `index` (0-based) in the user's file; default: row index + 1 of `source`. */
  locate?: (index: number, field: AnswerField) => InputLocation;
}

export type AnswerField = "id" | "item" | "value" | "model" | "wave" | "generation" | "option";

export interface UnmatchedIds {
  /** Entries (answers) skipped because their id is not a respondent of the design. */
  entries: number;
  /** Distinct ids skipped. */
  distinct: number;
  /** The first few of them, for messages. */
  examples: string[];
}

/** Answers joined to the design: each entry's respondent row, model and item as integer codes. */
export interface ResolvedAnswers {
  readonly answers: SyntheticAnswers;
  readonly source: string;
  /** Respondents in the design (rows of `asked`). */
  readonly designSize: number;
  /** Design row of each entry; −1 for a skipped (unmatched) entry. */
  readonly row: Int32Array;
  readonly models: readonly string[];
  readonly model: Int32Array;
  readonly items: readonly string[];
  readonly item: Int32Array;
  /** Entry indices grouped by partition `model * items.length + item`, in input order. */
  readonly partitionEntries: Int32Array;
  /** `partitionEntries` slice bounds: partition p is [start[p], start[p + 1]). */
  readonly partitionStart: Int32Array;
  /** Per model: 1 for design rows with any synthetic entry (the synthetic design's units). */
  readonly asked: readonly Uint8Array[];
  /** Per model: units of the synthetic design in each wave (its n). */
  readonly askedPerWave: readonly Int32Array[];
  readonly unmatched: UnmatchedIds;
  locate(index: number, field: AnswerField): InputLocation;
}

export interface ResolveOptions {
  /** Skip entries whose id the design lacks instead of failing. */
  allowUnmatched?: boolean;
}

const EXAMPLES = 5;

/**
 * Joins answers to the design by id (and wave), so that every entry carries
 * its respondent's weight and subgroups. Unknown ids fail with a count and the
 * first few, unless `allowUnmatched`.
 */
export function resolveAnswers(design: SurveyDesign, answers: SyntheticAnswers, options: ResolveOptions = {}): ResolvedAnswers {
  const source = answers.source ?? "synthetic answers";
  const count = answers.id.length;
  for (const [name, column] of Object.entries({ item: answers.item, value: answers.value, model: answers.model, wave: answers.wave, generation: answers.generation, option: answers.option })) {
    if (column !== undefined && column.length !== count) throw new RangeError(`resolveAnswers: ${name} has ${column.length} entries, id ${count}`);
  }
  const locate = (index: number, field: AnswerField): InputLocation =>
    answers.locate?.(index, field) ?? { file: source, row: index + 1, field };
  if (answers.wave !== undefined && !design.hasWaves) {
    throw new InputError({ file: source, field: "wave" }, `the synthetic answers have waves but the respondents of ${design.source} have none`);
  }

  const row = new Int32Array(count);
  const model = new Int32Array(count);
  const item = new Int32Array(count);
  const models: string[] = answers.model === undefined ? [""] : [];
  const items: string[] = [];
  const unmatchedIds = new Set<string>();
  let unmatchedEntries = 0;
  let firstUnmatched = -1;

  // Answers come grouped (a respondent's generations, an item's rows), so the
  // previous entry's lookups are usually this one's: a cheap cache before the maps.
  let lastId: string | undefined;
  let lastWave: string | null | undefined;
  let lastFound: RowLookup = "missing";
  const modelOf = codes(models, () => "model");
  const itemOf = codes(items, () => "item");
  for (let e = 0; e < count; e++) {
    const id = answers.id[e];
    if (id === null || id === undefined || id === "") throw new InputError(locate(e, "id"), "missing respondent id");
    const wave = answers.wave?.[e];
    if (answers.wave !== undefined && (wave === null || wave === undefined)) throw new InputError(locate(e, "wave"), "missing wave");
    const found: RowLookup =
      id === lastId && wave === lastWave ? lastFound : nextInOrder(design, lastFound, id) ? (lastFound as number) + 1 : design.rowOf(id, wave ?? undefined);
    lastId = id;
    lastWave = wave;
    lastFound = found;
    if (found === "ambiguous") {
      throw new InputError(locate(e, "id"), `respondent ${JSON.stringify(id)} is in several waves of ${design.source}; the synthetic answers need a wave column to tell which`);
    }
    if (found === "missing") {
      if (firstUnmatched < 0) firstUnmatched = e;
      unmatchedEntries += 1;
      unmatchedIds.add(wave === undefined || wave === null ? id : `${id} (wave ${wave})`);
      row[e] = -1;
      continue;
    }
    row[e] = found;
    // Without a model column every entry is one unnamed model ("" in the tasks table).
    model[e] = answers.model === undefined ? 0 : modelOf(answers.model[e], () => locate(e, "model"));
    item[e] = itemOf(answers.item[e], () => locate(e, "item"));
  }

  const examples = [...unmatchedIds].slice(0, EXAMPLES);
  if (unmatchedEntries > 0 && !options.allowUnmatched) {
    const more = unmatchedIds.size > EXAMPLES ? ", …" : "";
    throw new InputError(
      locate(firstUnmatched, "id"),
      `${unmatchedIds.size} ${plural(unmatchedIds.size, "id matches", "ids match")} no respondent of ${design.source} (${unmatchedEntries} ${plural(unmatchedEntries, "answer", "answers")}): ${examples.join(", ")}${more}; check the id column, or pass --allow-unmatched to skip them`,
    );
  }

  // Counting sort of entries into (model, item) partitions, keeping input order.
  const partitions = models.length * items.length;
  const partitionStart = new Int32Array(partitions + 1);
  for (let e = 0; e < count; e++) if (row[e]! >= 0) partitionStart[model[e]! * items.length + item[e]! + 1]! += 1;
  for (let p = 0; p < partitions; p++) partitionStart[p + 1]! += partitionStart[p]!;
  const fill = partitionStart.slice(0, partitions);
  const partitionEntries = new Int32Array(partitionStart[partitions]!);
  for (let e = 0; e < count; e++) if (row[e]! >= 0) partitionEntries[fill[model[e]! * items.length + item[e]!]!++] = e;

  const asked = models.map(() => new Uint8Array(design.size));
  for (let e = 0; e < count; e++) if (row[e]! >= 0) asked[model[e]!]![row[e]!] = 1;
  const askedPerWave = asked.map((units) => {
    const perWave = new Int32Array(design.waves.length);
    for (let i = 0; i < design.size; i++) if (units[i]) perWave[design.waveIndex[i]!]! += 1;
    return perWave;
  });

  return {
    answers,
    source,
    designSize: design.size,
    row,
    models,
    model,
    items,
    item,
    partitionEntries,
    partitionStart,
    asked,
    askedPerWave,
    unmatched: { entries: unmatchedEntries, distinct: unmatchedIds.size, examples },
    locate,
  };
}

/**
 * Whether `id` is the respondent after the previous entry's, as when the
 * synthetic file follows the real file's order: a comparison instead of a
 * look-up among millions of ids. Only without waves, where ids are unique.
 */
function nextInOrder(design: SurveyDesign, previous: RowLookup, id: string): boolean {
  return !design.hasWaves && typeof previous === "number" && design.ids[previous + 1] === id;
}

/** Entry indices of one (model, item). */
export function partitionOf(resolved: ResolvedAnswers, model: number, item: number): Int32Array {
  const p = model * resolved.items.length + item;
  return resolved.partitionEntries.subarray(resolved.partitionStart[p]!, resolved.partitionStart[p + 1]!);
}

/** Dictionary coding of a text column into `names`, remembering the last value looked up. */
function codes(names: string[], what: () => string): (value: string | null | undefined, where: () => InputLocation) => number {
  const code = new Map(names.map((name, k) => [name, k]));
  let last: string | undefined;
  let lastCode = -1;
  return (value, where) => {
    if (value === last) return lastCode;
    if (value === null || value === undefined || value === "") throw new InputError(where(), `missing ${what()}`);
    let k = code.get(value);
    if (k === undefined) {
      k = names.push(value) - 1;
      code.set(value, k);
    }
    last = value;
    lastCode = k;
    return k;
  };
}

function plural(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}
