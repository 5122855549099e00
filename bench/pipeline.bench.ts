/**
 * The pipeline's own figures, on the demo study (6 waves × 800 respondents ×
 * 7 items × 2 simulated models × 2 generations = 134,400 answers):
 * - `silicon demo` from nothing (generation included) and again with the
 *   store reused: wall time, CPU time (targets: ≤ 10 s from nothing, rerun
 *   ≤ 2 s) and the size of what it leaves in results/demo (target ≤ 40 MB);
 * - the stages after generation on the stored answers: reading the current
 *   answers from the store (the baseline), estimating the tasks from them,
 *   calibrating/evaluating/comparing every kind, and rendering the report.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { runDemo } from "../src/cli/study-commands.ts";
import { loadStudy } from "../src/config/load.ts";
import { studyTasks } from "../src/estimands/from-study.ts";
import { analyzeStudy } from "../src/pipeline/analyze.ts";
import { analysisSettings } from "../src/pipeline/settings.ts";
import { storedAnswers } from "../src/pipeline/stored-answers.ts";
import { reportInput } from "../src/pipeline/study-results.ts";
import { renderReport } from "../src/report/html.ts";
import { cpuMs, timeMs, type Report } from "./harness.ts";

const silent = { stdout: () => {}, stderr: () => {} };

export default async function (report: Report): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "silicon-bench-pipeline-"));
  try {
    let start = performance.now();
    const firstCpu = await cpuMs(() => runDemo({ results: dir, quiet: true }, silent));
    const first = performance.now() - start;
    const size = folderBytes(join(dir, "demo"));
    const storeSize = statSync(join(dir, "demo", "store.sqlite")).size;
    start = performance.now();
    const againCpu = await cpuMs(() => runDemo({ results: dir, quiet: true }, silent));
    const again = performance.now() - start;
    report({ name: "silicon demo, from nothing: CPU", value: firstCpu, unit: "ms", note: `wall ${(first / 1000).toFixed(1)} s; target ≤ 10 s CPU` });
    report({ name: "silicon demo, from nothing: results/demo", value: size / 2 ** 20, unit: "MiB", note: `store ${(storeSize / 2 ** 20).toFixed(1)} MiB; target ≤ 40 MB` });
    report({ name: "silicon demo, rerun (nothing generated): CPU", value: againCpu, unit: "ms", note: `wall ${(again / 1000).toFixed(1)} s; target ≤ 2 s` });
    report({ name: "rerun / first run (CPU)", value: againCpu / firstCpu, unit: "×" });

    const study = await loadStudy(join(dir, "demo", "study.yaml"));
    const stored = storedAnswers(study, dir);
    const read = await timeMs(() => storedAnswers(study, dir), 3);
    const tasks = studyTasks(study, stored.answers);
    const estimate = await timeMs(() => studyTasks(study, stored.answers), 3);
    const settings = analysisSettings(study.study.calibration);
    const analysis = analyzeStudy(study, tasks.tasks, settings, { onInfeasible: "record" });
    const analyze = await timeMs(() => analyzeStudy(study, tasks.tasks, settings, { onInfeasible: "record" }), 3);
    const render = await timeMs(() => renderReport(reportInput(study, tasks, analysis, stored, { resultsDir: dir, command: "bench" })), 3);
    const answers = stored.answers.id.length;
    report({ name: `read ${answers} current answers from the store (baseline)`, value: read, unit: "ms" });
    report({ name: `estimate ${tasks.tasks.length} task rows from them`, value: estimate, unit: "ms", note: `${(estimate / read).toFixed(2)} × the store read` });
    report({ name: "calibrate, evaluate (loo, chrono), compare every kind", value: analyze, unit: "ms", note: `${(analyze / read).toFixed(2)} × the store read` });
    report({ name: "render report.html", value: render, unit: "ms", note: `${(render / read).toFixed(2)} × the store read` });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function folderBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce(
    (sum, entry) => sum + (entry.isDirectory() ? folderBytes(join(dir, entry.name)) : statSync(join(dir, entry.name)).size),
    0,
  );
}
