/**
 * Group commit: writes queued within a few turns of the event loop share one
 * SQLite transaction. A write's promise resolves only once its transaction
 * has committed, and groups commit in the order their writes were queued, so
 * a caller that awaits it (the engine, before it sends a request) has exactly
 * the guarantee of a transaction of its own, at a fraction of the cost: under
 * load, a whole wave of outcomes and the intents that follow them is one
 * commit instead of one each.
 *
 * The queue is committed at the end of the fourth turn of the event loop
 * from its first write (four setImmediates), or at once when it holds
 * `maxWrites`. Waiting those turns lets the responses read meanwhile, and
 * the intents of the requests that take their slots over (call.ts, handOn),
 * join the group: a turn is a few microseconds, a commit (a dozen WAL pages
 * written) a tenth of a millisecond. In the generation bench (8 requests in
 * flight, an instant vendor) a group holds about 15 writes; with two turns,
 * 9. One failing write rolls the whole group back and rejects every promise
 * of the group: a store error stops a run anyway.
 */
import type { DatabaseSync } from "node:sqlite";
import { transaction } from "./db.ts";

interface QueuedWrite {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export const GROUP_COMMIT_MAX_WRITES = 200;

/** Turns of the event loop a group stays open after its first write. */
export const GROUP_COMMIT_TURNS = 4;

export class GroupCommit {
  private readonly db: DatabaseSync;
  private readonly maxWrites: number;
  private queue: QueuedWrite[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  /** Transactions committed, for tests and the bench. */
  commits = 0;

  constructor(db: DatabaseSync, maxWrites: number = GROUP_COMMIT_MAX_WRITES) {
    this.db = db;
    this.maxWrites = maxWrites;
  }

  /** Queues `write` for the next group; resolves with its result once that group has committed. */
  enqueue<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve: resolve as (value: unknown) => void, reject });
      if (this.queue.length >= this.maxWrites) this.flush();
      else this.scheduled ??= this.afterTurns(GROUP_COMMIT_TURNS);
    });
  }

  /** Resolves once everything queued so far is committed (rejects if its group failed). */
  async settled(): Promise<void> {
    await this.enqueue(() => undefined);
  }

  /** Flushes at the end of the `turns`-th turn from now (the current one is the first). */
  private afterTurns(turns: number): NodeJS.Immediate {
    return setImmediate(() => {
      if (turns <= 1) this.flush();
      else this.scheduled = this.afterTurns(turns - 1);
    });
  }

  /** Commits what is queued now (also what `close` does first). */
  flush(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const group = this.queue;
    if (group.length === 0) return;
    this.queue = [];
    let results: unknown[];
    try {
      results = transaction(this.db, () => group.map((queued) => queued.write()));
    } catch (error) {
      for (const queued of group) queued.reject(error);
      return;
    }
    this.commits += 1;
    group.forEach((queued, i) => queued.resolve(results[i]));
  }
}
