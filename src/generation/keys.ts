/**
 * Request and cell keys: sha256 of everything that determines an answer.
 *
 * A request key names one API request: model id, the cell it is for (wave,
 * respondent, item, first generation), system prompt, messages, temperature,
 * max tokens, seed, n, the answer schema and log-probability settings. The
 * same key is never paid for twice: a stored completed response is reused.
 * The cell is part of the key on purpose: two respondents with identical
 * profiles are two independent draws, not one answer shown twice.
 *
 * A cell key names what one (model, wave, respondent, item, generation) answer
 * was asked from, independent of how calls were grouped (n) and of re-asks.
 * When the prompt or a parameter changes, the key changes and the stored
 * answer is stale: the next run asks again (and the old calls stay cached, so
 * changing back costs nothing).
 */
import { hash } from "node:crypto";
import type { ChatMessage } from "../providers/types.ts";

/** Bump when the meaning of a key changes, so old cache entries are not misused. */
export const KEY_VERSION = "silicon-key-1";

export interface CellIdentity {
  model: string;
  wave: string;
  respondent: string;
  item: string;
}

/** Request settings that shape the answer. */
export interface AnswerParameters {
  temperature: number;
  maxTokens: number;
  /** The study's base seed; each generation's seed derives from it. */
  seed: number;
  elicitation: string;
  /** JSON of the answer schema, or "" without one. */
  schema: string;
  topLogprobs?: number;
}

/** Digest of a cell's prompt (system and first user message): hashed once, keyed many times. */
export function promptDigest(system: string, user: string): string {
  return sha256Text(`[${json(KEY_VERSION)},"prompt",${json(system)},${json(user)}]`);
}

export function cellKey(cell: CellIdentity, generation: number, prompt: string, parameters: AnswerParameters): string {
  return sha256Text(`[${json(KEY_VERSION)},"cell",${identityJson(cell)},${json(generation)},${json(prompt)},${parametersJson(parameters)}]`);
}

/** The cell keys of generations 1 .. `generations` of one cell (each `cellKey`), the parts they share spelled once. */
export function cellKeys(cell: CellIdentity, generations: number, prompt: string, parameters: AnswerParameters): string[] {
  const before = `[${json(KEY_VERSION)},"cell",${identityJson(cell)},`;
  const after = `,${json(prompt)},${parametersJson(parameters)}]`;
  const keys: string[] = [];
  for (let g = 1; g <= generations; g++) keys.push(sha256Text(before + json(g) + after));
  return keys;
}

/**
 * `prompt` is the cell's promptDigest; `followUp` the messages after the first
 * user message (a re-ask's previous answer and correction), empty at first ask.
 */
export function requestKey(
  cell: CellIdentity,
  generation: number,
  n: number,
  prompt: string,
  followUp: ChatMessage[],
  parameters: AnswerParameters,
): string {
  const followUpJson = followUp.length === 0 ? "[]" : JSON.stringify(followUp, sortedKeys);
  return sha256Text(
    `[${json(KEY_VERSION)},"request",${identityJson(cell)},${json(generation)},${json(n)},${json(prompt)},${followUpJson},${parametersJson(parameters)}]`,
  );
}

/** The seed sent for a call whose first generation is `generation`. */
export function seedFor(baseSeed: number, generation: number): number {
  return baseSeed + generation - 1;
}

/** sha256 of the JSON of `parts`, object keys sorted: what every key is a digest of. */
export function sha256(parts: unknown[]): string {
  return sha256Text(JSON.stringify(parts, sortedKeys));
}

/*
 * The keys above spell out that same JSON by hand (tested equal to sha256 of
 * the parts): a study hashes every cell, and most of the generic path's time
 * went to re-serialising the same parameters object for each.
 */

/** One-shot (`crypto.hash`): the same digest as createHash().update().digest(), without a Hash object per key. */
function sha256Text(text: string): string {
  return hash("sha256", text, "hex");
}

const json = (value: string | number) => JSON.stringify(value);

function identityJson(cell: CellIdentity): string {
  return `${json(cell.model)},${json(cell.wave)},${json(cell.respondent)},${json(cell.item)}`;
}

/** A study's parameters objects are shared by many cells: each serialised once. */
const serialisedParameters = new WeakMap<AnswerParameters, string>();

function parametersJson(parameters: AnswerParameters): string {
  let text = serialisedParameters.get(parameters);
  if (text === undefined) {
    text = JSON.stringify(parameters, sortedKeys);
    serialisedParameters.set(parameters, text);
  }
  return text;
}

/** Object keys in sorted order, so a key never depends on property order. */
function sortedKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(record).sort()) sorted[key] = record[key];
  return sorted;
}
