import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { AdaptiveConcurrency } from "../../src/generation/concurrency.ts";

describe("AdaptiveConcurrency", () => {
  it("starts at the cap and never lets more than the limit in", async () => {
    const gate = new AdaptiveConcurrency(3);
    const tickets = [await gate.acquire(), await gate.acquire(), await gate.acquire()];
    expect(tickets).toEqual([1, 2, 3]);
    let fourth = false;
    const waiting = gate.acquire().then(() => (fourth = true));
    await Promise.resolve();
    expect(fourth).toBe(false);
    gate.release();
    await waiting;
    expect(fourth).toBe(true);
    expect(gate.inFlight).toBe(3);
  });

  it("halves on overload once per window, and grows back by about one per window of successes", async () => {
    const gate = new AdaptiveConcurrency(16);
    const tickets: number[] = [];
    for (let i = 0; i < 16; i++) tickets.push(await gate.acquire());
    // A burst of 429s for requests sent before the decrease counts once.
    for (const ticket of tickets) gate.onOverload(ticket);
    expect(gate.limit).toBe(8);
    for (let i = 0; i < 16; i++) gate.release();
    // A request sent after the decrease can halve it again.
    const later = await gate.acquire();
    gate.onOverload(later);
    gate.release();
    expect(gate.limit).toBe(4);
    // Additive increase of 1/limit per success: about one slot per window of successes.
    for (let i = 0; i < 4; i++) gate.onSuccess();
    expect(gate.limit).toBe(4); // 4.92
    gate.onSuccess();
    expect(gate.limit).toBe(5); // 5.12
    let successes = 5;
    while (gate.limit < 8) {
      gate.onSuccess();
      successes += 1;
    }
    // Continuous AIMD: L² grows by 2 per success, so 4 -> 8 takes (64 - 16) / 2 = 24.
    expect(successes).toBe(24);
    for (let i = 0; i < 1000; i++) gate.onSuccess();
    expect(gate.limit).toBe(16); // never above the cap
  });

  it("never goes below one", async () => {
    const gate = new AdaptiveConcurrency(2);
    for (let i = 0; i < 10; i++) {
      const ticket = await gate.acquire();
      gate.onOverload(ticket);
      gate.release();
    }
    expect(gate.limit).toBe(1);
  });

  it("rejects a waiting acquire when its signal aborts", async () => {
    const gate = new AdaptiveConcurrency(1);
    await gate.acquire();
    const controller = new AbortController();
    const waiting = gate.acquire(controller.signal);
    controller.abort(new Error("stopping"));
    await expect(waiting).rejects.toThrow("stopping");
    gate.release();
    expect(gate.inFlight).toBe(0);
  });

  it("100,000 waits on one signal add one abort listener, not one per wait, and are served in order", async () => {
    const gate = new AdaptiveConcurrency(4);
    const signal = new AbortController().signal;
    const served: number[] = [];
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 100_000; i++) {
      waits.push(
        gate.acquire(signal).then(() => {
          served.push(i);
          gate.release();
        }),
      );
      expect(getEventListeners(signal, "abort").length).toBeLessThanOrEqual(1);
    }
    await Promise.all(waits);
    expect(served.length).toBe(100_000);
    expect(served.every((n, i) => n === i)).toBe(true);
    expect(getEventListeners(signal, "abort").length).toBe(1);
    expect({ inFlight: gate.inFlight, waiting: gate.waiting }).toEqual({ inFlight: 0, waiting: 0 });
  });

  it("an abort rejects only the waits under its own signal; the others keep their places", async () => {
    const gate = new AdaptiveConcurrency(1);
    await gate.acquire();
    const a = new AbortController();
    const b = new AbortController();
    const order: string[] = [];
    const waits = ["a1", "b1", "a2", "b2"].map((name) =>
      gate.acquire((name[0] === "a" ? a : b).signal).then(
        () => {
          order.push(name);
          gate.release();
        },
        () => order.push(`${name} rejected`),
      ),
    );
    a.abort(new Error("stop a"));
    gate.release();
    await Promise.all(waits);
    expect(order).toEqual(["a1 rejected", "a2 rejected", "b1", "b2"]);
    expect(gate.waiting).toBe(0);
  });
});
