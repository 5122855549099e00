/** Shared shapes and timing helpers for bench/*.bench.ts. */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

export interface BenchFigure {
  name: string;
  value: number;
  unit?: string;
  note?: string;
  /** A figure that must be 0 (sends before a retry-after): any other value fails `npm run bench`. */
  mustBeZero?: boolean;
}

export type Report = (figure: BenchFigure) => void;

export interface BenchModule {
  default: (report: Report) => Promise<void>;
}

/** Median wall time in milliseconds of `runs` calls of `fn` (after one warm-up call). */
export async function timeMs(fn: () => unknown, runs = 5): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** CPU time (user + system) in milliseconds spent by this process in `fn`. */
export async function cpuMs(fn: () => unknown): Promise<number> {
  const start = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

export interface ChildRun {
  seconds: number;
  /** Peak resident memory of the child, as it reported it (see bench/peak-rss.ts). */
  peakMiB: number | undefined;
  /** CPU time (user + system) the child reported using: less sensitive than wall time to a busy machine. */
  cpuSeconds: number | undefined;
  stdout: string;
  stderr: string;
}

const PEAK_RSS_PRELOAD = fileURLToPath(new URL("peak-rss.ts", import.meta.url));

/**
 * Runs a command to its end and measures its wall time. A node child is
 * started with bench/peak-rss.ts preloaded, which writes its peak RSS and CPU
 * time to the file named by SILICON_BENCH_PEAK_RSS; other children (Rscript)
 * write them there themselves. Throws with the child's stderr when it fails.
 */
export async function runMeasured(command: string, args: readonly string[]): Promise<ChildRun> {
  const dir = mkdtempSync(join(tmpdir(), "silicon-bench-peak-"));
  const peakFile = join(dir, "peak");
  const argv = command === process.execPath ? ["--import", PEAK_RSS_PRELOAD, ...args] : [...args];
  try {
    const start = performance.now();
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(command, argv, { env: { ...process.env, SILICON_BENCH_PEAK_RSS: peakFile }, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
      child.on("error", reject);
      child.on("close", (exit) => resolve({ code: exit, stdout: out, stderr: err }));
    });
    const seconds = (performance.now() - start) / 1000;
    if (code !== 0) throw new Error(`${command} ${args.join(" ")} failed (exit ${code}): ${stderr.trim().split("\n").slice(-5).join(" | ")}`);
    const [peakKiB, cpu] = (existsSync(peakFile) ? readFileSync(peakFile, "utf8") : "").trim().split(/\s+/).map(Number);
    const known = (value: number | undefined) => (value !== undefined && Number.isFinite(value) ? value : undefined);
    const peak = known(peakKiB);
    return { seconds, peakMiB: peak === undefined ? undefined : peak / 1024, cpuSeconds: known(cpu), stdout, stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
