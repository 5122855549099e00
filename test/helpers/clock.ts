/**
 * A virtual clock: `sleep(ms)` advances time by `ms` at once (autoAdvance) and
 * records the request, so backoff and rate-limit waits cost no real time.
 */
import type { Clock } from "../../src/generation/types.ts";

export class ManualClock implements Clock {
  time: number;
  readonly sleeps: number[] = [];
  private readonly autoAdvance: boolean;

  constructor(options: { start?: number; autoAdvance?: boolean } = {}) {
    this.time = options.start ?? 0;
    this.autoAdvance = options.autoAdvance ?? true;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    if (this.autoAdvance) {
      this.time += ms;
      return Promise.resolve();
    }
    return new Promise((_resolve, reject) => {
      signal?.addEventListener("abort", () => reject(signal.reason as Error), { once: true });
    });
  }
}
