/**
 * Generation, measured against the peer a researcher would otherwise use:
 * the openai SDK called directly. Both run in processes of their own against
 * the same fake OpenAI-compatible vendor (bench/fake-vendor-server.ts, a
 * third process, answering at once), with the same persona and question
 * bodies, 8 requests at a time, answers parsed (bench/generation-client.ts).
 * silicon does more per call — plans and keys every cell, reserves the
 * budget, commits the call before it is sent and its answers after, exports
 * CSV and Parquet — and the figures say what that costs:
 *
 * - CPU per 1,000 calls, silicon over the SDK (target ≤ 1.3×);
 * - the same split into what each call costs and what each run costs once:
 *   the CPU of calls 3,001–9,000 (a run three times the size, less the
 *   first) and what is left of the 3,000-call run (starting up, compiling
 *   the hot code, opening the store, the export);
 * - peak RSS of the process, silicon over the SDK (target ≤ 1.3×);
 * - a rerun with every cell stored (CPU per 1,000 cells);
 * - 100,000 waits for a concurrency slot (target ≤ 100 ms; it was quadratic).
 *
 * Each side runs five times, alternating: a round is silicon then the SDK,
 * at both sizes. The machine is shared and its speed drifts by a third
 * within minutes, so each ratio is the median of the five rounds' own
 * ratios (the two sides of a round ran a few seconds apart), and the
 * rounds' range is printed beside it. Absolute figures are medians.
 */
import { execFile, fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { AdaptiveConcurrency } from "../src/generation/concurrency.ts";
import type { Report } from "./harness.ts";

const RESPONDENTS = 1000; // × 3 items = 3,000 calls
/** The larger run, for the cost of a call beyond the first 3,000. */
const SCALE = 3;
const ROUNDS = 5;
const run = promisify(execFile);

interface ClientResult {
  cpuMs: number;
  calls: number;
  maxRssKb: number;
  rerunCpuMs?: number;
}

async function startVendor(): Promise<{ url: string; stop(): void }> {
  const child: ChildProcess = fork(fileURLToPath(new URL("./fake-vendor-server.ts", import.meta.url)), [JSON.stringify({ latencyMs: 0, seed: 11 })], { stdio: "inherit" });
  const url = await new Promise<string>((resolve) => child.once("message", (m) => resolve((m as { url: string }).url)));
  return { url, stop: () => child.disconnect() };
}

async function client(side: "engine" | "sdk", url: string, respondents = RESPONDENTS): Promise<ClientResult> {
  const dir = mkdtempSync(join(tmpdir(), "silicon-bench-generation-"));
  try {
    const script = fileURLToPath(new URL("./generation-client.ts", import.meta.url));
    const { stdout } = await run(process.execPath, [script, side, url, String(respondents), dir], { maxBuffer: 1 << 20 });
    return JSON.parse(stdout.trim().split("\n").at(-1)!) as ClientResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** "rounds 1.12–1.31": the spread of per-round ratios. */
function range(values: number[]): string {
  return `rounds ${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** `n` requests waiting for one of 8 slots, each released as soon as it is granted. */
async function slotWaitsMs(n = 100_000): Promise<number> {
  const gate = new AdaptiveConcurrency(8);
  const signal = new AbortController().signal;
  const start = performance.now();
  const waits: Promise<void>[] = [];
  for (let i = 0; i < n; i++) waits.push(gate.acquire(signal).then(() => gate.release()));
  await Promise.all(waits);
  return performance.now() - start;
}

/** The peer: 100,000 promises made, resolved and awaited the same way, with no queue behind them. */
async function barePromisesMs(): Promise<number> {
  const start = performance.now();
  const waits: Promise<void>[] = [];
  for (let i = 0; i < 100_000; i++) waits.push(new Promise<number>((resolve) => resolve(i)).then(() => undefined));
  await Promise.all(waits);
  return performance.now() - start;
}

export default async function (report: Report): Promise<void> {
  const vendor = await startVendor();
  const engine: ClientResult[] = [];
  const sdk: ClientResult[] = [];
  const engineLarge: ClientResult[] = [];
  const sdkLarge: ClientResult[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      engine.push(await client("engine", vendor.url));
      sdk.push(await client("sdk", vendor.url));
      engineLarge.push(await client("engine", vendor.url, RESPONDENTS * SCALE));
      sdkLarge.push(await client("sdk", vendor.url, RESPONDENTS * SCALE));
    }
  } finally {
    vendor.stop();
  }
  const perThousand = (r: ClientResult) => (r.cpuMs / r.calls) * 1000;
  const engineCpu = median(engine.map(perThousand));
  const sdkCpu = median(sdk.map(perThousand));
  const engineRss = median(engine.map((r) => r.maxRssKb)) / 1024;
  const sdkRss = median(sdk.map((r) => r.maxRssKb)) / 1024;
  const calls = engine[0]!.calls;
  report({ name: "generate(): CPU per 1,000 calls (incl. store, export)", value: engineCpu, unit: "ms", note: `${calls} calls, median of ${ROUNDS}` });
  report({ name: "openai SDK directly: CPU per 1,000 calls", value: sdkCpu, unit: "ms" });
  const ratios = engine.map((r, i) => perThousand(r) / perThousand(sdk[i]!));
  report({ name: "generation CPU: silicon / SDK directly", value: median(ratios), unit: "×", note: `target ≤ 1.3; median of ${ROUNDS} rounds' ratios, ${range(ratios)}` });
  // Per round: the larger run less the smaller is what the extra calls cost; the rest of the smaller, each run's once-only cost.
  const marginals = (large: ClientResult[], small: ClientResult[]) => large.map((l, i) => ((l.cpuMs - small[i]!.cpuMs) / (l.calls - small[i]!.calls)) * 1000);
  const engineMarginals = marginals(engineLarge, engine);
  const sdkMarginals = marginals(sdkLarge, sdk);
  const engineMarginal = median(engineMarginals);
  const sdkMarginal = median(sdkMarginals);
  const marginalRatios = engineMarginals.map((m, i) => m / sdkMarginals[i]!);
  const extra = `${calls + 1}–${engineLarge[0]!.calls}`;
  report({ name: `generate(): CPU per 1,000 calls, calls ${extra}`, value: engineMarginal, unit: "ms", note: "a call's own cost" });
  report({ name: `openai SDK directly: CPU per 1,000 calls, calls ${extra}`, value: sdkMarginal, unit: "ms" });
  report({ name: "  per call: silicon / SDK directly", value: median(marginalRatios), unit: "×", note: `median of rounds' ratios, ${range(marginalRatios)}` });
  report({ name: "generate(): CPU once per run (3,000-call run less its calls)", value: engineCpu * (calls / 1000) - engineMarginal * (calls / 1000), unit: "ms", note: "start-up, compiling hot code, store, export" });
  report({ name: "openai SDK directly: CPU once per run", value: sdkCpu * (calls / 1000) - sdkMarginal * (calls / 1000), unit: "ms" });
  report({ name: "generate(): peak RSS", value: engineRss, unit: "MiB" });
  report({ name: "openai SDK directly: peak RSS", value: sdkRss, unit: "MiB" });
  report({ name: "generation peak RSS: silicon / SDK directly", value: engineRss / sdkRss, unit: "×", note: "target ≤ 1.3" });
  report({
    name: "rerun with every cell stored: CPU per 1,000 cells",
    value: median(engine.map((r) => ((r.rerunCpuMs ?? 0) / r.calls) * 1000)),
    unit: "ms",
    note: "plans, finds every cell stored, exports left as they are",
  });
  await slotWaitsMs(); // warm-up
  const waits = median([await slotWaitsMs(), await slotWaitsMs(), await slotWaitsMs()]);
  const bare = median([await barePromisesMs(), await barePromisesMs(), await barePromisesMs()]);
  const quadruple = await slotWaitsMs(400_000);
  report({ name: "100,000 waits for a concurrency slot", value: waits, unit: "ms", note: "target ≤ 100" });
  report({ name: "  ratio to 100,000 bare promises resolved and awaited", value: waits / bare, unit: "×", note: `bare ${bare.toFixed(0)} ms: the least a wait can cost` });
  report({ name: "  400,000 waits / 100,000 (4 if linear; was quadratic)", value: quadruple / waits, unit: "×" });
}
