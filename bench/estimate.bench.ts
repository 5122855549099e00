/**
 * Estimating from CSV files, the whole command: `silicon estimate --real
 * real.csv --synthetic syn.csv --by group --generation generation` on N
 * synthetic answers (N/4 respondents × 4 generations, one item, 50
 * subgroups), against peers measured in the same run on the very same files:
 * - R survey: read.csv + svydesign + svyby, real and clustered synthetic
 *   (bench/estimate-r.R), when Rscript and the survey package are installed;
 * - DuckDB: the same estimates and linearized SEs as SQL over the CSV files
 *   (bench/estimate-peer-duckdb.ts).
 * Each command runs in its own process (start-up included), its peak RSS
 * and CPU time reported by itself; ratios are of wall time, and of CPU time,
 * which a busy machine disturbs less. Every estimate and SE must equal R's to 1e-9 (relative)
 * or the bench fails; without R, silicon is checked against DuckDB instead.
 *
 * Sizes: SILICON_BENCH_ESTIMATE_ROWS (comma-separated, default 1000000);
 * 1M takes about 1.5 min here, mostly R (median of 3 runs); larger sizes run
 * once each: `SILICON_BENCH_ESTIMATE_ROWS=1000000,5000000,8000000 npm run
 * bench -- estimate` (about 10 min; R needs ~6 GB at 8M).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "csv-parse/sync";
import { runMeasured, type ChildRun, type Report } from "./harness.ts";
import { SUBGROUPS, writeEstimateBenchFiles, type EstimateBenchFiles } from "./estimate-data.ts";

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));
const SILICON = fileURLToPath(new URL("../bin/silicon.js", import.meta.url));
const TOLERANCE = 1e-9;
const INSTALL_R = "install R survey to measure it: apt-get install r-base-core r-cran-survey";

type Estimates = Map<string, { real_est: number; real_se: number; syn_est: number; syn_se: number }>;

interface Peer {
  name: string;
  run: (files: EstimateBenchFiles, out: string) => Promise<ChildRun>;
  read: (out: string) => Estimates;
}

const silicon: Peer = {
  name: "silicon estimate",
  run: (files, out) =>
    runMeasured(process.execPath, [SILICON, "estimate", "--real", files.real, "--synthetic", files.synthetic, "--id", "id", "--weight", "weight",
      "--items", "therm", "--by", "group", "--generation", "generation", "--out", out]),
  read: (out) => estimatesOf(out, (row) => row.subgroup!.replace(/^group=/, "")),
};

const r: Peer = {
  name: "R survey (read.csv + svydesign + svyby)",
  run: (files, out) => runMeasured("Rscript", [here("estimate-r.R"), files.real, files.synthetic, out]),
  read: (out) => estimatesOf(out, (row) => row.group!),
};

const duckdb: Peer = {
  name: "DuckDB (SQL over the CSV files)",
  run: (files, out) => runMeasured(process.execPath, [here("estimate-peer-duckdb.ts"), files.real, files.synthetic, out]),
  read: (out) => estimatesOf(out, (row) => row.group!),
};

function estimatesOf(path: string, groupOf: (row: Record<string, string>) => string): Estimates {
  const rows = parse(readFileSync(path, "utf8"), { columns: true }) as Record<string, string>[];
  return new Map(rows.map((row) => [groupOf(row), { real_est: Number(row.real_est), real_se: Number(row.real_se), syn_est: Number(row.syn_est), syn_se: Number(row.syn_se) }]));
}

/** The largest relative difference between two peers' estimates and SEs; throws where a group is missing. */
function largestDifference(a: Estimates, b: Estimates, names: string): number {
  if (a.size !== SUBGROUPS || b.size !== SUBGROUPS) throw new Error(`${names}: expected ${SUBGROUPS} groups, got ${a.size} and ${b.size}`);
  let largest = 0;
  for (const [group, x] of a) {
    const y = b.get(group);
    if (y === undefined) throw new Error(`${names}: group ${group} missing`);
    for (const key of ["real_est", "real_se", "syn_est", "syn_se"] as const) {
      largest = Math.max(largest, Math.abs(x[key] - y[key]) / Math.abs(y[key]));
    }
  }
  return largest;
}

function rInstalled(): boolean {
  const probe = spawnSync("Rscript", ["-e", "suppressPackageStartupMessages(library(survey))"], { stdio: "ignore" });
  return probe.status === 0;
}

/** Median (by wall time) of `runs` runs. */
async function median(runs: number, once: () => Promise<ChildRun>): Promise<ChildRun> {
  const all: ChildRun[] = [];
  for (let i = 0; i < runs; i++) all.push(await once());
  return all.sort((a, b) => a.seconds - b.seconds)[Math.floor(runs / 2)]!;
}

const usage = (run: ChildRun) =>
  [run.cpuSeconds === undefined ? "CPU not reported" : `CPU ${run.cpuSeconds.toFixed(1)} s`, run.peakMiB === undefined ? "peak RSS not reported" : `peak RSS ${run.peakMiB.toFixed(0)} MiB`].join(", ");

export default async function bench(report: Report): Promise<void> {
  const sizes = (process.env.SILICON_BENCH_ESTIMATE_ROWS ?? "1000000").split(",").map(Number);
  const withR = rInstalled();
  if (!withR) report({ name: "R survey: not measured", value: NaN, note: INSTALL_R });
  for (const rows of sizes) {
    const dir = mkdtempSync(join(tmpdir(), "silicon-bench-estimate-"));
    try {
      const files = writeEstimateBenchFiles(dir, rows);
      const megabytes = (statSync(files.real).size + statSync(files.synthetic).size) / 1e6;
      const label = `${(rows / 1e6).toFixed(0)}M rows × ${SUBGROUPS} groups`;
      const runs = rows <= 1_000_000 ? 3 : 1;
      const peers = withR ? [silicon, r, duckdb] : [silicon, duckdb];
      const results = new Map<Peer, { run: ChildRun; estimates: Estimates }>();
      for (const peer of peers) {
        const out = join(dir, `${peer === silicon ? "silicon" : peer === r ? "r" : "duckdb"}.csv`);
        const run = await median(runs, () => peer.run(files, out));
        results.set(peer, { run, estimates: peer.read(out) });
      }
      const reference = results.get(withR ? r : duckdb)!;
      const ours = results.get(silicon)!;
      const difference = largestDifference(ours.estimates, reference.estimates, `silicon vs ${withR ? "R" : "DuckDB"}`);
      report({ name: `estimate from CSV, ${label}: silicon, whole command`, value: ours.run.seconds, unit: "s", note: `${usage(ours.run)}; files ${megabytes.toFixed(0)} MB; ${runs === 1 ? "1 run" : `median of ${runs}`}` });
      for (const peer of peers.slice(1)) {
        const theirs = results.get(peer)!;
        report({ name: `  ${peer.name}`, value: theirs.run.seconds, unit: "s", note: usage(theirs.run) });
        const peerName = peer === r ? "R survey" : "DuckDB";
        report({ name: `  speed-up vs ${peerName}, wall time`, value: theirs.run.seconds / ours.run.seconds, unit: "×", note: peer === r ? "target ≥ 10×" : undefined });
        if (theirs.run.cpuSeconds !== undefined && ours.run.cpuSeconds !== undefined) {
          report({ name: `  speed-up vs ${peerName}, CPU time`, value: theirs.run.cpuSeconds / ours.run.cpuSeconds, unit: "×", note: "user + system, all threads" });
        }
      }
      if (withR) report({ name: `  DuckDB vs R: largest relative difference`, value: largestDifference(results.get(duckdb)!.estimates, reference.estimates, "DuckDB vs R") });
      report({ name: `  silicon vs ${withR ? "R" : "DuckDB"}: largest relative difference`, value: difference, note: `must be ≤ ${TOLERANCE}` });
      if (!(difference <= TOLERANCE)) throw new Error(`silicon's estimates differ from ${withR ? "R's" : "DuckDB's"} by ${difference} (relative), more than ${TOLERANCE}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
