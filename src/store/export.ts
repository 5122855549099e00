/**
 * Responses for R, pandas and DuckDB: one row per answer (study, model, wave,
 * respondent, item, generation, value, status, reason, and for logprobs
 * elicitation the answer's distribution as JSON and the probability it put
 * off the options), as CSV and Parquet,
 * written together and atomically. Only answers asked with the study's
 * current prompts are exported; stale ones (the persona or a question changed
 * since) stay in the store until they are asked again.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parquetWriteBuffer } from "hyparquet-writer";
import { OutputSet } from "../util/atomic-write.ts";
import { csvText } from "../util/csv-text.ts";
import { crashPoint } from "../util/crash-points.ts";
import { cellId, type AnswerRow } from "./answers.ts";
import type { Store } from "./store.ts";

export const RESPONSE_COLUMNS = [
  "study",
  "model",
  "wave",
  "respondent",
  "item",
  "generation",
  "value",
  "status",
  "reason",
  "distribution",
  "non_option_mass",
] as const;

export interface ExportResult {
  csv: string;
  parquet: string;
  rows: number;
  /** Stored answers left out because their prompt is no longer the study's. */
  stale: number;
  /** False when the files were already up to date and left as they were. */
  rewritten?: boolean;
}

export interface ResponseColumns {
  study: string[];
  model: string[];
  wave: string[];
  respondent: string[];
  item: string[];
  generation: number[];
  value: (number | null)[];
  status: string[];
  reason: (string | null)[];
  /** JSON {code: probability} (logprobs elicitation); `value` is then its expected code. */
  distribution: (string | null)[];
  non_option_mass: (number | null)[];
}

/** The exported rows, column-major; `currentKeys` (by cellId) decides which answers are current. */
export function responseColumns(study: string, answers: Iterable<AnswerRow>, currentKeys: Map<string, string>): { columns: ResponseColumns; stale: number } {
  const columns: ResponseColumns = {
    study: [],
    model: [],
    wave: [],
    respondent: [],
    item: [],
    generation: [],
    value: [],
    status: [],
    reason: [],
    distribution: [],
    non_option_mass: [],
  };
  let stale = 0;
  for (const a of answers) {
    if (currentKeys.get(cellId(a.model, a.wave, a.respondent, a.item, a.generation)) !== a.cellKey) {
      stale += 1;
      continue;
    }
    columns.study.push(study);
    columns.model.push(a.model);
    columns.wave.push(a.wave);
    columns.respondent.push(a.respondent);
    columns.item.push(a.item);
    columns.generation.push(a.generation);
    columns.value.push(a.value);
    columns.status.push(a.status);
    columns.reason.push(a.reason);
    columns.distribution.push(a.distribution);
    columns.non_option_mass.push(a.nonOptionMass ?? null);
  }
  return { columns, stale };
}

/** Writes responses.csv and responses.parquet into `dir`, both or neither. */
export async function exportResponses(
  dir: string,
  study: string,
  answers: Iterable<AnswerRow>,
  currentKeys: Map<string, string>,
): Promise<ExportResult> {
  const { columns, stale } = responseColumns(study, answers, currentKeys);
  const csvPath = join(dir, "responses.csv");
  const parquetPath = join(dir, "responses.parquet");
  await OutputSet.write((out) => {
    out.stage(csvPath, toCsv(columns));
    out.stage(parquetPath, new Uint8Array(toParquet(columns)));
    crashPoint("export-staged");
  });
  return { csv: csvPath, parquet: parquetPath, rows: columns.study.length, stale };
}

/**
 * The exports, rewritten only when what they are made of changed: the stored
 * answers (their version moves with every write) or the study's current
 * prompts (a digest of the current cell keys). A rerun that asked nothing
 * leaves both files as they are. The record of what they were made from is
 * written after them: a kill in between only means they are written again.
 */
export async function exportIfChanged(
  dir: string,
  study: string,
  store: Pick<Store, "answersVersion" | "exported" | "setExported" | "allAnswers">,
  currentKeys: Map<string, string>,
): Promise<ExportResult> {
  const made = { answers: store.answersVersion(), keys: keysDigest(currentKeys) };
  const csv = join(dir, "responses.csv");
  const parquet = join(dir, "responses.parquet");
  const last = parseExported(store.exported());
  if (last !== undefined && last.answers === made.answers && last.keys === made.keys && existsSync(csv) && existsSync(parquet)) {
    return { csv, parquet, rows: last.rows, stale: last.stale, rewritten: false };
  }
  const result = await exportResponses(dir, study, store.allAnswers(), currentKeys);
  store.setExported(JSON.stringify({ ...made, rows: result.rows, stale: result.stale }));
  return { ...result, rewritten: true };
}

function keysDigest(currentKeys: Map<string, string>): string {
  const hash = createHash("sha256");
  for (const [cell, key] of currentKeys) hash.update(cell).update("\u0000").update(key).update("\n");
  return hash.digest("hex");
}

function parseExported(text: string | undefined): { answers: number; keys: string; rows: number; stale: number } | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as { answers: number; keys: string; rows: number; stale: number };
  } catch {
    return undefined;
  }
}

export function toCsv(columns: ResponseColumns): string {
  const rows: (string | number | null)[][] = [];
  for (let i = 0; i < columns.study.length; i++) {
    rows.push(RESPONSE_COLUMNS.map((name) => columns[name][i] ?? null));
  }
  return csvText(RESPONSE_COLUMNS, rows);
}

export function toParquet(columns: ResponseColumns): ArrayBuffer {
  return parquetWriteBuffer({
    columnData: [
      { name: "study", data: columns.study, type: "STRING", nullable: false },
      { name: "model", data: columns.model, type: "STRING", nullable: false },
      { name: "wave", data: columns.wave, type: "STRING", nullable: false },
      { name: "respondent", data: columns.respondent, type: "STRING", nullable: false },
      { name: "item", data: columns.item, type: "STRING", nullable: false },
      { name: "generation", data: columns.generation, type: "INT32", nullable: false },
      { name: "value", data: columns.value, type: "DOUBLE" },
      { name: "status", data: columns.status, type: "STRING", nullable: false },
      { name: "reason", data: columns.reason, type: "STRING" },
      { name: "distribution", data: columns.distribution, type: "STRING" },
      { name: "non_option_mass", data: columns.non_option_mass, type: "DOUBLE" },
    ],
  });
}
