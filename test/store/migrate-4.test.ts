/**
 * Store schema 4 (compact rows): a store written by silicon at schema 3
 * (test/fixtures/store/schema-3.sql, written through the Store of that
 * version) is upgraded in place and reads back exactly as before, through
 * the views and through the Store; and what schema 4 writes is compact.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import type { AnswerRow } from "../../src/store/answers.ts";
import { migrate, migrations, schemaVersion } from "../../src/store/db.ts";
import { openStoreReadOnly, Store, storePath } from "../../src/store/store.ts";
import { cachedRequest, callStart } from "../helpers/call-start.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir();
const FIXTURE = readFileSync(new URL("../fixtures/store/schema-3.sql", import.meta.url), "utf8");
const key = (text: string) => createHash("sha256").update(text).digest("hex");

type Row = Record<string, unknown>;

/** A folder holding the schema-3 fixture as its store. */
function schema3Store(): { dir: string; path: string } {
  const dir = tempDir();
  const path = storePath(dir);
  const db = new DatabaseSync(path);
  db.exec(FIXTURE);
  db.exec("PRAGMA user_version = 3");
  db.close();
  return { dir, path };
}

/** Schema 3's spentUsd, as it read the calls table (now the view). */
const SPENT = `SELECT coalesce(sum(CASE WHEN cost_usd IS NOT NULL THEN cost_usd
  WHEN status IN ('interrupted', 'failed') THEN reserved_usd WHEN status = 'sent' AND batch_id IS NOT NULL THEN reserved_usd
  ELSE 0 END), 0) AS spent FROM calls`;

function snapshot(db: DatabaseSync): { calls: Row[]; answers: Row[]; spent: number } {
  return {
    calls: db.prepare("SELECT * FROM calls_with_texts ORDER BY id").all() as Row[],
    answers: db.prepare("SELECT * FROM answers ORDER BY model, wave, respondent, item, generation").all() as Row[],
    spent: (db.prepare(SPENT).get() as { spent: number }).spent,
  };
}

function asAnswerRow(row: Row): AnswerRow {
  return {
    model: row.model as string,
    wave: row.wave as string,
    respondent: row.respondent as string,
    item: row.item as string,
    generation: row.generation as number,
    cellKey: row.cell_key as string,
    value: row.value as number | null,
    distribution: row.distribution as string | null,
    nonOptionMass: row.non_option_mass as number | null,
    status: row.status as AnswerRow["status"],
    reason: row.reason as string | null,
    transient: row.transient === 1,
    attempts: row.attempts as number,
    callId: row.call_id as number | null,
    runId: row.run_id as number,
    createdAt: row.created_at as string,
  };
}

describe("store schema 4 (and 5)", () => {
  it("upgrades a schema-3 store in place to the latest: every call and answer reads the same through the views", () => {
    const { path } = schema3Store();
    const db = new DatabaseSync(path);
    db.exec("PRAGMA foreign_keys = ON");
    const before = snapshot(db);
    expect(before.calls).toHaveLength(9);
    expect(before.answers).toHaveLength(8);
    migrate(db, path);
    expect(schemaVersion(db)).toBe(5);
    expect(snapshot(db)).toEqual(before);
    expect(db.prepare("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    expect(db.prepare("PRAGMA foreign_key_check").all()).toEqual([]);
    // Foreign keys are enforced again after the migration.
    expect(db.prepare("PRAGMA foreign_keys").get()).toEqual({ foreign_keys: 1 });
    // Calls "a" and "a2" got the same response: stored once.
    expect(db.prepare("SELECT count(*) AS n FROM responses").get()).toEqual({ n: 5 });
    db.close();
  });

  it("reads an upgraded store's answers, cache and batches through the Store as before, and writes on", async () => {
    const { dir, path } = schema3Store();
    const old = new DatabaseSync(path);
    const before = snapshot(old);
    old.close();

    const store = await Store.open(dir, { study: "fixture" });
    expect(schemaVersion(store.db)).toBe(migrations().at(-1)!.version);
    expect([...store.allAnswers()]).toEqual(before.answers.map(asAnswerRow));
    // The fixture's cells of calls a, b and d.
    const a = cachedRequest(key("a"), { model: "openai:gpt-4o-mini", respondent: "r1", item: "approve" });
    const b = cachedRequest(key("b"), { model: "simulated:biased", wave: "w2", respondent: "r2", item: "therm" });
    const d = cachedRequest(key("d"), { model: "openai:gpt-4o-mini", wave: "w2", respondent: "r3", item: "approve" });
    expect(store.findCompleted(a)).toEqual({
      id: 1,
      choices: [
        { text: '{"answer":1}', finishReason: "stop" },
        { text: '{"answer":0}', finishReason: "stop" },
      ],
    });
    const refused = store.findCompletedMany([b, cachedRequest(key("nothing"), { model: "simulated:biased" }), d]);
    expect([...refused.keys()]).toEqual(expect.arrayContaining([key("b"), key("d")]));
    expect(refused.get(key("b"))!.choices).toEqual([{ text: "", refusal: "I can't share political views.", finishReason: "stop" }]);
    expect(refused.get(key("d"))!.choices[0]!.topLogprobs).toEqual([
      { token: "1", logprob: -0.105 },
      { token: "0", logprob: -2.4 },
      { token: "I", logprob: -6 },
    ]);
    expect(store.waitingInBatches().map((c) => [c.requestKey, c.model, c.batchId])).toEqual([[key("e"), "openai:gpt-4o-mini", 1]]);
    // Run 2 was killed with call "f" on the wire: recovered as before, its worst case counted as spent.
    expect(store.interrupted).toEqual({ runs: [2], calls: 1, reservedUsd: 0.002 });
    expect(store.spentUsd()).toBeCloseTo(before.spent + 0.002, 12);
    expect(store.cellStates().get("simulated:biased\u0000w1\u0000r1\u0000approve\u00001")).toEqual({
      cellKey: key("cell simulated:biased w1 r1 approve 1"),
      transient: true,
    });

    const runId = store.startRun({ startedAt: "2025-03-03T00:00:00.000Z", pid: 3, argv: [], models: [], options: {}, plannedCells: 1 });
    const id = store.recordSent(callStart(runId, key("g"), { model: "simulated:biased", wave: "w1", respondent: "r1", item: "approve" }));
    store.recordCompleted(
      id,
      {
        choices: [{ text: '{"answer":1}', finishReason: "stop" }],
        parsed: [{ status: "answered", value: 1 }],
        usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, cacheWriteTokens: 0 },
        costUsd: 0,
        latencyMs: 1,
        finishedAt: "2025-03-03T00:00:01.000Z",
      },
      // The nonresponse left to ask again, answered now.
      [{ ...asAnswerRow(before.answers.find((a) => a.transient === 1)!), callId: id, runId, status: "answered", value: 1, reason: null, transient: false, attempts: 1 }],
    );
    store.close();
    const reader = openStoreReadOnly(dir)!;
    expect(reader.models()).toEqual(["openai:gpt-4o-mini", "simulated:biased"]);
    expect(reader.cellStates().get("simulated:biased\u0000w1\u0000r1\u0000approve\u00001")!.transient).toBe(false);
    expect(reader.findCompleted(cachedRequest(key("g"), { model: "simulated:biased", respondent: "r1", item: "approve" }))!.id).toBe(id);
    reader.close();
  });

  it("stores keys as 32 bytes, times as milliseconds and each name once", async () => {
    const store = await Store.open(tempDir(), { study: "s" });
    const runId = store.startRun({ startedAt: "2025-01-01T00:00:00.000Z", pid: 1, argv: [], models: [], options: {}, plannedCells: 1 });
    for (const item of ["q1", "q2"]) store.recordSent(callStart(runId, key(item), { item }));
    const rows = store.db
      .prepare("SELECT typeof(request_key) AS key, length(request_key) AS bytes, typeof(started_at) AS started, started_at AS ms FROM call_records")
      .all();
    expect(rows).toEqual([
      { key: "blob", bytes: 32, started: "integer", ms: Date.parse("2025-01-01T00:00:01.000Z") },
      { key: "blob", bytes: 32, started: "integer", ms: Date.parse("2025-01-01T00:00:01.000Z") },
    ]);
    expect((store.db.prepare("SELECT name FROM names ORDER BY id").all() as { name: string }[]).map((r) => r.name)).toEqual([
      "s",
      "openai:m",
      "w1",
      "r1",
      "q1",
      "q2",
    ]);
    expect(store.db.prepare("SELECT request_key, started_at FROM calls WHERE item = 'q2'").get()).toEqual({
      request_key: key("q2"),
      started_at: "2025-01-01T00:00:01.000Z",
    });
    store.close();
  });

  it("stores a response repeated by many calls once, and a persona once across runs", async () => {
    const dir = tempDir();
    const done = {
      choices: [{ text: '{"answer":3}', finishReason: "stop" }],
      parsed: [{ status: "answered" as const, value: 3 }],
      usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, cacheWriteTokens: 0 },
      costUsd: 0,
      latencyMs: 1,
      finishedAt: "2025-01-01T00:00:02.000Z",
    };
    for (const respondent of ["r1", "r2"]) {
      const store = await Store.open(dir, { study: "s" });
      const runId = store.startRun({ startedAt: "2025-01-01T00:00:00.000Z", pid: 1, argv: [], models: [], options: {}, plannedCells: 1 });
      for (const item of ["q1", "q2", "q3"]) {
        store.recordCompleted(store.recordSent(callStart(runId, key(respondent + item), { item, system: "The same persona." })), done, []);
      }
      store.close();
    }
    const reader = openStoreReadOnly(dir)!;
    expect(reader.db.prepare("SELECT count(*) AS n FROM texts WHERE text = 'The same persona.'").get()).toEqual({ n: 1 });
    // Once per writer: the second run's writer does not look earlier responses up.
    expect(reader.db.prepare("SELECT count(*) AS n FROM responses").get()).toEqual({ n: 2 });
    expect(reader.db.prepare("SELECT DISTINCT raw_text FROM calls").all()).toEqual([{ raw_text: '{"answer":3}' }]);
    reader.close();
  });

  it("reads answers in the order of their names (as SQLite orders text), whatever order the names were stored in", async () => {
    const dir = tempDir();
    const store = await Store.open(dir, { study: "s" });
    const runId = store.startRun({ startedAt: "2025-01-01T00:00:00.000Z", pid: 1, argv: [], models: [], options: {}, plannedCells: 1 });
    const cells: [string, string, string, number][] = [
      ["m2", "r2", "q1", 2],
      ["m2", "r10", "q2", 1],
      ["m1", "r2", "q1", 1],
      ["m2", "r2", "q1", 1],
      ["m1", "R3", "q2", 1],
      ["m1", "r10", "q1", 1],
      ["m1", "é", "q1", 1],
    ];
    store.writeAnswers(
      cells.map(([model, respondent, item, generation]) => ({
        model,
        wave: "w",
        respondent,
        item,
        generation,
        cellKey: key(model + respondent + item + generation),
        value: generation,
        distribution: null,
        status: "answered" as const,
        reason: null,
        transient: false,
        attempts: 1,
        callId: null,
        runId,
        createdAt: "2025-01-01T00:00:01.000Z",
      })),
    );
    const expected = [
      ["m1", "R3", "q2", 1],
      ["m1", "r10", "q1", 1],
      ["m1", "r2", "q1", 1],
      ["m1", "é", "q1", 1],
      ["m2", "r10", "q2", 1],
      ["m2", "r2", "q1", 1],
      ["m2", "r2", "q1", 2],
    ];
    expect([...store.allAnswers()].map((a) => [a.model, a.respondent, a.item, a.generation])).toEqual(expected);
    store.close();
    const reader = openStoreReadOnly(dir)!;
    const { names, rows } = reader.answerCells();
    expect(rows.map((row) => [names[row[0] as number], names[row[2] as number], names[row[3] as number], row[4]])).toEqual(expected);
    reader.close();
  });

  it("finds completed calls by many keys at once, stored as bytes or as text, the first completed call of a key", async () => {
    const store = await Store.open(tempDir(), { study: "s" });
    const runId = store.startRun({ startedAt: "2025-01-01T00:00:00.000Z", pid: 1, argv: [], models: [], options: {}, plannedCells: 1 });
    const done = (text: string) => ({
      choices: [{ text, finishReason: "stop" }],
      parsed: [{ status: "answered" as const, value: 1 }],
      usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, cacheWriteTokens: 0 },
      costUsd: 0,
      latencyMs: 1,
      finishedAt: "2025-01-01T00:00:02.000Z",
    });
    const first = store.recordSent(callStart(runId, key("a")));
    store.recordCompleted(first, done("first"), []);
    store.recordCompleted(store.recordSent(callStart(runId, key("a"), { try: 2 })), done("second"), []);
    const text = store.recordSent(callStart(runId, "not-hex"));
    store.recordCompleted(text, done("text"), []);
    store.recordSent(callStart(runId, key("sent only")));
    const found = store.findCompletedMany([key("a"), "not-hex", key("sent only"), key("never")].map((k) => cachedRequest(k)));
    expect(Object.fromEntries([...found].map(([k, call]) => [k, [call.id, call.choices[0]!.text]]))).toEqual({
      [key("a")]: [first, "first"],
      "not-hex": [text, "text"],
    });
    expect(store.findCompleted(cachedRequest(key("a")))!.id).toBe(first);
    // The same key in another cell is another request (a key is a digest of its cell): not found there.
    expect(store.findCompleted(cachedRequest(key("a"), { item: "other" }))).toBeUndefined();
    store.close();
  });
});
