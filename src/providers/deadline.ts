/**
 * One signal that aborts a vendor request when the caller cancels or the
 * per-request timeout passes. The SDKs' own timeouts stop at the response
 * headers; this one also covers reading the body, so a server that stalls
 * mid-body cannot hang a generation run.
 */
export interface Deadline {
  readonly signal: AbortSignal;
  /** True once the timeout (not the caller) aborted the request. */
  timedOut(): boolean;
  /** Stops the timer; call when the request settles. */
  clear(): void;
}

export function startDeadline(caller: AbortSignal, timeoutMs: number): Deadline {
  const timer = new AbortController();
  let expired = false;
  const handle = setTimeout(() => {
    expired = true;
    timer.abort(new DOMException(`no complete response within ${timeoutMs} ms`, "TimeoutError"));
  }, timeoutMs);
  // A pending vendor call must not keep a finished process alive.
  handle.unref?.();
  return {
    signal: AbortSignal.any([caller, timer.signal]),
    timedOut: () => expired && !caller.aborted,
    clear: () => clearTimeout(handle),
  };
}
