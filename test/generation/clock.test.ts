import { performance } from "node:perf_hooks";
import { expect, it } from "vitest";
import { systemClock } from "../../src/generation/types.ts";

it("the system clock's sleep never ends early by the monotonic clock (a retry-after is honoured to the fraction of a millisecond)", async () => {
  for (let i = 0; i < 40; i++) {
    const ms = 1 + (i % 5) + 0.37;
    const start = performance.now();
    await systemClock.sleep(ms);
    expect(performance.now() - start).toBeGreaterThanOrEqual(ms);
  }
});

it("the system clock's sleep rejects at once when its signal aborts", async () => {
  const controller = new AbortController();
  const sleeping = systemClock.sleep(60_000, controller.signal);
  controller.abort(new Error("stop"));
  await expect(sleeping).rejects.toThrow("stop");
});
