import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { StoreError } from "../../src/errors.ts";
import type { AnswerRow } from "../../src/store/answers.ts";
import { migrate, migrations, schemaVersion } from "../../src/store/db.ts";
import { openStoreReadOnly, Store, storePath } from "../../src/store/store.ts";
import { cachedRequest, callStart as call } from "../helpers/call-start.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir();

const run = { startedAt: "2025-01-01T00:00:00.000Z", pid: 1, argv: ["generate"], models: ["openai:m"], options: {}, plannedCells: 2 };

function answer(runId: number, callId: number, overrides: Partial<AnswerRow> = {}): AnswerRow {
  return {
    model: "openai:m",
    wave: "w1",
    respondent: "r1",
    item: "q",
    generation: 1,
    cellKey: "cell-1",
    value: 3,
    distribution: null,
    status: "answered",
    reason: null,
    transient: false,
    attempts: 1,
    callId,
    runId,
    createdAt: "2025-01-01T00:00:02.000Z",
    ...overrides,
  };
}

const usage = { inputTokens: 100, outputTokens: 5, cachedInputTokens: 0, cacheWriteTokens: 0 };

describe("Store", () => {
  it("creates the schema at the latest version in WAL mode", async () => {
    const dir = tempDir();
    const store = await Store.open(dir, { study: "s" });
    expect(schemaVersion(store.db)).toBe(migrations().at(-1)!.version);
    expect((store.db.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode).toBe("wal");
    store.close();
  });

  it("stores each persona, conversation and parameter text once, and reads calls back with them in place", async () => {
    const dir = tempDir();
    const store = await Store.open(dir, { study: "s" });
    const runId = store.startRun(run);
    const persona = "You are respondent r1. ".repeat(40);
    for (const item of ["q1", "q2", "q3"]) store.recordSent(call(runId, `k-${item}`, { item, system: persona }));
    const texts = store.db.prepare("SELECT text FROM texts").all() as { text: string }[];
    expect(texts.filter((t) => t.text === persona)).toHaveLength(1);
    const calls = store.db.prepare("SELECT item, system_prompt, messages, parameters FROM calls_with_texts ORDER BY id").all() as Record<string, string>[];
    expect(calls.map((c) => [c.item, c.system_prompt])).toEqual([["q1", persona], ["q2", persona], ["q3", persona]]);
    expect(JSON.parse(calls[0]!.messages!)).toEqual(call(runId, "k").messages);
    store.close();
  });

  it("upgrades a schema-2 store to texts stored once, keeping every call's texts", async () => {
    const dir = tempDir();
    const path = storePath(dir);
    const db = new DatabaseSync(path);
    migrate(db, path, migrations().slice(0, 2));
    db.exec(`INSERT INTO runs (id, started_at, status, pid, argv, models, options) VALUES (1, 't', 'completed', 1, '[]', '[]', '{}')`);
    const insert = db.prepare(`INSERT INTO calls (run_id, request_key, study, model, wave, respondent, item, generation, n, attempt, try,
      system_prompt, messages, parameters, status, reserved_usd, started_at) VALUES (1, ?, 's', 'm', 'w', 'r1', ?, 1, 1, 1, 1, ?, ?, '{"n":1}', 'completed', 0, 't')`);
    insert.run("k1", "q1", "persona of r1", '[{"role":"user","content":"q1?"}]');
    insert.run("k2", "q2", "persona of r1", '[{"role":"user","content":"q2?"}]');
    db.close();
    const store = await Store.open(dir, { study: "s" });
    expect(schemaVersion(store.db)).toBe(migrations().at(-1)!.version);
    const rows = store.db.prepare("SELECT request_key, system_prompt, messages, parameters FROM calls_with_texts ORDER BY id").all();
    expect(rows).toEqual([
      { request_key: "k1", system_prompt: "persona of r1", messages: '[{"role":"user","content":"q1?"}]', parameters: '{"n":1}' },
      { request_key: "k2", system_prompt: "persona of r1", messages: '[{"role":"user","content":"q2?"}]', parameters: '{"n":1}' },
    ]);
    expect((store.db.prepare("SELECT count(*) AS n FROM texts").get() as { n: number }).n).toBe(4);
    const columns = (store.db.prepare("PRAGMA table_info(calls)").all() as { name: string }[]).map((c) => c.name);
    expect(columns).not.toContain("system_prompt");
    store.close();
  });

  it("refuses a store written by a newer silicon", async () => {
    const dir = tempDir();
    (await Store.open(dir, { study: "s" })).close();
    const db = new DatabaseSync(storePath(dir));
    db.exec("PRAGMA user_version = 99");
    db.close();
    await expect(Store.open(dir, { study: "s" })).rejects.toThrow(
      `${storePath(dir)}: written by a newer silicon (store schema version 99; this version knows up to ${migrations().at(-1)!.version}); upgrade silicon, or use another --results folder`,
    );
    expect(() => openStoreReadOnly(dir)).toThrow(StoreError);
  });

  it("looks the cache up through its index by cell (schema 5), one request or a thousand", async () => {
    const store = await Store.open(tempDir(), { study: "s" });
    const plans = [
      `SELECT c.id FROM call_records c WHERE c.respondent_id = 1 AND c.item_id = 2 AND c.wave_id = 3 AND c.model_id = 4 AND c.status = 1 AND c.request_key = x'00'`,
      `SELECT c.id FROM json_each('[]') j JOIN call_records c ON c.respondent_id = j.value ->> 1 AND c.item_id = j.value ->> 2
        AND c.wave_id = j.value ->> 3 AND c.model_id = j.value ->> 4 AND c.status = 1 AND c.request_key = unhex(j.value ->> 0)`,
    ].map((query) => (store.db.prepare(`EXPLAIN QUERY PLAN ${query}`).all() as { detail: string }[]).map((row) => row.detail).join("; "));
    for (const plan of plans) expect(plan).toContain("USING INDEX call_records_completed_by_cell");
    store.close();
  });

  it("stores a response with its answers and finds it by request key", async () => {
    const store = await Store.open(tempDir(), { study: "s" });
    const runId = store.startRun(run);
    const id = store.recordSent(call(runId, "key-1"));
    expect(store.findCompleted(cachedRequest("key-1"))).toBeUndefined(); // sent is not completed
    store.recordCompleted(
      id,
      {
        choices: [{ text: '{"answer":3}', finishReason: "stop" }],
        parsed: [{ status: "answered", value: 3 }],
        usage,
        costUsd: 0.00012,
        latencyMs: 12,
        finishedAt: "2025-01-01T00:00:02.000Z",
        requestId: "req_1",
      },
      [answer(runId, id)],
    );
    expect(store.findCompleted(cachedRequest("key-1"))).toEqual({ id, choices: [{ text: '{"answer":3}', finishReason: "stop" }] });
    expect([...store.allAnswers()]).toEqual([{ ...answer(runId, id), nonOptionMass: null }]);
    const row = store.db.prepare("SELECT status, raw_text, vendor_request_id, cost_usd FROM calls WHERE id = ?").get(id);
    expect(row).toEqual({ status: "completed", raw_text: '{"answer":3}', vendor_request_id: "req_1", cost_usd: 0.00012 });
    expect(store.cellStates().get("openai:m\u0000w1\u0000r1\u0000q\u00001")).toEqual({ cellKey: "cell-1", transient: false });
    store.close();
  });

  it("marks what a killed run left in flight as interrupted and counts its worst case as spent", async () => {
    const dir = tempDir();
    const first = await Store.open(dir, { study: "s" });
    const runId = first.startRun(run);
    first.recordSent(call(runId, "in-flight-1", { reservedUsd: 0.25 }));
    first.recordSent(call(runId, "in-flight-2", { reservedUsd: 0.5 }));
    const done = first.recordSent(call(runId, "done", { reservedUsd: 0.5 }));
    first.recordCompleted(done, { choices: [], parsed: [], usage, costUsd: 0.125, latencyMs: 1, finishedAt: "t" }, []);
    first.close(); // as if killed: the run stays 'running'
    const second = await Store.open(dir, { study: "s" });
    expect(second.interrupted).toEqual({ runs: [runId], calls: 2, reservedUsd: 0.75 });
    expect(second.spentUsd()).toBeCloseTo(0.875, 12);
    const statuses = second.db.prepare("SELECT status FROM calls ORDER BY id").all().map((r) => (r as { status: string }).status);
    expect(statuses).toEqual(["interrupted", "interrupted", "completed"]);
    expect(second.db.prepare("SELECT status FROM runs").get()).toEqual({ status: "interrupted" });
    second.close();
  });

  it("lets readers read while the writer holds the store", async () => {
    const dir = tempDir();
    const store = await Store.open(dir, { study: "s" });
    const runId = store.startRun(run);
    store.writeAnswers([answer(runId, null as unknown as number, { callId: null })]);
    const reader = openStoreReadOnly(dir)!;
    expect([...reader.allAnswers()]).toHaveLength(1);
    reader.close();
    store.close();
    expect(openStoreReadOnly(tempDir())).toBeUndefined();
  });
});

describe("the writer lock", () => {
  it("refuses a second writer with a message naming the holder", async () => {
    const dir = tempDir();
    const first = await Store.open(dir, { study: "s" });
    const attempt = Store.open(dir, { study: "s" });
    await expect(attempt).rejects.toThrow(StoreError);
    await expect(attempt).rejects.toThrow(
      new RegExp(`^${storePath(dir).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is in use by silicon generate \\(pid ${process.pid} on .+, since .+\\); wait for it to finish \\(or stop it\\), or pass --wait to queue behind it$`),
    );
    first.close();
    (await Store.open(dir, { study: "s" })).close();
  });

  it("waits for the first writer when asked to", async () => {
    const dir = tempDir();
    const first = await Store.open(dir, { study: "s" });
    const told: string[] = [];
    setTimeout(() => first.close(), 150);
    const second = await Store.open(dir, { study: "s", lockWaitMs: 5_000, onLockWait: (h) => told.push(String(h?.pid)) });
    expect(told).toEqual([String(process.pid)]);
    second.close();
  });

  it("is released when the holding process is killed with SIGKILL", async () => {
    const dir = tempDir();
    const path = storePath(dir);
    const script = `
      const { acquireStoreLock } = await import(${JSON.stringify(new URL("../../src/store/lock.ts", import.meta.url).href)});
      await acquireStoreLock(${JSON.stringify(path)});
      process.stdout.write("locked\\n");
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve) => child.stdout.on("data", (d: Buffer) => d.toString().includes("locked") && resolve()));
    await expect(Store.open(dir, { study: "s" })).rejects.toThrow(`pid ${child.pid}`);
    child.kill("SIGKILL");
    await new Promise((resolve) => child.on("exit", resolve));
    const store = await Store.open(dir, { study: "s" });
    expect(existsSync(join(dir, "store.sqlite"))).toBe(true);
    store.close();
  });
});
