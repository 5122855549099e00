/**
 * The store as a cache: completed calls by request key. The engine looks up
 * the first requests of the next jobs in one query per batch of planned jobs
 * (`prefetch`), and each ask then finds its answer in memory; a request not
 * known in advance (a re-ask, a later turn of a conversation) is looked up
 * on its own.
 */
import type { CachedRequest, StoredCall } from "../store/calls.ts";
import type { Store } from "../store/store.ts";

export class CompletedLookup {
  private readonly store: Pick<Store, "findCompleted" | "findCompletedMany">;
  /** Keys looked up ahead, with what was found (undefined: nothing stored); each is used once. */
  private readonly ahead = new Map<string, StoredCall | undefined>();

  constructor(store: Pick<Store, "findCompleted" | "findCompletedMany">) {
    this.store = store;
  }

  /** Looks up `requests` in one query (per thousand requests). */
  prefetch(requests: CachedRequest[]): void {
    const found = this.store.findCompletedMany(requests);
    for (const { key } of requests) this.ahead.set(key, found.get(key));
  }

  find(request: CachedRequest): StoredCall | undefined {
    if (!this.ahead.has(request.key)) return this.store.findCompleted(request);
    const stored = this.ahead.get(request.key);
    this.ahead.delete(request.key);
    return stored;
  }
}
