/**
 * Writes queued in one turn of the event loop share one transaction, and the
 * answers' version (what exports compare) moves once per transaction that
 * writes answers: a group of many moves it once, every later write again.
 */
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { GroupCommit } from "../../src/store/group-commit.ts";
import type { AnswerRow } from "../../src/store/answers.ts";
import { openTransaction, transaction } from "../../src/store/db.ts";
import { Store } from "../../src/store/store.ts";
import { callStart as call } from "../helpers/call-start.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir();
const run = { startedAt: "2025-01-01T00:00:00.000Z", pid: 1, argv: ["generate"], models: ["openai:m"], options: {}, plannedCells: 4 };

function answer(runId: number, respondent: string): AnswerRow {
  return {
    model: "openai:m",
    wave: "w1",
    respondent,
    item: "q",
    generation: 1,
    cellKey: `cell-${respondent}`,
    value: 1,
    distribution: null,
    status: "answered",
    reason: null,
    transient: false,
    attempts: 1,
    callId: null,
    runId,
    createdAt: "2025-01-01T00:00:02.000Z",
  };
}

const countOf = (store: Store) => (store.db.prepare("SELECT count(*) AS n FROM answers").get() as { n: number }).n;

describe("group commits", () => {
  it("commit what is queued in one turn together, and resolve once it is committed", async () => {
    const store = await Store.open(tempDir(), { study: "s" });
    const runId = store.startRun(run);
    const ids = await Promise.all(["k1", "k2", "k3"].map((key) => store.commitSent(call(runId, key))));
    expect(new Set(ids).size).toBe(3);
    const rows = store.db.prepare("SELECT count(*) AS n FROM calls WHERE status = 'sent'").get() as { n: number };
    expect(rows.n).toBe(3);
    store.close();
  });

  it("move the answers' version once for a group of answer writes, and again for each later one", async () => {
    const store = await Store.open(tempDir(), { study: "s" });
    const runId = store.startRun(run);
    const start = store.answersVersion();
    await Promise.all(["r1", "r2", "r3"].map((r) => store.commitAnswers([answer(runId, r)])));
    expect(countOf(store)).toBe(3);
    expect(store.answersVersion()).toBe(start + 1);
    await store.commitAnswers([answer(runId, "r4")]);
    expect(store.answersVersion()).toBe(start + 2);
    const callId = store.recordSent(call(runId, "k"));
    store.recordCompleted(callId, { choices: [{ text: "1", finishReason: "stop" }], parsed: [], usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, cacheWriteTokens: 0 }, costUsd: 0, latencyMs: 1, finishedAt: "2025-01-01T00:00:03.000Z" }, [answer(runId, "r5")]);
    expect(store.answersVersion()).toBe(start + 3);
    store.close();
  });

  it("roll a failing group back whole, version included; the next write moves the version", async () => {
    const store = await Store.open(tempDir(), { study: "s" });
    const runId = store.startRun(run);
    const start = store.answersVersion();
    const good = store.commitAnswers([answer(runId, "r1")]);
    const bad = store.commitAnswers([{ ...answer(runId, "r2"), status: "not a status" as AnswerRow["status"] }]);
    await expect(good).rejects.toThrow();
    await expect(bad).rejects.toThrow();
    expect(countOf(store)).toBe(0);
    expect(store.answersVersion()).toBe(start);
    await store.commitAnswers([answer(runId, "r3")]);
    expect(store.answersVersion()).toBe(start + 1);
    store.close();
  });
});

describe("GroupCommit", () => {
  const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

  it("keeps a group open one turn of the event loop more: writes of that turn join it", async () => {
    const db = new DatabaseSync(":memory:");
    db.exec("CREATE TABLE t (x INTEGER)");
    const group = new GroupCommit(db);
    const insert = db.prepare("INSERT INTO t (x) VALUES (?)");
    const first = group.enqueue(() => insert.run(1));
    await nextTurn();
    const second = group.enqueue(() => insert.run(2));
    await Promise.all([first, second]);
    expect(group.commits).toBe(1);
    // Nothing resolves before its group has committed.
    expect((db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n).toBe(2);
    db.close();
  });

  it("settles once everything queued before is committed", async () => {
    const db = new DatabaseSync(":memory:");
    db.exec("CREATE TABLE t (x INTEGER)");
    const group = new GroupCommit(db);
    const insert = db.prepare("INSERT INTO t (x) VALUES (?)");
    void group.enqueue(() => insert.run(1));
    await group.settled();
    expect(db.isTransaction).toBe(false);
    expect((db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n).toBe(1);
    db.close();
  });

  it("commits at once when the queue is full, and on flush", async () => {
    const db = new DatabaseSync(":memory:");
    db.exec("CREATE TABLE t (x INTEGER)");
    const group = new GroupCommit(db, 3);
    const insert = db.prepare("INSERT INTO t (x) VALUES (?)");
    const full = [1, 2, 3].map((x) => group.enqueue(() => insert.run(x)));
    expect(group.commits).toBe(1);
    const last = group.enqueue(() => insert.run(4));
    group.flush();
    expect(group.commits).toBe(2);
    await Promise.all([...full, last]);
    await nextTurn();
    await nextTurn();
    expect(group.commits).toBe(2);
    db.close();
  });
});

describe("openTransaction", () => {
  it("names the open transaction, another for each, and none outside one", async () => {
    const store = await Store.open(tempDir(), { study: "s" });
    expect(openTransaction(store.db)).toBeUndefined();
    const first = transaction(store.db, () => openTransaction(store.db));
    const second = transaction(store.db, () => openTransaction(store.db));
    expect(first).toBeDefined();
    expect(second).not.toBe(first);
    store.close();
  });
});
