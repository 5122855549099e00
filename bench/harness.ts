/** Shared shapes and timing helpers for bench/*.bench.ts. */
import { performance } from "node:perf_hooks";

export interface BenchFigure {
  name: string;
  value: number;
  unit?: string;
  note?: string;
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
