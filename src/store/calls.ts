/** The `calls` table: one row per API call attempt, written when sent and when answered. */
import type { DatabaseSync } from "node:sqlite";
import { onRollback } from "./db.ts";
import { isStoredAsBytes, keyFromStore, keyToStore, textDigest, timeToStore, type StoreTime } from "./encoding.ts";
import { prepareNames, type NameStatements } from "./names.ts";
import type { ChatMessage, CompletionChoice, TokenUsage } from "../providers/types.ts";

/** How a call's status is stored in call_records (the view `calls` shows the words). */
export const CALL_STATUS = { sent: 0, completed: 1, failed: 2, interrupted: 3 } as const;

export interface CallStart {
  runId: number;
  requestKey: string;
  study: string;
  model: string;
  wave: string;
  respondent: string;
  item: string;
  generation: number;
  n: number;
  attempt: number;
  try: number;
  system: string;
  messages: ChatMessage[];
  parameters: Record<string, unknown>;
  reservedUsd: number;
  startedAt: StoreTime;
  /** The batch (batches.id) this call is sent in; absent for a synchronous call. */
  batchId?: number | undefined;
}

/** How one choice of a response was read (src/generation/parse.ts). */
export interface ParsedChoice {
  status: "answered" | "invalid" | "refusal";
  value?: number;
  reason?: string;
}

export interface CallCompletion {
  choices: CompletionChoice[];
  parsed: ParsedChoice[];
  usage: TokenUsage;
  costUsd: number;
  latencyMs: number;
  finishedAt: StoreTime;
  requestId?: string | undefined;
  vendorModel?: string | undefined;
}

export interface CallFailure {
  errorClass: string;
  /** Already redacted by the caller. */
  errorMessage: string;
  httpStatus?: number | undefined;
  latencyMs: number;
  finishedAt: StoreTime;
  /** Null when unknown whether the vendor billed it (timeouts, resets, bad bodies). */
  costUsd: number | null;
  /** What the vendor billed, when its reply said so though it could not be used (`choices: []` with usage). */
  usage?: TokenUsage | undefined;
}

/** A call waiting in a vendor batch: its result arrives when the batch is collected. */
export interface BatchedCall {
  id: number;
  requestKey: string;
  batchId: number;
  model: string;
  n: number;
  attempt: number;
  try: number;
  reservedUsd: number;
}

/**
 * A request as the cache looks it up: its key and the cell it asks (the key
 * is a digest of the cell among the rest; the index is by cell).
 */
export interface CachedRequest {
  key: string;
  model: string;
  wave: string;
  respondent: string;
  item: string;
}

/** A completed call found by its request key: what the cache returns. */
export interface StoredCall {
  id: number;
  choices: CompletionChoice[];
}

interface StoredChoice {
  text: string;
  refusal?: string | null;
  finish_reason: string;
  top_logprobs?: { token: string; logprob: number }[] | null;
}

export function prepareCalls(db: DatabaseSync, names: NameStatements = prepareNames(db)) {
  const insert = db.prepare(`INSERT INTO call_records (run_id, request_key, study_id, model_id, wave_id, respondent_id, item_id,
      generation, n, attempt, try, system_prompt_id, messages_id, parameters_id, status, reserved_usd, started_at, batch_id)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ${CALL_STATUS.sent}, ?, ?, ?)`);
  const texts = prepareTexts(db);
  const responses = prepareResponses(db);
  const complete = db.prepare(`UPDATE call_records SET status = ${CALL_STATUS.completed}, response_id = ?,
      input_tokens = ?, output_tokens = ?, cached_input_tokens = ?, cache_write_tokens = ?, cost_usd = ?,
      latency_ms = ?, finished_at = ?, vendor_request_id = ?, vendor_model_id = ?
    WHERE id = ?`);
  const fail = db.prepare(`UPDATE call_records SET status = ${CALL_STATUS.failed}, error_class = ?, error_message = ?, http_status = ?,
      latency_ms = ?, finished_at = ?, cost_usd = ?, input_tokens = ?, output_tokens = ?, cached_input_tokens = ?,
      cache_write_tokens = ? WHERE id = ?`);
  // The cache's index is by cell (store schema 5): the queries name the cell's ids and the status, then compare the key.
  const byRequest = db.prepare(`SELECT c.id, r.choices FROM call_records c JOIN responses r ON r.id = c.response_id
    WHERE c.respondent_id = ? AND c.item_id = ? AND c.wave_id = ? AND c.model_id = ? AND c.status = ${CALL_STATUS.completed} AND c.request_key = ?
    ORDER BY c.id LIMIT 1`);
  // Requests as JSON [key, respondent id, item id, wave id, model id]: keys stored as bytes (see keyToStore) unhexed by SQLite, the others compared as they are.
  const byRequests = (stored: string) =>
    db.prepare(`SELECT j.value ->> 0 AS key, c.id, r.choices FROM json_each(?) j
      JOIN call_records c ON c.respondent_id = j.value ->> 1 AND c.item_id = j.value ->> 2 AND c.wave_id = j.value ->> 3
        AND c.model_id = j.value ->> 4 AND c.status = ${CALL_STATUS.completed} AND c.request_key = ${stored}
      JOIN responses r ON r.id = c.response_id`);
  const byHexRequests = byRequests("unhex(j.value ->> 0)");
  const byTextRequests = byRequests("j.value ->> 0");
  /** The request's cell as stored ids; undefined when a name was never stored (then nothing was asked of it). */
  const cellIds = (request: CachedRequest): [number, number, number, number] | undefined => {
    const ids = [names.find(request.respondent), names.find(request.item), names.find(request.wave), names.find(request.model)];
    return ids.every((id) => id !== undefined) ? (ids as [number, number, number, number]) : undefined;
  };
  const waiting = `SELECT c.id, c.request_key, c.batch_id, m.name AS model, c.n, c.attempt, c.try, c.reserved_usd
    FROM call_records c JOIN names m ON m.id = c.model_id`;
  const inBatches = db.prepare(`${waiting} JOIN batches b ON b.id = c.batch_id
    WHERE c.status = ${CALL_STATUS.sent} AND b.status IN ('submitting', 'submitted') ORDER BY c.id`);
  const ofBatch = db.prepare(`${waiting} WHERE c.batch_id = ? AND c.status = ${CALL_STATUS.sent} ORDER BY c.id`);

  return {
    insert(call: CallStart): number {
      const result = insert.run(
        call.runId,
        keyToStore(call.requestKey),
        names.idOf(call.study),
        names.idOf(call.model),
        names.idOf(call.wave),
        names.idOf(call.respondent),
        names.idOf(call.item),
        call.generation,
        call.n,
        call.attempt,
        call.try,
        texts.idOf(call.system),
        texts.idOf(JSON.stringify(call.messages)),
        texts.idOf(JSON.stringify(call.parameters)),
        call.reservedUsd,
        timeToStore(call.startedAt),
        call.batchId ?? null,
      );
      return Number(result.lastInsertRowid);
    },

    complete(id: number, done: CallCompletion): void {
      complete.run(
        responses.idOf(JSON.stringify(done.choices.map(toStoredChoice)), JSON.stringify(done.parsed)),
        done.usage.inputTokens,
        done.usage.outputTokens,
        done.usage.cachedInputTokens,
        done.usage.cacheWriteTokens,
        done.costUsd,
        done.latencyMs,
        timeToStore(done.finishedAt),
        done.requestId ?? null,
        done.vendorModel === undefined ? null : names.idOf(done.vendorModel),
        id,
      );
    },

    fail(id: number, failure: CallFailure): void {
      fail.run(
        failure.errorClass,
        failure.errorMessage,
        failure.httpStatus ?? null,
        failure.latencyMs,
        timeToStore(failure.finishedAt),
        failure.costUsd,
        failure.usage?.inputTokens ?? null,
        failure.usage?.outputTokens ?? null,
        failure.usage?.cachedInputTokens ?? null,
        failure.usage?.cacheWriteTokens ?? null,
        id,
      );
    },

    /** Calls still waiting in a batch that is not yet collected (every model). */
    waitingInBatches(): BatchedCall[] {
      return (inBatches.all() as Record<string, unknown>[]).map(toBatchedCall);
    },

    /** The calls of one batch still waiting for their result. */
    waitingIn(batchId: number): BatchedCall[] {
      return (ofBatch.all(batchId) as Record<string, unknown>[]).map(toBatchedCall);
    },

    /** The first completed call of `request` (its key, in its cell). */
    findCompleted(request: CachedRequest): StoredCall | undefined {
      const ids = cellIds(request);
      if (ids === undefined) return undefined;
      const row = byRequest.get(...ids, keyToStore(request.key)) as { id: number; choices: string } | undefined;
      if (row === undefined) return undefined;
      return { id: row.id, choices: (JSON.parse(row.choices) as StoredChoice[]).map(fromStoredChoice) };
    },

    /** The completed calls of many requests, by key (each the first completed call of its key, as findCompleted): one query per KEYS_PER_QUERY requests. */
    findCompletedMany(requests: readonly CachedRequest[]): Map<string, StoredCall> {
      const found = new Map<string, { id: number; choices: string }>();
      const hex: unknown[][] = [];
      const text: unknown[][] = [];
      for (const request of requests) {
        const ids = cellIds(request);
        if (ids !== undefined) (isStoredAsBytes(request.key) ? hex : text).push([request.key, ...ids]);
      }
      for (const [statement, rows] of [[byHexRequests, hex], [byTextRequests, text]] as const) {
        for (let from = 0; from < rows.length; from += KEYS_PER_QUERY) {
          for (const row of statement.all(JSON.stringify(rows.slice(from, from + KEYS_PER_QUERY))) as { key: string; id: number; choices: string }[]) {
            const first = found.get(row.key);
            if (first === undefined || row.id < first.id) found.set(row.key, row);
          }
        }
      }
      return new Map([...found].map(([key, row]) => [key, { id: row.id, choices: (JSON.parse(row.choices) as StoredChoice[]).map(fromStoredChoice) }]));
    },
  };
}

const KEYS_PER_QUERY = 1000;

export type CallStatements = ReturnType<typeof prepareCalls>;

function toBatchedCall(row: Record<string, unknown>): BatchedCall {
  return {
    id: Number(row.id),
    requestKey: keyFromStore(row.request_key),
    batchId: Number(row.batch_id),
    model: String(row.model),
    n: Number(row.n),
    attempt: Number(row.attempt),
    try: Number(row.try),
    reservedUsd: Number(row.reserved_usd),
  };
}

/** A choice as stored: what is absent is left out (read back as absent), not written as null. */
function toStoredChoice(choice: CompletionChoice): StoredChoice {
  const stored: StoredChoice = { text: choice.text, finish_reason: choice.finishReason };
  if (choice.refusal !== undefined) stored.refusal = choice.refusal;
  if (choice.topLogprobs !== undefined) stored.top_logprobs = choice.topLogprobs;
  return stored;
}

/** Distinct texts remembered by id at most, before the memory starts afresh (the table still finds them). */
const REMEMBERED_TEXTS = 20_000;

/**
 * The `texts` table: each distinct long text (a persona, a conversation, the
 * parameters) once, referred to by id, found by its digest. Ids of recent texts are remembered,
 * so a persona asked many items is looked up once.
 */
function prepareTexts(db: DatabaseSync) {
  const find = db.prepare("SELECT id FROM texts WHERE digest = ? AND text = ?");
  const add = db.prepare("INSERT INTO texts (text, digest) VALUES (?, ?)");
  let known = new Map<string, number>();
  // A rolled-back insert's id is handed out again: what was remembered may be wrong.
  onRollback(db, () => (known = new Map()));
  return {
    idOf(text: string): number {
      const remembered = known.get(text);
      if (remembered !== undefined) return remembered;
      const digest = textDigest(text);
      const row = find.get(digest, text) as { id: number } | undefined;
      const id = row?.id ?? Number(add.run(text, digest).lastInsertRowid);
      if (known.size >= REMEMBERED_TEXTS) known = new Map();
      known.set(text, id);
      return id;
    },
  };
}

/** Distinct responses remembered at most, before the memory starts afresh. */
const REMEMBERED_RESPONSES = 20_000;

/**
 * The `responses` table: what a completed call's response said (its choices)
 * and how each choice was read. A short structured answer ({"answer":3})
 * repeats across thousands of calls: each distinct pair this writer has
 * seen recently is stored once. (Not looked up in the table: a pair stored
 * twice costs a row, never a wrong answer.)
 */
function prepareResponses(db: DatabaseSync) {
  const add = db.prepare("INSERT INTO responses (choices, parsed) VALUES (?, ?)");
  let known = new Map<string, number>();
  onRollback(db, () => (known = new Map()));
  return {
    idOf(choices: string, parsed: string): number {
      const content = `${choices}\n${parsed}`;
      const remembered = known.get(content);
      if (remembered !== undefined) return remembered;
      const id = Number(add.run(choices, parsed).lastInsertRowid);
      if (known.size >= REMEMBERED_RESPONSES) known = new Map();
      known.set(content, id);
      return id;
    },
  };
}

function fromStoredChoice(stored: StoredChoice): CompletionChoice {
  const choice: CompletionChoice = { text: stored.text, finishReason: stored.finish_reason };
  if (stored.refusal != null) choice.refusal = stored.refusal;
  if (stored.top_logprobs != null) choice.topLogprobs = stored.top_logprobs;
  return choice;
}
