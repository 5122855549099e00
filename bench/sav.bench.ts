/**
 * Reading an SPSS file: a byte-compressed .sav of N cases × 10 variables
 * (numeric ids and weights, small integer codes, labelled and user-missing
 * codes, short and longer strings), written by R haven, read by silicon's
 * readTable and by R haven::read_sav, each in its own process (start-up
 * included) reporting its own peak RSS and CPU time; ratios are of wall
 * time and of CPU time. Silicon then reads 2 of the 10 columns, and none, to
 * show its memory follows the columns kept, not the file. Each column's
 * count of cells not missing and their sum (or total bytes of text) must
 * equal R's, or the bench fails.
 *
 * Needs Rscript with haven (apt-get install r-cran-haven); skipped without.
 * Size: SILICON_BENCH_SAV_CASES (default 1000000).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runMeasured, type ChildRun, type Report } from "./harness.ts";

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));
const INSTALL = "install R haven to run it: apt-get install r-cran-haven";
const TWO_COLUMNS = "weight,therm";
/** R sums in long double, silicon in double. */
const TOLERANCE = 1e-9;

type Checksums = Map<string, { kept: number; sum: number }>;

function havenInstalled(): boolean {
  return spawnSync("Rscript", ["-e", "suppressPackageStartupMessages(library(haven))"], { stdio: "ignore" }).status === 0;
}

function checksums(stdout: string): Checksums {
  const lines = stdout.trim().split("\n").map((line) => line.trim().split(/\t/));
  return new Map(lines.map(([name, kept, sum]) => [name!, { kept: Number(kept), sum: Number(sum ?? 0) }]));
}

/** Throws unless both read the same cases and, column by column, the same cells. */
function compare(ours: Checksums, theirs: Checksums, what: string): number {
  if (ours.size !== theirs.size) throw new Error(`${what}: silicon read ${[...ours.keys()].join(",")}, R ${[...theirs.keys()].join(",")}`);
  let largest = 0;
  for (const [name, want] of theirs) {
    const got = ours.get(name);
    if (got === undefined || got.kept !== want.kept) throw new Error(`${what}, column ${name}: silicon read ${got?.kept} cells not missing, R ${want.kept}`);
    const difference = Math.abs(got.sum - want.sum) / Math.max(Math.abs(want.sum), 1);
    if (!(difference <= TOLERANCE)) throw new Error(`${what}, column ${name}: silicon's sum ${got.sum}, R's ${want.sum}`);
    largest = Math.max(largest, difference);
  }
  return largest;
}

/** Median (by wall time) of `runs` runs. */
async function median(runs: number, once: () => Promise<ChildRun>): Promise<ChildRun> {
  const all: ChildRun[] = [];
  for (let i = 0; i < runs; i++) all.push(await once());
  return all.sort((a, b) => a.seconds - b.seconds)[Math.floor(runs / 2)]!;
}

const usage = (run: ChildRun) =>
  [run.cpuSeconds === undefined ? "CPU not reported" : `CPU ${run.cpuSeconds.toFixed(2)} s`, run.peakMiB === undefined ? "peak RSS not reported" : `peak RSS ${run.peakMiB.toFixed(0)} MiB`].join(", ");

export default async function bench(report: Report): Promise<void> {
  if (!havenInstalled()) {
    report({ name: "SPSS read: not measured", value: NaN, note: INSTALL });
    return;
  }
  const cases = Number(process.env.SILICON_BENCH_SAV_CASES ?? 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), "silicon-bench-sav-"));
  try {
    const file = join(dir, "frame.sav");
    await runMeasured("Rscript", [here("sav-write.R"), file, String(cases)]);
    const megabytes = statSync(file).size / 1e6;
    const silicon = (columns: string) => runMeasured(process.execPath, [here("sav-read-silicon.ts"), file, columns]);
    const r = (columns: string) => runMeasured("Rscript", [here("sav-read-r.R"), file, columns]);
    const label = `${(cases / 1e6).toPrecision(2)}M cases × 10 variables, byte-compressed .sav (${megabytes.toFixed(0)} MB)`;

    const ours = await median(3, () => silicon("all"));
    const theirs = await median(3, () => r("all"));
    const difference = compare(checksums(ours.stdout), checksums(theirs.stdout), "all columns");
    report({ name: `read ${label}: silicon readTable, all 10 columns`, value: ours.seconds, unit: "s", note: `${usage(ours)}; median of 3` });
    report({ name: "  R haven::read_sav", value: theirs.seconds, unit: "s", note: usage(theirs) });
    report({ name: "  speed-up vs R haven, wall time", value: theirs.seconds / ours.seconds, unit: "×" });
    if (ours.cpuSeconds !== undefined && theirs.cpuSeconds !== undefined) {
      report({ name: "  speed-up vs R haven, CPU time", value: theirs.cpuSeconds / ours.cpuSeconds, unit: "×", note: "user + system" });
    }
    if (ours.peakMiB !== undefined && theirs.peakMiB !== undefined) {
      report({ name: "  peak RSS, silicon / R haven", value: ours.peakMiB / theirs.peakMiB, unit: "×" });
    }
    report({ name: "  silicon vs R: largest relative difference of a column sum", value: difference, note: `must be ≤ ${TOLERANCE}; counts equal` });

    const two = await median(3, () => silicon(TWO_COLUMNS));
    const twoR = await median(3, () => r(TWO_COLUMNS));
    compare(checksums(two.stdout), checksums(twoR.stdout), "two columns");
    const none = await median(3, () => silicon(""));
    if (checksums(none.stdout).get("cases")?.kept !== cases) throw new Error(`silicon read ${none.stdout.trim()} cases with no columns, not ${cases}`);
    report({ name: `  silicon, 2 of 10 columns (${TWO_COLUMNS})`, value: two.seconds, unit: "s", note: usage(two) });
    report({ name: "  R haven::read_sav, col_select the same 2", value: twoR.seconds, unit: "s", note: usage(twoR) });
    report({ name: "  silicon, no columns (every case decoded and counted)", value: none.seconds, unit: "s", note: usage(none) });
    if (ours.peakMiB !== undefined && two.peakMiB !== undefined) {
      report({ name: "  silicon peak RSS, 2 columns / all 10", value: two.peakMiB / ours.peakMiB, unit: "×" });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
