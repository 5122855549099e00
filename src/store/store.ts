/**
 * The study store, results/<study>/store.sqlite: every call with its
 * provenance, every answer, every run. It is also the cache: a request whose
 * response is stored is never sent again (docs/generation.md, "Resume").
 *
 * `Store.open` is for the one writer (it takes the store's lock and repairs
 * what a killed run left); `openStoreReadOnly` is for everyone else.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { prepareAnswers, type AnswerCells, type AnswerRow, type AnswerStatements, type StoredCellState } from "./answers.ts";
import { prepareBatches, type BatchPoll, type BatchRow, type BatchStart, type BatchStatements } from "./batches.ts";
import {
  CALL_STATUS,
  prepareCalls,
  type BatchedCall,
  type CallCompletion,
  type CallFailure,
  type CallStart,
  type CachedRequest,
  type CallStatements,
  type StoredCall,
} from "./calls.ts";
import { prepareNames } from "./names.ts";
import { openReadOnly, openTransaction, openWritable, reading, schemaVersion, transaction } from "./db.ts";
import { GroupCommit } from "./group-commit.ts";
import { acquireStoreLock, type LockHolder, type StoreLock } from "./lock.ts";
import { makeFolder } from "../util/atomic-write.ts";
import { crashPoint } from "../util/crash-points.ts";
import { prepareRuns, type InterruptedWork, type RunStart, type RunStatements, type RunStatus, type RunTotals } from "./runs.ts";

export const STORE_FILE = "store.sqlite";

export function storePath(studyDir: string): string {
  return join(studyDir, STORE_FILE);
}

export interface OpenStoreOptions {
  study: string;
  /** How long to wait for another writer; 0 (default) refuses at once. */
  lockWaitMs?: number;
  onLockWait?: (holder: LockHolder | undefined) => void;
  command?: string;
}

export class Store {
  readonly path: string;
  readonly db: DatabaseSync;
  /** What a previous, killed run left in flight (found when this store was opened). */
  readonly interrupted: InterruptedWork;
  private readonly lock: StoreLock;
  private readonly calls: CallStatements;
  private readonly answers: AnswerStatements;
  private readonly runs: RunStatements;
  private readonly batches: BatchStatements;
  private readonly group: GroupCommit;
  private readonly bumpAnswers: StatementSync;
  /** The transaction that last moved the answers' version. */
  private answersBumpedIn: number | undefined;

  private constructor(path: string, db: DatabaseSync, lock: StoreLock) {
    this.path = path;
    this.db = db;
    this.lock = lock;
    const names = prepareNames(db);
    this.calls = prepareCalls(db, names);
    this.answers = prepareAnswers(db, names);
    this.runs = prepareRuns(db);
    this.batches = prepareBatches(db);
    this.group = new GroupCommit(db);
    this.bumpAnswers = db.prepare(
      "INSERT INTO meta (key, value) VALUES ('answers_version', '1') ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
    );
    this.interrupted = transaction(db, () => {
      const work = this.runs.recoverInterrupted();
      if (work.runs.length > 0) crashPoint("store-recover");
      return work;
    });
  }

  /** Opens the store in `studyDir` for writing, creating it if needed. */
  static async open(studyDir: string, options: OpenStoreOptions): Promise<Store> {
    makeFolder(studyDir);
    const path = storePath(studyDir);
    const lockOptions: Parameters<typeof acquireStoreLock>[1] = { waitMs: options.lockWaitMs ?? 0 };
    if (options.onLockWait !== undefined) lockOptions.onWait = options.onLockWait;
    if (options.command !== undefined) lockOptions.command = options.command;
    const lock = await acquireStoreLock(path, lockOptions);
    let db: DatabaseSync | undefined;
    try {
      db = openWritable(path);
      transaction(db, () => {
        db!.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('study', ?)").run(options.study);
      });
      return new Store(path, db, lock);
    } catch (error) {
      db?.close();
      lock.release();
      throw error;
    }
  }

  startRun(run: RunStart): number {
    return transaction(this.db, () => this.runs.start(run));
  }

  finishRun(id: number, finishedAt: string, status: RunStatus, message: string | null, totals: RunTotals): void {
    transaction(this.db, () => this.runs.finish(id, finishedAt, status, message, totals));
  }

  /** Records a call as on the wire, before it is sent. */
  recordSent(call: CallStart): number {
    return transaction(this.db, () => this.calls.insert(call));
  }

  /** Stores a response together with the answers it decides, in one transaction. */
  recordCompleted(callId: number, completion: CallCompletion, answers: AnswerRow[]): void {
    transaction(this.db, () => this.complete(callId, completion, answers));
  }

  /** Stores a failed call, with any answers it makes final (nonresponse), in one transaction. */
  recordFailed(callId: number, failure: CallFailure, answers: AnswerRow[] = []): void {
    transaction(this.db, () => this.fail(callId, failure, answers));
  }

  /*
   * The same writes, group-committed (group-commit.ts): each resolves once the
   * transaction holding it, and whatever else was queued in the same turn or the next,
   * has committed. The engine awaits them: a call's intent is committed before
   * its request leaves, its outcome before its slot is given back.
   */

  /** Records a call as on the wire; resolves with its id once that is committed. */
  commitSent(call: CallStart): Promise<number> {
    return this.group.enqueue(() => this.calls.insert(call));
  }

  commitCompleted(callId: number, completion: CallCompletion, answers: AnswerRow[]): Promise<void> {
    return this.group.enqueue(() => this.complete(callId, completion, answers));
  }

  commitFailed(callId: number, failure: CallFailure, answers: AnswerRow[] = []): Promise<void> {
    return this.group.enqueue(() => this.fail(callId, failure, answers));
  }

  /** Resolves once every write queued so far is committed. */
  writesCommitted(): Promise<void> {
    return this.group.settled();
  }

  commitAnswers(answers: AnswerRow[]): Promise<void> {
    if (answers.length === 0) return Promise.resolve();
    return this.group.enqueue(() => this.upsertAnswers(answers));
  }

  private complete(callId: number, completion: CallCompletion, answers: AnswerRow[]): void {
    this.calls.complete(callId, completion);
    crashPoint("in-commit");
    this.upsertAnswers(answers);
  }

  private fail(callId: number, failure: CallFailure, answers: AnswerRow[]): void {
    this.calls.fail(callId, failure);
    if (answers.length > 0) crashPoint("in-give-up");
    this.upsertAnswers(answers);
  }

  private upsertAnswers(answers: AnswerRow[]): void {
    if (answers.length === 0) return;
    for (const answer of answers) this.answers.upsert(answer);
    // In the same transaction: the answers' version moves whenever any is written (exports compare it),
    // once per transaction (a group commit holds many writes of answers; one move says they changed).
    const current = openTransaction(this.db);
    if (current === undefined || current !== this.answersBumpedIn) this.bumpAnswers.run();
    this.answersBumpedIn = current;
  }

  /** A number that changes whenever an answer is written (0 for a store no silicon with it has written to). */
  answersVersion(): number {
    return answersVersion(this.db);
  }

  /** What the exports were last written from (see src/store/export.ts), if recorded. */
  exported(): string | undefined {
    const row = reading(this.db, () => this.db.prepare("SELECT value FROM meta WHERE key = 'exported'").get()) as { value: string } | undefined;
    return row?.value;
  }

  setExported(fingerprint: string): void {
    transaction(this.db, () => this.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('exported', ?)").run(fingerprint));
  }

  /**
   * Records a batch about to be submitted and its calls (as 'sent', pointing at
   * it), in one transaction; returns the batch id and the call ids in order.
   */
  startBatch(batch: BatchStart, calls: CallStart[]): { batchId: number; callIds: number[] } {
    return transaction(this.db, () => {
      const batchId = this.batches.start(batch);
      const callIds = calls.map((call) => this.calls.insert({ ...call, batchId }));
      return { batchId, callIds };
    });
  }

  batchSubmitted(id: number, vendorBatchId: string, inputFileId: string | undefined, at: string): void {
    transaction(this.db, () => this.batches.submitted(id, vendorBatchId, inputFileId, at));
  }

  batchPolled(id: number, poll: BatchPoll): void {
    transaction(this.db, () => this.batches.polled(id, poll));
  }

  /** Closes a batch as collected or failed (its calls were stored one by one). */
  closeBatch(id: number, status: "collected" | "failed", at: string, message: string | null = null): void {
    transaction(this.db, () => this.batches.close(id, status, at, message));
  }

  /**
   * A batch that can no longer be found: closed as lost, and its calls still
   * waiting marked interrupted (they may have been billed), in one transaction.
   */
  loseBatch(id: number, at: string, message: string): void {
    transaction(this.db, () => {
      this.batches.close(id, "lost", at, message);
      this.db
        .prepare(`UPDATE call_records SET status = ${CALL_STATUS.interrupted}, error_message = ? WHERE batch_id = ? AND status = ${CALL_STATUS.sent}`)
        .run(message, id);
    });
  }

  openBatches(): BatchRow[] {
    return reading(this.db, () => this.batches.open());
  }

  batch(id: number): BatchRow | undefined {
    return reading(this.db, () => this.batches.get(id));
  }

  /** Every vendor batch id the store knows: a lookup for a lost batch must not take one of these for it. */
  vendorBatchIds(): Set<string> {
    return reading(this.db, () => new Set(this.batches.all().flatMap((row) => (row.vendorBatchId === null ? [] : [row.vendorBatchId]))));
  }

  /** Calls waiting in batches not yet collected. */
  waitingInBatches(): BatchedCall[] {
    return reading(this.db, () => this.calls.waitingInBatches());
  }

  waitingIn(batchId: number): BatchedCall[] {
    return reading(this.db, () => this.calls.waitingIn(batchId));
  }

  writeAnswers(answers: AnswerRow[]): void {
    if (answers.length === 0) return;
    transaction(this.db, () => this.upsertAnswers(answers));
  }

  /** The stored response of `request`, if one was completed. */
  findCompleted(request: CachedRequest): StoredCall | undefined {
    return reading(this.db, () => this.calls.findCompleted(request));
  }

  /** The completed calls of many requests, by key, in one query per thousand requests. */
  findCompletedMany(requests: readonly CachedRequest[]): Map<string, StoredCall> {
    return reading(this.db, () => this.calls.findCompletedMany(requests));
  }

  cellStates(): Map<string, StoredCellState> {
    return reading(this.db, () => this.answers.states());
  }

  /** Every stored answer as planning and the estimates read it (see AnswerCells). */
  answerCells(): AnswerCells {
    return reading(this.db, () => this.answers.current());
  }

  allAnswers(): Generator<AnswerRow> {
    return readAll(this.db, () => this.answers.all());
  }

  spentUsd(): number {
    return reading(this.db, () => this.runs.spentUsd());
  }

  /** Distribution answers (logprobs elicitation) a run stored, and the probability they put off the options. */
  distributionSummary(runId: number): { answers: number; meanNonOptionMass: number; maxNonOptionMass: number } {
    const row = reading(this.db, () =>
      this.db
        .prepare(
          `SELECT count(*) AS answers, coalesce(avg(non_option_mass), 0) AS mean, coalesce(max(non_option_mass), 0) AS max
           FROM answer_records WHERE run_id = ? AND distribution IS NOT NULL`,
        )
        .get(runId),
    ) as { answers: number; mean: number; max: number };
    return { answers: row.answers, meanNonOptionMass: row.mean, maxNonOptionMass: row.max };
  }

  /** Transactions the group commit has made (for tests and the bench). */
  get groupCommits(): number {
    return this.group.commits;
  }

  close(): void {
    try {
      this.group.flush();
      this.db.close();
    } finally {
      this.lock.release();
    }
  }
}

/** A store opened for reading only: no lock, no repair, never created. */
export interface ReadOnlyStore {
  path: string;
  db: DatabaseSync;
  cellStates(): Map<string, StoredCellState>;
  allAnswers(): Generator<AnswerRow>;
  /** Every stored answer as planning and the estimates read it (see AnswerCells), in the order of allAnswers. */
  answerCells(): AnswerCells;
  /** See Store.answersVersion. */
  answersVersion(): number;
  /** The distinct models with a stored answer, sorted. */
  models(): string[];
  findCompleted(request: CachedRequest): StoredCall | undefined;
  findCompletedMany(requests: readonly CachedRequest[]): Map<string, StoredCall>;
  waitingInBatches(): BatchedCall[];
  spentUsd(): number;
  close(): void;
}

/**
 * The models with a stored answer: one seek per model in the answers' primary
 * key (which starts with the model), rather than a scan of every answer.
 */
const MODELS_ANSWERED = `WITH RECURSIVE answered (id) AS (
    SELECT min(model_id) FROM answer_records
    UNION ALL SELECT (SELECT min(model_id) FROM answer_records WHERE model_id > answered.id) FROM answered WHERE answered.id IS NOT NULL)
  SELECT name AS model FROM names WHERE id IN (SELECT id FROM answered) ORDER BY name`;

/** Opens the store in `studyDir` for reading, or returns undefined when there is none yet. */
export function openStoreReadOnly(studyDir: string): ReadOnlyStore | undefined {
  const path = storePath(studyDir);
  if (!existsSync(path)) return undefined;
  const db = openReadOnly(path);
  // A store whose first run was stopped before its schema was written holds nothing yet.
  if (schemaVersion(db) === 0) {
    db.close();
    return undefined;
  }
  const names = prepareNames(db);
  const answers = prepareAnswers(db, names);
  const calls = prepareCalls(db, names);
  const runs = prepareRuns(db);
  return {
    path,
    db,
    cellStates: () => reading(db, () => answers.states()),
    allAnswers: () => readAll(db, () => answers.all()),
    answerCells: () => reading(db, () => answers.current()),
    answersVersion: () => answersVersion(db),
    models: () =>
      reading(db, () => (db.prepare(MODELS_ANSWERED).all() as { model: string }[]).map((r) => r.model)),
    findCompleted: (request) => reading(db, () => calls.findCompleted(request)),
    findCompletedMany: (requests) => reading(db, () => calls.findCompletedMany(requests)),
    waitingInBatches: () => reading(db, () => calls.waitingInBatches()),
    spentUsd: () => reading(db, () => runs.spentUsd()),
    close: () => db.close(),
  };
}

function answersVersion(db: DatabaseSync): number {
  const row = reading(db, () => db.prepare("SELECT value FROM meta WHERE key = 'answers_version'").get()) as { value: string } | undefined;
  return row === undefined ? 0 : Number(row.value);
}

/** Rows read from the store, their SQLite errors (mid-iteration too) turned into StoreErrors. */
function* readAll<T>(db: DatabaseSync, open: () => Iterator<T>): Generator<T> {
  const rows = reading(db, open);
  for (;;) {
    const next = reading(db, () => rows.next());
    if (next.done === true) return;
    yield next.value;
  }
}
