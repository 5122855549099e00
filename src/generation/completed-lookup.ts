/**
 * The store as a cache: completed calls by request key. The engine looks up
 * the first requests of the next jobs in one query per batch of planned jobs
 * (`prefetch`), and each ask then finds its answer in memory; a request not
 * known in advance (a re-ask, a later turn of a conversation) is looked up
 * on its own.
 */
import type { StoredCall } from "../store/calls.ts";
import type { Store } from "../store/store.ts";

export class CompletedLookup {
  private readonly store: Pick<Store, "findCompleted" | "findCompletedMany">;
  /** Keys looked up ahead, with what was found (undefined: nothing stored); each is used once. */
  private readonly ahead = new Map<string, StoredCall | undefined>();

  constructor(store: Pick<Store, "findCompleted" | "findCompletedMany">) {
    this.store = store;
  }

  /** Looks up `keys` in one query (per thousand keys). */
  prefetch(keys: string[]): void {
    const found = this.store.findCompletedMany(keys);
    for (const key of keys) this.ahead.set(key, found.get(key));
  }

  find(key: string): StoredCall | undefined {
    if (!this.ahead.has(key)) return this.store.findCompleted(key);
    const stored = this.ahead.get(key);
    this.ahead.delete(key);
    return stored;
  }
}
