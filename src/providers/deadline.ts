/**
 * One signal that aborts a vendor request when the caller cancels or the
 * per-request timeout passes. The SDKs' own timeouts stop at the response
 * headers (the Anthropic SDK's does); this one also covers reading the body,
 * so a server that stalls mid-body cannot hang a generation run.
 */
/**
 * The longest timer Node keeps: a longer delay overflows to 1 ms (with a
 * warning), which would time every request out at once.
 */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export interface Deadline {
  readonly signal: AbortSignal;
  /** True once the timeout (not the caller) aborted the request. */
  timedOut(): boolean;
  /** Stops the timer and lets go of the caller's signal; call when the request settles. */
  clear(): void;
}

export function startDeadline(caller: AbortSignal, timeoutMs: number): Deadline {
  if (!(timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
    throw new RangeError(`request timeout must be from 1 to ${MAX_TIMEOUT_MS} ms, got ${timeoutMs}`);
  }
  const controller = new AbortController();
  let expired = false;
  const live = caller.aborted ? undefined : liveDeadlines(caller);
  if (live === undefined) controller.abort(caller.reason);
  else live.add(controller);
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new DOMException(`no complete response within ${timeoutMs} ms`, "TimeoutError"));
  }, timeoutMs);
  // A pending vendor call must not keep a finished process alive.
  timer.unref?.();
  return {
    signal: controller.signal,
    timedOut: () => expired && !caller.aborted,
    clear: () => {
      clearTimeout(timer);
      live?.delete(controller);
    },
  };
}

/**
 * The deadlines of requests still out under each caller's signal. The signal
 * gets one listener, which aborts them all: one run's signal outlives many
 * thousands of requests, and a listener added and removed for each (or
 * AbortSignal.any, which holds them weakly) costs more than the rest of a
 * deadline. Each request removes its own when it settles.
 */
const deadlinesOf = new WeakMap<AbortSignal, Set<AbortController>>();

function liveDeadlines(caller: AbortSignal): Set<AbortController> {
  let live = deadlinesOf.get(caller);
  if (live === undefined) {
    const controllers = new Set<AbortController>();
    caller.addEventListener("abort", () => {
      for (const controller of controllers) controller.abort(caller.reason);
      controllers.clear();
    }, { once: true });
    deadlinesOf.set(caller, controllers);
    live = controllers;
  }
  return live;
}

/**
 * A signal that aborts when `a` or `b` does, with its reason: one listener on
 * each. `AbortSignal.any` does the same with weak references and a finalizer
 * per signal, which cost a request more than the rest of its bookkeeping.
 * For signals that live no longer than one request (the listeners are not
 * removed; they go with the signals).
 */
export function eitherSignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  if (a.aborted) return a;
  if (b.aborted) return b;
  const both = new AbortController();
  a.addEventListener("abort", () => both.abort(a.reason), { once: true });
  b.addEventListener("abort", () => both.abort(b.reason), { once: true });
  return both.signal;
}
