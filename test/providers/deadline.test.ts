import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { eitherSignal, startDeadline } from "../../src/providers/deadline.ts";

describe("startDeadline", () => {
  it("aborts at the timeout and says it timed out", async () => {
    const deadline = startDeadline(new AbortController().signal, 20);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(deadline.signal.aborted).toBe(true);
    expect((deadline.signal.reason as DOMException).name).toBe("TimeoutError");
    expect(deadline.timedOut()).toBe(true);
    deadline.clear();
  });

  it("passes the caller's abort and reason on, which is not a timeout", () => {
    const caller = new AbortController();
    const deadline = startDeadline(caller.signal, 10_000);
    const reason = new Error("stop");
    caller.abort(reason);
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.signal.reason).toBe(reason);
    expect(deadline.timedOut()).toBe(false);
    deadline.clear();
  });

  it("adds one listener to a long-lived caller signal however many requests start under it", () => {
    const caller = new AbortController();
    for (let i = 0; i < 1000; i++) startDeadline(caller.signal, 10_000).clear();
    const live = [startDeadline(caller.signal, 10_000), startDeadline(caller.signal, 10_000)];
    expect(getEventListeners(caller.signal, "abort")).toHaveLength(1);
    live[1]!.clear();
    caller.abort(new Error("stop"));
    // The request still out is aborted; the one that settled (cleared) is left alone.
    expect(live.map((deadline) => deadline.signal.aborted)).toEqual([true, false]);
    live[0]!.clear();
  });

  it("is aborted at once under a caller already aborted", () => {
    const caller = new AbortController();
    caller.abort(new Error("already"));
    const deadline = startDeadline(caller.signal, 10_000);
    expect(deadline.signal.reason).toBe(caller.signal.reason);
    deadline.clear();
  });
});

describe("eitherSignal", () => {
  it.each([0, 1])("aborts when signal %i of the two does, with its reason", (which) => {
    const pair = [new AbortController(), new AbortController()];
    const either = eitherSignal(pair[0]!.signal, pair[1]!.signal);
    expect(either.aborted).toBe(false);
    const reason = new Error(`stop ${which}`);
    pair[which]!.abort(reason);
    expect(either.aborted).toBe(true);
    expect(either.reason).toBe(reason);
    pair[1 - which]!.abort(new Error("later"));
    expect(either.reason).toBe(reason);
  });

  it("is aborted at once when one of them already is", () => {
    const done = new AbortController();
    done.abort(new Error("already"));
    expect(eitherSignal(new AbortController().signal, done.signal).reason).toBe(done.signal.reason);
  });
});
