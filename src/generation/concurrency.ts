/**
 * Adaptive concurrency (AIMD, as TCP does): each success raises the limit by
 * 1/limit (about one more slot per window of successes), a rate limit or
 * overload halves it, at most once per window: a burst of 429s caused by the
 * same moment counts as one signal. Never below 1, never above the cap
 * (the study's `concurrency`, or --concurrency).
 */
export class AdaptiveConcurrency {
  readonly max: number;
  private limitValue: number;
  private active = 0;
  private issued = 0;
  private lastDecreaseMark = 0;
  private readonly waiters: { resolve: (ticket: number) => void; reject: (error: unknown) => void }[] = [];

  constructor(max: number, initial: number = max) {
    if (!(max >= 1)) throw new RangeError("concurrency must be at least 1");
    this.max = Math.floor(max);
    this.limitValue = Math.min(this.max, Math.max(1, initial));
  }

  /** Current limit on requests in flight. */
  get limit(): number {
    return Math.floor(this.limitValue);
  }

  get inFlight(): number {
    return this.active;
  }

  /** Waits for a free slot; resolves with a ticket to pass to `onOverload`. */
  acquire(signal?: AbortSignal): Promise<number> {
    signal?.throwIfAborted();
    if (this.active < this.limit && this.waiters.length === 0) return Promise.resolve(this.grant());
    return new Promise<number>((resolve, reject) => {
      const waiter = { resolve, reject };
      this.waiters.push(waiter);
      signal?.addEventListener(
        "abort",
        () => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) {
            this.waiters.splice(index, 1);
            reject(signal.reason);
          }
        },
        { once: true },
      );
    });
  }

  release(): void {
    this.active -= 1;
    this.wake();
  }

  onSuccess(): void {
    this.limitValue = Math.min(this.max, this.limitValue + 1 / this.limitValue);
    this.wake();
  }

  /** A 429 or overload for the request holding `ticket`. */
  onOverload(ticket: number): void {
    if (ticket <= this.lastDecreaseMark) return;
    this.limitValue = Math.max(1, this.limitValue / 2);
    this.lastDecreaseMark = this.issued;
  }

  private grant(): number {
    this.active += 1;
    this.issued += 1;
    return this.issued;
  }

  private wake(): void {
    while (this.active < this.limit && this.waiters.length > 0) this.waiters.shift()!.resolve(this.grant());
  }
}
