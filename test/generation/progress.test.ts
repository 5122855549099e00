import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { EngineTotals } from "../../src/generation/engine.ts";
import { barProgress, formatDuration, formatUsd, lineProgress } from "../../src/generation/progress.ts";

const totals = (done: number, costUsd: number, callsFailed = 0, lastFailure?: string): EngineTotals => ({
  answered: done,
  nonresponse: 0,
  refusals: 0,
  callsSent: done,
  callsFailed,
  cacheHits: 0,
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  costUsd,
  cacheSavingsUsd: 0,
  batchCalls: 0,
  deferred: 0,
  retries: 0,
  done,
  vendorFailures: 0,
  unknownBillingCalls: 0,
  unknownBillingUsd: 0,
  unknownBillingEstimateUsd: 0,
  unknownBillingFromItemCalls: 0,
  unknownBillingAtWorstCaseCalls: 0,
  ...(lastFailure !== undefined ? { lastFailure } : {}),
});

describe("lineProgress (no terminal)", () => {
  it("writes one plain line per interval with done/total, rate, ETA, cost and failures", () => {
    let now = 0;
    const lines: string[] = [];
    const progress = lineProgress("silicon: generate s", (line) => lines.push(line), () => now, 30_000);
    progress.start(1000);
    now = 10_000;
    progress.update(totals(100, 0.5));
    expect(lines).toEqual([]); // not yet 30 s
    now = 30_000;
    progress.update(totals(300, 1.25, 2, "ConnectionError: connection lost: ECONNRESET socket hang up"));
    now = 45_000;
    progress.update(totals(450, 2));
    now = 60_000;
    progress.update(totals(600, 2.5));
    expect(lines).toEqual([
      "silicon: generate s: 300/1000 cells (30%), 10.0/s, ETA 1m10s, $1.25 spent, 2 failed calls, last: ConnectionError: connection lost: ECONNRESET socket hang up",
      "silicon: generate s: 600/1000 cells (60%), 10.0/s, ETA 40s, $2.50 spent, 0 failed calls",
    ]);
  });
});

describe("barProgress (terminal)", () => {
  it("prints a notice above the bar, on a line of its own, and draws the bar again", () => {
    const stream = new PassThrough() as PassThrough & { isTTY: boolean; columns: number; cursorTo: () => boolean; clearLine: () => boolean };
    Object.assign(stream, { isTTY: true, columns: 200, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
    let output = "";
    stream.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const bar = barProgress("generate s", stream, () => 0);
    bar.start(200);
    bar.update(totals(50, 0));
    const before = output.length;
    bar.note!("silicon: batch #1: submitted 9 requests for openai:fake-model (batch_fake1)");
    const after = output.slice(before);
    expect(after.startsWith("\r\x1b[2Ksilicon: batch #1: submitted 9 requests for openai:fake-model (batch_fake1)\n")).toBe(true);
    expect(after).toContain("50/200 cells");
    bar.stop();
  });

  it("draws done/total, rate, cost and failures", async () => {
    const stream = new PassThrough() as PassThrough & { isTTY: boolean; columns: number; cursorTo: () => boolean; clearLine: () => boolean };
    Object.assign(stream, { isTTY: true, columns: 200, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
    let output = "";
    stream.on("data", (chunk: Buffer) => (output += chunk.toString()));
    let now = 0;
    const bar = barProgress("generate s", stream, () => now);
    bar.start(200);
    now = 4_000;
    bar.update(totals(50, 0.0123, 1, "RateLimitError: HTTP 429 rate_limit_exceeded: slow down"));
    bar.stop();
    expect(output).toContain("50/200 cells | 12.5/s |");
    expect(output).toContain("| $0.01 | 1 failed calls (last: RateLimitError: HTTP 429 rate_limit_exceeded: slow down)");
  });
});

describe("formats", () => {
  it("prints money and durations the way a person reads them", () => {
    expect([formatUsd(0), formatUsd(0.000412), formatUsd(1.5), formatUsd(1234.567)]).toEqual(["$0.00", "$0.00041", "$1.50", "$1234.57"]);
    expect([formatDuration(4_400), formatDuration(75_000), formatDuration(3_600_000 * 2 + 60_000 * 5), formatDuration(Infinity)]).toEqual(["4s", "1m15s", "2h05m", "?"]);
  });
});
