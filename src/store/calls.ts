/** The `calls` table: one row per API call attempt, written when sent and when answered. */
import type { DatabaseSync } from "node:sqlite";
import { onRollback } from "./db.ts";
import type { ChatMessage, CompletionChoice, TokenUsage } from "../providers/types.ts";

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
  startedAt: string;
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
  finishedAt: string;
  requestId?: string | undefined;
  vendorModel?: string | undefined;
}

export interface CallFailure {
  errorClass: string;
  /** Already redacted by the caller. */
  errorMessage: string;
  httpStatus?: number | undefined;
  latencyMs: number;
  finishedAt: string;
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

export function prepareCalls(db: DatabaseSync) {
  const insert = db.prepare(`INSERT INTO calls (run_id, request_key, study, model, wave, respondent, item,
      generation, n, attempt, try, system_prompt_id, messages_id, parameters_id, status, reserved_usd, started_at, batch_id)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'sent', ?, ?, ?)`);
  const texts = prepareTexts(db);
  const complete = db.prepare(`UPDATE calls SET status = 'completed', raw_text = ?, choices = ?, parsed = ?,
      input_tokens = ?, output_tokens = ?, cached_input_tokens = ?, cache_write_tokens = ?, cost_usd = ?,
      latency_ms = ?, finished_at = ?, vendor_request_id = ?, vendor_model = ?
    WHERE id = ?`);
  const fail = db.prepare(`UPDATE calls SET status = 'failed', error_class = ?, error_message = ?, http_status = ?,
      latency_ms = ?, finished_at = ?, cost_usd = ?, input_tokens = ?, output_tokens = ?, cached_input_tokens = ?,
      cache_write_tokens = ? WHERE id = ?`);
  const byKey = db.prepare(
    "SELECT id, choices FROM calls WHERE request_key = ? AND status = 'completed' ORDER BY id LIMIT 1",
  );
  // The bare column `choices` comes from the row of min(id): the first completed call of each key, as byKey.
  const byKeys = db.prepare(`SELECT request_key, min(id) AS id, choices FROM calls
    WHERE status = 'completed' AND request_key IN (SELECT value FROM json_each(?)) GROUP BY request_key`);
  const inBatches = db.prepare(`SELECT c.id, c.request_key, c.batch_id, c.model, c.n, c.attempt, c.try, c.reserved_usd
    FROM calls c JOIN batches b ON b.id = c.batch_id
    WHERE c.status = 'sent' AND b.status IN ('submitting', 'submitted') ORDER BY c.id`);
  const ofBatch = db.prepare(`SELECT id, request_key, batch_id, model, n, attempt, try, reserved_usd
    FROM calls WHERE batch_id = ? AND status = 'sent' ORDER BY id`);

  return {
    insert(call: CallStart): number {
      const result = insert.run(
        call.runId,
        call.requestKey,
        call.study,
        call.model,
        call.wave,
        call.respondent,
        call.item,
        call.generation,
        call.n,
        call.attempt,
        call.try,
        texts.idOf(call.system),
        texts.idOf(JSON.stringify(call.messages)),
        texts.idOf(JSON.stringify(call.parameters)),
        call.reservedUsd,
        call.startedAt,
        call.batchId ?? null,
      );
      return Number(result.lastInsertRowid);
    },

    complete(id: number, done: CallCompletion): void {
      const texts = done.choices.map((c) => c.text);
      complete.run(
        texts.length === 1 ? texts[0]! : JSON.stringify(texts),
        JSON.stringify(done.choices.map(toStoredChoice)),
        JSON.stringify(done.parsed),
        done.usage.inputTokens,
        done.usage.outputTokens,
        done.usage.cachedInputTokens,
        done.usage.cacheWriteTokens,
        done.costUsd,
        done.latencyMs,
        done.finishedAt,
        done.requestId ?? null,
        done.vendorModel ?? null,
        id,
      );
    },

    fail(id: number, failure: CallFailure): void {
      fail.run(
        failure.errorClass,
        failure.errorMessage,
        failure.httpStatus ?? null,
        failure.latencyMs,
        failure.finishedAt,
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
      return (inBatches.all() as Record<string, string | number>[]).map(toBatchedCall);
    },

    /** The calls of one batch still waiting for their result. */
    waitingIn(batchId: number): BatchedCall[] {
      return (ofBatch.all(batchId) as Record<string, string | number>[]).map(toBatchedCall);
    },

    findCompleted(requestKey: string): StoredCall | undefined {
      const row = byKey.get(requestKey) as { id: number; choices: string } | undefined;
      if (row === undefined) return undefined;
      return { id: row.id, choices: (JSON.parse(row.choices) as StoredChoice[]).map(fromStoredChoice) };
    },

    /** The completed calls of many keys: one query per KEYS_PER_QUERY keys. */
    findCompletedMany(requestKeys: readonly string[]): Map<string, StoredCall> {
      const found = new Map<string, StoredCall>();
      for (let from = 0; from < requestKeys.length; from += KEYS_PER_QUERY) {
        const rows = byKeys.all(JSON.stringify(requestKeys.slice(from, from + KEYS_PER_QUERY))) as { request_key: string; id: number; choices: string }[];
        for (const row of rows) found.set(row.request_key, { id: row.id, choices: (JSON.parse(row.choices) as StoredChoice[]).map(fromStoredChoice) });
      }
      return found;
    },
  };
}

const KEYS_PER_QUERY = 1000;

export type CallStatements = ReturnType<typeof prepareCalls>;

function toBatchedCall(row: Record<string, string | number>): BatchedCall {
  return {
    id: Number(row.id),
    requestKey: String(row.request_key),
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
 * parameters) once, referred to by id. Ids of recent texts are remembered,
 * so a persona asked many items is looked up once.
 */
function prepareTexts(db: DatabaseSync) {
  const find = db.prepare("SELECT id FROM texts WHERE text = ?");
  const add = db.prepare("INSERT INTO texts (text) VALUES (?)");
  let known = new Map<string, number>();
  // A rolled-back insert's id is handed out again: what was remembered may be wrong.
  onRollback(db, () => (known = new Map()));
  return {
    idOf(text: string): number {
      const remembered = known.get(text);
      if (remembered !== undefined) return remembered;
      const row = find.get(text) as { id: number } | undefined;
      const id = row?.id ?? Number(add.run(text).lastInsertRowid);
      if (known.size >= REMEMBERED_TEXTS) known = new Map();
      known.set(text, id);
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
