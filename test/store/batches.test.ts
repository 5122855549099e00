/**
 * The store's side of vendor batches (migration 002): batch rows, calls that
 * outlive their run, what counts as spent, and an old store brought up to date.
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import type { CallStart } from "../../src/store/calls.ts";
import { migrate, migrations, schemaVersion } from "../../src/store/db.ts";
import { Store, storePath } from "../../src/store/store.ts";
import { callStart } from "../helpers/call-start.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir();

const run = { startedAt: "2025-01-01T00:00:00.000Z", pid: 1, argv: ["generate", "--batch"], models: ["openai:m"], options: {}, plannedCells: 2 };

/** A call whose respondent is its key, so each key is a cell of its own. */
function call(runId: number, key: string, reservedUsd: number): CallStart {
  return callStart(runId, key, { respondent: key, parameters: {}, reservedUsd });
}

describe("batches in the store", () => {
  it("keeps a killed run's batch calls waiting (not interrupted) and counts their worst case as committed", async () => {
    const dir = tempDir();
    const first = await Store.open(dir, { study: "s" });
    const runId = first.startRun(run);
    const { batchId, callIds } = first.startBatch({ runId, vendor: "openai", model: "openai:m", requests: 2, createdAt: "2025-01-01T00:00:01.000Z" }, [
      call(runId, "k1", 0.25),
      call(runId, "k2", 0.5),
    ]);
    first.batchSubmitted(batchId, "batch_abc", "file-1", "2025-01-01T00:00:02.000Z");
    first.recordSent(call(runId, "sync", 0.125));
    first.close(); // killed: the run stays 'running'

    const second = await Store.open(dir, { study: "s" });
    // Only the synchronous call was on the wire when the process died.
    expect(second.interrupted).toEqual({ runs: [runId], calls: 1, reservedUsd: 0.125 });
    expect(second.waitingInBatches().map((c) => [c.id, c.requestKey, c.batchId, c.reservedUsd])).toEqual([
      [callIds[0], "k1", batchId, 0.25],
      [callIds[1], "k2", batchId, 0.5],
    ]);
    expect(second.spentUsd()).toBeCloseTo(0.875, 12);
    expect(second.openBatches()).toMatchObject([{ id: batchId, status: "submitted", vendorBatchId: "batch_abc", inputFileId: "file-1", requests: 2 }]);

    second.batchPolled(batchId, { vendorStatus: "completed", requestCounts: { total: 2, completed: 2, failed: 0 }, polledAt: "t1", endedAt: "t0", outputFileId: "file-out" });
    expect(second.batch(batchId)).toMatchObject({ vendorStatus: "completed", requestCounts: { total: 2, completed: 2, failed: 0 }, outputFileId: "file-out", errorFileId: null, endedAt: "t0" });
    second.recordCompleted(callIds[0]!, { choices: [], parsed: [], usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, cacheWriteTokens: 0 }, costUsd: 0.01, latencyMs: 1, finishedAt: "t2" }, []);
    expect(second.waitingIn(batchId).map((c) => c.requestKey)).toEqual(["k2"]);
    second.loseBatch(batchId, "t3", "batch #1 lost: gone");
    expect(second.openBatches()).toEqual([]);
    expect(second.batch(batchId)).toMatchObject({ status: "lost", message: "batch #1 lost: gone", collectedAt: "t3" });
    const statuses = second.db.prepare("SELECT request_key, status FROM calls ORDER BY id").all();
    expect(statuses).toEqual([
      { request_key: "k1", status: "completed" },
      { request_key: "k2", status: "interrupted" },
      { request_key: "sync", status: "interrupted" },
    ]);
    // The lost call may have been billed: its worst case stays counted.
    expect(second.spentUsd()).toBeCloseTo(0.01 + 0.5 + 0.125, 12);
    second.close();
  });

  it("brings a version-1 store up to date, keeping its rows", () => {
    const dir = tempDir();
    const path = storePath(dir);
    const db = new DatabaseSync(path);
    const [first] = migrations();
    migrate(db, path, [first!]);
    expect(schemaVersion(db)).toBe(1);
    db.exec(`INSERT INTO runs (started_at, status, pid, argv, models, options) VALUES ('t', 'completed', 1, '[]', '[]', '{}')`);
    db.exec(`INSERT INTO answers (model, wave, respondent, item, generation, cell_key, value, status, attempts, run_id, created_at)
      VALUES ('m', 'w', 'r', 'i', 1, 'c', 2, 'answered', 1, 1, 't')`);
    migrate(db, path);
    expect(schemaVersion(db)).toBe(migrations().at(-1)!.version);
    expect(db.prepare("SELECT value, non_option_mass FROM answers").get()).toEqual({ value: 2, non_option_mass: null });
    expect(db.prepare("SELECT cache_savings_usd, batch_calls FROM runs").get()).toEqual({ cache_savings_usd: 0, batch_calls: 0 });
    db.close();
    expect(join(dir, "store.sqlite")).toBe(path);
  });
});
