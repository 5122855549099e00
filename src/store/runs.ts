/** The `runs` table: one row per invocation, with its command line and totals. */
import type { DatabaseSync } from "node:sqlite";
import { CALL_STATUS } from "./calls.ts";

export type RunStatus = "running" | "completed" | "budget" | "stopped" | "failed" | "interrupted";

export interface RunStart {
  startedAt: string;
  pid: number;
  /** Secrets already redacted. */
  argv: string[];
  models: string[];
  options: Record<string, unknown>;
  plannedCells: number;
}

export interface RunTotals {
  answered: number;
  nonresponse: number;
  refusals: number;
  callsSent: number;
  callsFailed: number;
  cacheHits: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
  /** USD prompt caching saved against the same tokens uncached (negative when writes cost more than reads saved). */
  cacheSavingsUsd: number;
  /** Calls sent inside vendor batches (a subset of callsSent). */
  batchCalls: number;
}

/** What a run that died (SIGKILL, power cut) left behind, found by the next writer. */
export interface InterruptedWork {
  runs: number[];
  /** Calls that were on the wire when it died: they may have been billed. */
  calls: number;
  /** Their reserved worst-case cost, counted as spent. */
  reservedUsd: number;
}

export function prepareRuns(db: DatabaseSync) {
  const insert = db.prepare(
    "INSERT INTO runs (started_at, status, pid, argv, models, options, planned_cells) VALUES (?, 'running', ?, ?, ?, ?, ?)",
  );
  const finish = db.prepare(`UPDATE runs SET finished_at = ?, status = ?, message = ?, answered = ?, nonresponse = ?,
      refusals = ?, calls_sent = ?, calls_failed = ?, cache_hits = ?, input_tokens = ?, output_tokens = ?,
      cached_input_tokens = ?, cache_write_tokens = ?, cost_usd = ?, cache_savings_usd = ?, batch_calls = ? WHERE id = ?`);
  const running = db.prepare("SELECT id FROM runs WHERE status = 'running'");
  const markInterrupted = db.prepare("UPDATE runs SET status = 'interrupted', message = ? WHERE id = ?");
  // Calls inside a vendor batch outlive the process that submitted them: they
  // stay 'sent' until a later run stores the batch's results.
  const inFlight = db.prepare(
    `SELECT count(*) AS calls, coalesce(sum(reserved_usd), 0) AS reserved FROM call_records WHERE run_id = ? AND status = ${CALL_STATUS.sent} AND batch_id IS NULL`,
  );
  const interruptCalls = db.prepare(
    `UPDATE call_records SET status = ${CALL_STATUS.interrupted} WHERE run_id = ? AND status = ${CALL_STATUS.sent} AND batch_id IS NULL`,
  );
  const spent = db.prepare(`SELECT coalesce(sum(CASE
      WHEN cost_usd IS NOT NULL THEN cost_usd
      WHEN status IN (${CALL_STATUS.interrupted}, ${CALL_STATUS.failed}) THEN reserved_usd
      WHEN status = ${CALL_STATUS.sent} AND batch_id IS NOT NULL THEN reserved_usd
      ELSE 0 END), 0) AS spent FROM call_records`);

  return {
    start(run: RunStart): number {
      const result = insert.run(
        run.startedAt,
        run.pid,
        JSON.stringify(run.argv),
        JSON.stringify(run.models),
        JSON.stringify(run.options),
        run.plannedCells,
      );
      return Number(result.lastInsertRowid);
    },

    finish(id: number, finishedAt: string, status: RunStatus, message: string | null, totals: RunTotals): void {
      finish.run(
        finishedAt,
        status,
        message,
        totals.answered,
        totals.nonresponse,
        totals.refusals,
        totals.callsSent,
        totals.callsFailed,
        totals.cacheHits,
        totals.inputTokens,
        totals.outputTokens,
        totals.cachedInputTokens,
        totals.cacheWriteTokens,
        totals.costUsd,
        totals.cacheSavingsUsd,
        totals.batchCalls,
        id,
      );
    },

    /**
     * Marks runs still 'running' as interrupted, and their calls still 'sent'.
     * Only the lock holder calls this, so no live process owns those rows.
     */
    recoverInterrupted(): InterruptedWork {
      const work: InterruptedWork = { runs: [], calls: 0, reservedUsd: 0 };
      for (const row of running.all() as { id: number }[]) {
        const flight = inFlight.get(row.id) as { calls: number; reserved: number };
        work.runs.push(row.id);
        work.calls += flight.calls;
        work.reservedUsd += flight.reserved;
        interruptCalls.run(row.id);
        markInterrupted.run(`the process stopped without finishing; ${flight.calls} call(s) were in flight`, row.id);
      }
      return work;
    },

    /**
     * Money the store knows was or may have been spent: actual costs, plus the
     * reserved worst case of calls whose billing is unknown (cut off in flight,
     * timed out, garbled) and of calls waiting in a vendor batch.
     */
    spentUsd(): number {
      return (spent.get() as { spent: number }).spent;
    },
  };
}

export type RunStatements = ReturnType<typeof prepareRuns>;
