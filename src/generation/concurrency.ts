/**
 * Adaptive concurrency (AIMD, as TCP does): each success raises the limit by
 * 1/limit (about one more slot per window of successes), a rate limit or
 * overload halves it, at most once per window: a burst of 429s caused by the
 * same moment counts as one signal. Never below 1, never above the cap
 * (the study's `concurrency`, or --concurrency).
 */
interface Waiter {
  resolve: (ticket: number) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
}

export class AdaptiveConcurrency {
  readonly max: number;
  private limitValue: number;
  private active = 0;
  private issued = 0;
  private lastDecreaseMark = 0;
  /** Waiters in order; those before `head` are served (a queue with O(1) removal from the front). */
  private waiters: (Waiter | undefined)[] = [];
  private head = 0;
  /** Signals that already have this queue's one abort listener: waiting adds no listener of its own. */
  private readonly watched = new WeakSet<AbortSignal>();

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

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.waiters.length - this.head;
  }

  /**
   * Waits for a free slot; resolves with a ticket to pass to `onOverload`.
   * O(1): the queue is an array read from a moving head, and a signal gets
   * one abort listener for all its waits, not one per wait.
   */
  acquire(signal?: AbortSignal): Promise<number> {
    signal?.throwIfAborted();
    if (this.active < this.limit && this.waiting === 0) return Promise.resolve(this.grant());
    if (signal !== undefined && !this.watched.has(signal)) {
      this.watched.add(signal);
      signal.addEventListener("abort", () => this.abandon(signal), { once: true });
    }
    return new Promise<number>((resolve, reject) => {
      this.waiters.push({ resolve, reject, signal });
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
    while (this.active < this.limit && this.head < this.waiters.length) {
      const waiter = this.waiters[this.head]!;
      this.waiters[this.head++] = undefined;
      waiter.resolve(this.grant());
    }
    if (this.head === this.waiters.length) {
      this.waiters = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.waiters.length) {
      this.waiters = this.waiters.slice(this.head);
      this.head = 0;
    }
  }

  /** The signal aborted: every wait under it is rejected with its reason. */
  private abandon(signal: AbortSignal): void {
    const kept: Waiter[] = [];
    for (let i = this.head; i < this.waiters.length; i++) {
      const waiter = this.waiters[i]!;
      if (waiter.signal === signal) waiter.reject(signal.reason);
      else kept.push(waiter);
    }
    this.waiters = kept;
    this.head = 0;
  }
}
