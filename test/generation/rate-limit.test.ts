import { describe, expect, it } from "vitest";
import { RateLimiter, TokenBucket } from "../../src/generation/rate-limit.ts";
import { ManualClock } from "../helpers/clock.ts";

describe("TokenBucket", () => {
  it("holds one second's worth and refills continuously", () => {
    const bucket = new TokenBucket(600, 0); // 10 per second
    expect(bucket.capacity).toBe(10);
    for (let i = 0; i < 10; i++) {
      expect(bucket.waitFor(1, 0)).toBe(0);
      bucket.take(1, 0);
    }
    expect(bucket.waitFor(1, 0)).toBe(100); // one more unit takes 100 ms
    expect(bucket.waitFor(1, 50)).toBe(50);
    expect(bucket.waitFor(1, 100)).toBe(0);
    expect(bucket.available(10_000)).toBe(10); // never above capacity
  });

  it("holds at least one request even at low limits", () => {
    const bucket = new TokenBucket(6, 0); // one per 10 s
    expect(bucket.capacity).toBe(1);
    bucket.take(1, 0);
    expect(bucket.waitFor(1, 0)).toBe(10_000);
  });

  it("lets a request larger than the bucket go when full, leaving a debt", () => {
    const bucket = new TokenBucket(6_000, 0); // 100 tokens per second, capacity 100
    expect(bucket.waitFor(250, 0)).toBe(0);
    bucket.take(250, 0);
    expect(bucket.available(0)).toBe(-150);
    expect(bucket.waitFor(250, 0)).toBe(2_500); // back to full (100) after 2.5 s
  });
});

describe("RateLimiter", () => {
  it("spaces requests evenly at the requests-per-minute rate, with no burst at the start", async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ requestsPerMinute: 120 }, clock); // 2 per second
    const granted: number[] = [];
    await Promise.all(Array.from({ length: 6 }, () => limiter.acquire(10).then(() => granted.push(clock.now()))));
    expect(granted).toEqual([0, 500, 1000, 1500, 2000, 2500]);
  });

  it("meters tokens per minute with the estimated tokens of each request", async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ tokensPerMinute: 60_000 }, clock); // 1000 tokens/s, bucket 1000
    const granted: number[] = [];
    for (let i = 0; i < 4; i++) {
      await limiter.acquire(400);
      granted.push(clock.now());
    }
    // 1000 -> 600 -> 200 -> wait 200 ms for 400 -> wait 400 ms for the next 400
    expect(granted).toEqual([0, 0, 200, 600]);
  });

  it("pauses every request for a retry-after", async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({}, clock);
    limiter.pause(1_500);
    expect(limiter.delayFor(1)).toBe(1_500);
    await limiter.acquire(1);
    expect(clock.now()).toBe(1_500);
  });

  it("waits for the vendor's reset when its headers say nothing remains", async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ requestsPerMinute: 6_000 }, clock);
    limiter.observe({ remainingRequests: 0, resetRequestsMs: 700 }, 100);
    expect(limiter.delayFor(100)).toBe(700);
    limiter.observe({ remainingRequests: 50, remainingTokens: 20, resetTokensMs: 2_000 }, 100);
    expect(limiter.delayFor(100)).toBe(2_000);
    limiter.observe({ remainingRequests: 50, remainingTokens: 5_000, resetTokensMs: 9_000 }, 100);
    expect(limiter.delayFor(100)).toBe(2_000); // plenty left: no further pause
  });

  it("lowers its own bucket to what the vendor says remains", async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ requestsPerMinute: 600 }, clock); // bucket of 10, 10/s
    limiter.observe({ remainingRequests: 1 }, 0);
    await limiter.acquire(0);
    expect(clock.now()).toBe(0);
    expect(limiter.delayFor(0)).toBe(100); // without the header, 9 would have been left
  });

  it("stops waiting when the signal aborts", async () => {
    const clock = new ManualClock({ autoAdvance: false });
    const limiter = new RateLimiter({}, clock);
    limiter.pause(60_000);
    const controller = new AbortController();
    const waiting = limiter.acquire(1, controller.signal);
    controller.abort(new Error("stop"));
    await expect(waiting).rejects.toThrow("stop");
  });
});
