/**
 * The `batches` table: one row per batch handed to a vendor's batch API.
 * Written before submission (`submitting`), confirmed with the vendor's id
 * (`submitted`), updated at every poll, and closed when its results are
 * stored (`collected`), when the vendor rejects it (`failed`), or when it can
 * no longer be found (`lost`). Its requests are the calls with its batch_id.
 */
import type { DatabaseSync } from "node:sqlite";

export type BatchStatus = "submitting" | "submitted" | "collected" | "failed" | "lost";

export interface BatchStart {
  runId: number;
  vendor: string;
  model: string;
  requests: number;
  createdAt: string;
}

/** What the vendor said at a poll. */
export interface BatchPoll {
  vendorStatus: string;
  requestCounts: Record<string, number>;
  polledAt: string;
  endedAt?: string | undefined;
  outputFileId?: string | undefined;
  errorFileId?: string | undefined;
}

export interface BatchRow {
  id: number;
  runId: number;
  vendor: string;
  model: string;
  status: BatchStatus;
  vendorBatchId: string | null;
  inputFileId: string | null;
  outputFileId: string | null;
  errorFileId: string | null;
  vendorStatus: string | null;
  requestCounts: Record<string, number> | null;
  requests: number;
  createdAt: string;
  submittedAt: string | null;
  polledAt: string | null;
  endedAt: string | null;
  collectedAt: string | null;
  message: string | null;
}

const COLUMNS = `id, run_id, vendor, model, status, vendor_batch_id, input_file_id, output_file_id, error_file_id,
  vendor_status, request_counts, requests, created_at, submitted_at, polled_at, ended_at, collected_at, message`;

export function prepareBatches(db: DatabaseSync) {
  const insert = db.prepare(
    "INSERT INTO batches (run_id, vendor, model, status, requests, created_at) VALUES (?, ?, ?, 'submitting', ?, ?)",
  );
  const submitted = db.prepare(
    "UPDATE batches SET status = 'submitted', vendor_batch_id = ?, input_file_id = ?, submitted_at = ? WHERE id = ?",
  );
  const polled = db.prepare(`UPDATE batches SET vendor_status = ?, request_counts = ?, polled_at = ?,
      ended_at = coalesce(?, ended_at), output_file_id = coalesce(?, output_file_id), error_file_id = coalesce(?, error_file_id)
    WHERE id = ?`);
  const closed = db.prepare("UPDATE batches SET status = ?, collected_at = ?, message = ? WHERE id = ?");
  const open = db.prepare(`SELECT ${COLUMNS} FROM batches WHERE status IN ('submitting', 'submitted') ORDER BY id`);
  const byId = db.prepare(`SELECT ${COLUMNS} FROM batches WHERE id = ?`);
  const all = db.prepare(`SELECT ${COLUMNS} FROM batches ORDER BY id`);

  return {
    /** Records a batch about to be submitted; its calls are inserted with the returned id. */
    start(batch: BatchStart): number {
      return Number(insert.run(batch.runId, batch.vendor, batch.model, batch.requests, batch.createdAt).lastInsertRowid);
    },
    submitted(id: number, vendorBatchId: string, inputFileId: string | undefined, at: string): void {
      submitted.run(vendorBatchId, inputFileId ?? null, at, id);
    },
    polled(id: number, poll: BatchPoll): void {
      polled.run(
        poll.vendorStatus,
        JSON.stringify(poll.requestCounts),
        poll.polledAt,
        poll.endedAt ?? null,
        poll.outputFileId ?? null,
        poll.errorFileId ?? null,
        id,
      );
    },
    close(id: number, status: Exclude<BatchStatus, "submitting" | "submitted">, at: string, message: string | null = null): void {
      closed.run(status, at, message, id);
    },
    /** Batches whose results are not stored yet, oldest first. */
    open(): BatchRow[] {
      return (open.all() as Record<string, unknown>[]).map(toRow);
    },
    get(id: number): BatchRow | undefined {
      const row = byId.get(id) as Record<string, unknown> | undefined;
      return row === undefined ? undefined : toRow(row);
    },
    all(): BatchRow[] {
      return (all.all() as Record<string, unknown>[]).map(toRow);
    },
  };
}

export type BatchStatements = ReturnType<typeof prepareBatches>;

function text(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function toRow(row: Record<string, unknown>): BatchRow {
  const counts = text(row.request_counts);
  return {
    id: Number(row.id),
    runId: Number(row.run_id),
    vendor: String(row.vendor),
    model: String(row.model),
    status: String(row.status) as BatchStatus,
    vendorBatchId: text(row.vendor_batch_id),
    inputFileId: text(row.input_file_id),
    outputFileId: text(row.output_file_id),
    errorFileId: text(row.error_file_id),
    vendorStatus: text(row.vendor_status),
    requestCounts: counts === null ? null : (JSON.parse(counts) as Record<string, number>),
    requests: Number(row.requests),
    createdAt: String(row.created_at),
    submittedAt: text(row.submitted_at),
    polledAt: text(row.polled_at),
    endedAt: text(row.ended_at),
    collectedAt: text(row.collected_at),
    message: text(row.message),
  };
}
