/**
 * The study forms of the commands: `silicon estimate|calibrate|evaluate|
 * compare|report|run <study.yaml>` and `silicon demo`. Each loads the study
 * (every check before any work), reads the stored answers, and runs the
 * stages the command names; run generates first. Calibration settings come
 * from the study's `calibration` section; flags given on the command line
 * override them.
 */
import { invocationLine } from "./invocation.ts";
import { join, relative } from "node:path";
import type { Command } from "commander";
import { loadStudy, type LoadedStudy } from "../config/load.ts";
import { SiliconError, UsageError } from "../errors.ts";
import { studyTasks } from "../estimands/from-study.ts";
import type { Protocol } from "../evaluation/evaluate.ts";
import { analyzeStudy, type StudyAnalysis } from "../pipeline/analyze.ts";
import { writeDemoStudy } from "../pipeline/demo-study.ts";
import { intervalsCsv, OUTPUT_FILES, tasksCsv } from "../pipeline/outputs.ts";
import { analysisSettings, describeSettings, type AnalysisSettings } from "../pipeline/settings.ts";
import { storedAnswers, type PlannedPrompts } from "../pipeline/stored-answers.ts";
import { checkCalibratable, requireSomeResult, writeStudyResults, type StudyResults } from "../pipeline/study-results.ts";
import { OutputSet } from "../util/atomic-write.ts";
import { processIo, type Io } from "./io.ts";
import { fixedCoverageLine, parseProtocol } from "./actions/evaluate.ts";
import { taskColumns } from "../config/check-analysis.ts";
import type { RawCalibrationOptions } from "./calibration-flags.ts";
import { parseAlpha, parseDecay, parseRidge, parseSeed } from "./calibration-options.ts";
import { redactSecrets } from "../util/secrets.ts";
import { byGroupTable, calibrationTable, comparisonTable, coverageTable } from "./study-summary.ts";

export interface StudyFlags extends Partial<RawCalibrationOptions> {
  results?: string;
  out?: string;
}

const DEFAULT_RESULTS = "results";

async function loadForAnalysis(studyFile: string): Promise<LoadedStudy> {
  const study = await loadStudy(studyFile);
  checkCalibratable(study);
  return study;
}

/** The study's settings with the flags the user typed (not commander's defaults) on top. */
export function settingsFrom(study: LoadedStudy, raw: Partial<RawCalibrationOptions>, command: Command | undefined): AnalysisSettings {
  const settings = analysisSettings(study.study.calibration);
  const given = (key: string) => command !== undefined && ["cli", "env"].includes(command.getOptionValueSource(key) ?? "");
  if (given("range")) throw new UsageError("--range: a study's tasks are clipped to each item's own scale (0–100 for thermometers, 0–1 for proportions); it applies to --tasks tables only");
  if (given("interval") && raw.interval !== "wald") {
    throw new UsageError("--interval logit applies to --tasks tables only: a study's intervals are Wald; calibrate results/<study>/tasks.csv with --tasks for the logit form");
  }
  if (given("weights")) throw new UsageError("--weights: a study's tasks have no weight column; use --decay γ (alg2) or calibration.decay in the study");
  if (given("method") && raw.method !== undefined) {
    if (raw.method === "alg3" || raw.method === "alg3-bonferroni" || raw.method === "alg3-fitted") settings.vectorMethod = raw.method;
    else settings.method = raw.method as AnalysisSettings["method"];
  }
  if (given("alpha") && raw.alpha !== undefined) settings.alpha = parseAlpha(raw.alpha);
  const columns = taskColumns(study.analysis);
  const requireColumn = (column: string, option: string) => {
    if (!columns.includes(column)) throw new UsageError(`${option}: the study's tasks have no column "${column}"; they have ${columns.join(", ")}`);
  };
  if (given("strata") && raw.strata !== undefined) {
    settings.strata = raw.strata.split(",").map((s) => s.trim());
    for (const column of settings.strata) requireColumn(column, "--strata");
  }
  if (raw.adjust === true && raw.splitBy !== undefined && raw.splitBy !== "task") requireColumn(raw.splitBy, "--split-by");
  if (given("decay") && raw.decay !== undefined) settings.decay = parseDecay(raw.decay);
  if (raw.adjust === true) {
    settings.adjust = {
      ...(raw.adjustSplit === true ? { mode: "split" as const } : {}),
      ...(raw.splitBy === undefined ? {} : { splitBy: raw.splitBy }),
      ...(raw.features === undefined ? {} : { features: raw.features.trim() === "none" ? [] : raw.features.split(",").map((f) => f.trim()) }),
      ridge: parseRidge(raw.ridge ?? "1"),
      seed: parseSeed(raw.seed ?? "1"),
    };
  } else if (given("splitBy") || given("features") || given("adjustSplit")) {
    throw new UsageError(`${given("splitBy") ? "--split-by" : given("features") ? "--features" : "--adjust-split"} only applies with --adjust`);
  }
  if (settings.method === "alg2" && settings.decay === undefined) throw new UsageError("--method alg2 on a study needs --decay γ (or calibration.decay in the study)");
  return settings;
}

function resultsDir(flags: StudyFlags): string {
  return flags.results ?? DEFAULT_RESULTS;
}

function say(io: Io, line: string): void {
  io.stderr(`silicon: ${line}\n`);
}

function analyzeStored(study: LoadedStudy, flags: StudyFlags, settings: AnalysisSettings, steps: Parameters<typeof analyzeStudy>[3], io: Io): { analysis: StudyAnalysis; tasks: ReturnType<typeof studyTasks> } {
  const stored = storedAnswers(study, resultsDir(flags));
  if (stored.stored < stored.cells) say(io, `note: ${stored.cells - stored.stored} of ${stored.cells} cells have no stored answer yet; silicon generate ${study.file} asks them`);
  const tasks = studyTasks(study, stored.answers);
  for (const warning of tasks.warnings) say(io, `warning: ${warning}`);
  // One kind with too little history for α must not hide the others: each is reported, and only all failing stops.
  const analysis = analyzeStudy(study, tasks.tasks, settings, { ...steps, onInfeasible: "record" });
  requireSomeResult(analysis);
  return { analysis, tasks };
}

export async function runStudyEstimate(studyFile: string, flags: StudyFlags, io: Io = processIo): Promise<void> {
  const study = await loadForAnalysis(studyFile);
  const stored = storedAnswers(study, resultsDir(flags));
  const result = studyTasks(study, stored.answers);
  const out = flags.out ?? join(resultsDir(flags), study.study.name, OUTPUT_FILES.tasks.name);
  const csv = tasksCsv(result.tasks);
  if (out === "-") io.stdout(csv);
  else await OutputSet.write((set) => set.stage(out, csv));
  for (const warning of result.warnings) say(io, `warning: ${warning}`);
  const targets = result.tasks.filter((t) => t.role === "target").length;
  say(io, `wrote ${result.tasks.length} task rows (${result.tasks.length - targets} history, ${targets} target) from ${stored.count} stored answers to ${out === "-" ? "standard output" : out}`);
}

export async function runStudyCalibrate(studyFile: string, raw: RawCalibrationOptions & StudyFlags, command?: Command, io: Io = processIo): Promise<StudyAnalysis> {
  const study = await loadForAnalysis(studyFile);
  const settings = settingsFrom(study, raw, command);
  const { analysis } = analyzeStored(study, raw, settings, { protocols: [], compare: false }, io);
  const targets = analysis.kinds.reduce((n, k) => n + k.targets.length, 0);
  if (targets === 0) throw new UsageError(`${study.file} has no target wave (role: target): nothing to calibrate; silicon evaluate ${studyFile} checks the method on the historical waves`);
  const out = raw.out ?? join(resultsDir(raw), study.study.name, OUTPUT_FILES.intervals.name);
  const csv = intervalsCsv(analysis);
  // Rows written: the other rectangle's too, for vector targets.
  const count = analysis.kinds.reduce((n, k) => n + k.intervals.length + (k.alternative?.intervals.length ?? 0), 0);
  if (out === "-") {
    // The table is the output; the summary goes where messages go.
    io.stdout(csv);
    io.stderr(`${describeSettings(settings)}\n\n${calibrationTable(analysis)}`);
  } else {
    await OutputSet.write((set) => set.stage(out, csv));
    io.stdout(`${describeSettings(settings)}\n\n${calibrationTable(analysis)}`);
    io.stdout(`wrote ${count} intervals to ${out}\n`);
  }
  for (const line of analysis.warnings) say(io, `warning: ${line}`);
  for (const line of analysis.notes) say(io, `note: ${line}`);
  return analysis;
}

export async function runStudyEvaluate(
  studyFile: string,
  raw: RawCalibrationOptions & StudyFlags & { protocol?: string; groupBy?: string; json?: boolean },
  command?: Command,
  io: Io = processIo,
): Promise<StudyAnalysis> {
  const protocol: Protocol = parseProtocol(raw.protocol);
  const study = await loadForAnalysis(studyFile);
  const settings = settingsFrom(study, raw, command);
  if (raw.groupBy !== undefined) {
    if (!taskColumns(study.analysis).includes(raw.groupBy)) {
      throw new UsageError(`--group-by: the study's tasks have no column "${raw.groupBy}"; they have ${taskColumns(study.analysis).join(", ")}`);
    }
    settings.groupBy = raw.groupBy;
  }
  const { analysis } = analyzeStored(study, raw, settings, { calibrate: false, protocols: [protocol], compare: false }, io);
  if (raw.json) {
    const kinds = analysis.kinds.flatMap((k) =>
      [k, ...(k.alternative === undefined ? [] : [k.alternative])]
        // A method no model had enough history for is left out; the warnings and notes say why.
        .filter((r) => r.evaluations[protocol] !== undefined && Object.keys(r.evaluations[protocol]!.report.by_model).length > 0)
        .map((r) => ({ kind: k.kind.key, label: k.kind.label, range: k.kind.range, ...r.evaluations[protocol]!.report })),
    );
    const single = kinds.length === 1 ? { method: kinds[0]!.method, by_model: kinds[0]!.by_model } : {};
    io.stdout(JSON.stringify({ protocol, alpha: settings.alpha, ...single, kinds }, null, 2) + "\n");
  } else {
    const title = { loo: "leave-one-task-out", chrono: "chronological (expanding window over waves)", group: `leave-one-group-out by ${settings.groupBy}` }[protocol];
    io.stdout(`${title} evaluation; ${describeSettings(settings)}; coverage judged against each held-out task's real estimate\n\n${coverageTable(analysis, [protocol])}`);
    const fixedLines = analysis.kinds.flatMap((k) => {
      const line = k.evaluations[protocol] === undefined ? undefined : fixedCoverageLine(k.evaluations[protocol]!.report);
      return line === undefined ? [] : [`${k.kind.label}: ${line}`];
    });
    for (const line of fixedLines) io.stdout(`\n${line}`);
    if (fixedLines.length > 0) io.stdout("\n");
    if (protocol !== "loo") {
      const what = protocol === "chrono" ? "wave" : settings.groupBy;
      io.stdout(`\nBy ${what} (coverage with an exact 95% binomial interval; tasks of one group share its shock, so coverage varies between groups more than that):\n${byGroupTable(analysis, protocol, what)}`);
    }
  }
  for (const line of analysis.warnings) say(io, `warning: ${line}`);
  for (const line of analysis.notes) say(io, `note: ${line}`);
  return analysis;
}

export async function runStudyCompare(studyFile: string, raw: RawCalibrationOptions & StudyFlags & { json?: boolean }, command?: Command, io: Io = processIo): Promise<StudyAnalysis> {
  const study = await loadForAnalysis(studyFile);
  const settings = settingsFrom(study, raw, command);
  const { analysis } = analyzeStored(study, raw, settings, { calibrate: false, protocols: ["loo"], compare: true, alternative: false }, io);
  if (raw.json) {
    io.stdout(JSON.stringify({ protocol: "loo", alpha: settings.alpha, kinds: analysis.kinds.map((k) => ({ kind: k.kind.key, label: k.kind.label, method: k.method, models: k.comparison })) }, null, 2) + "\n");
  } else {
    io.stdout(`Models side by side: gap = real − synthetic over each model's history; calibrated width and coverage held out one task at a time; ${describeSettings(settings)}\n\n${comparisonTable(analysis)}`);
  }
  for (const line of analysis.warnings) say(io, `warning: ${line}`);
  for (const line of analysis.notes) say(io, `note: ${line}`);
  return analysis;
}

/**
 * The held-out protocols a summary shows: those that can fail (chronological,
 * leave-one-group-out) when the study runs any, else leave-one-out.
 */
function shownProtocols(protocols: readonly Protocol[]): Protocol[] {
  const canFail = protocols.filter((p) => p !== "loo");
  return canFail.length > 0 ? canFail : [...protocols];
}

/** Prints where the outputs are and the coverage table. */
function printResults(results: StudyResults, io: Io, allowEmpty = false): void {
  const here = (path: string) => {
    const rel = relative(process.cwd(), path);
    return rel === "" || rel.startsWith("..") ? path : rel;
  };
  const shown = [...shownProtocols(results.analysis.settings.protocols), "target"] as const;
  io.stdout(`\n${coverageTable(results.analysis, shown)}\n`);
  io.stdout(`wrote ${results.files.map(here).join(", ")}\n`);
  io.stdout(`open ${here(join(results.dir, OUTPUT_FILES.report.name))} in a browser for the report\n`);
  for (const line of results.analysis.warnings) say(io, `warning: ${line}`);
  // An empty coverage table is a failure, never a success: nothing checks the intervals.
  const checked = results.analysis.kinds.some((k) =>
    shown.some((p) => Object.values(p === "target" ? k.target : (k.evaluations[p]?.report.by_model ?? {})).some((s) => s.tasks > 0)),
  );
  if (!checked) {
    const message =
      `no coverage could be computed for any kind of task (no held-out protocol could run and no target has real answers to score), so nothing checks the intervals written`;
    if (allowEmpty) {
      say(io, `warning: ${message} (--allow-infeasible)`);
      return;
    }
    throw new SiliconError(
      `no coverage could be computed for any kind of task (no held-out protocol could run and no target has real answers to score), so nothing checks the intervals written; ` +
        `see the warnings above; more historical waves, items or subgroups, or a larger α, would let one run`,
    );
  }
}

export async function runStudyReport(studyFile: string, flags: StudyFlags, command?: Command, io: Io = processIo): Promise<StudyResults> {
  const study = await loadForAnalysis(studyFile);
  const settings = settingsFrom(study, flags, command);
  return report(study, settings, flags, io);
}

async function report(study: LoadedStudy, settings: AnalysisSettings, flags: StudyFlags, io: Io, prompts?: PlannedPrompts): Promise<StudyResults> {
  const stored = storedAnswers(study, resultsDir(flags), prompts);
  if (stored.stored < stored.cells) say(io, `note: ${stored.cells - stored.stored} of ${stored.cells} cells have no stored answer yet; silicon generate ${study.file} asks them`);
  const results = await writeStudyResults(study, stored, { resultsDir: resultsDir(flags), settings, command: redactSecrets(invocationLine()) });
  for (const warning of results.tasks.warnings) say(io, `warning: ${warning}`);
  printResults(results, io, (flags as RunFlags).allowInfeasible === true);
  return results;
}

export interface RunFlags extends StudyFlags {
  model?: string;
  maxCost?: string;
  concurrency?: string;
  quiet?: boolean;
  timeout?: string;
  allowInfeasible?: boolean;
  /** --wait [seconds]: queue behind another writer of the store. */
  wait?: string | boolean;
}

/** Generates what the store lacks, then estimates, calibrates, evaluates, compares and reports. */
export async function runStudy(studyFile: string, flags: RunFlags, command?: Command, io: Io = processIo): Promise<StudyResults> {
  const study = await loadForAnalysis(studyFile);
  const settings = settingsFrom(study, flags, command);
  // Refused before anything is generated (or paid for) when the study's tasks cannot be calibrated at α.
  const { checkBeforeGenerating } = await import("./preflight-text.ts");
  checkBeforeGenerating(study, io, { settings, print: false, allow: flags.allowInfeasible === true });
  const { runGenerateCommand } = await import("./generate.ts");
  const options = {
    results: resultsDir(flags),
    ...(flags.model === undefined ? {} : { model: flags.model }),
    ...(flags.maxCost === undefined ? {} : { maxCost: flags.maxCost }),
    ...(flags.concurrency === undefined ? {} : { concurrency: flags.concurrency }),
    ...(flags.timeout === undefined ? {} : { timeout: flags.timeout }),
    ...(flags.wait === undefined ? {} : { wait: flags.wait }),
    ...(flags.quiet === undefined ? {} : { quiet: flags.quiet }),
  };
  // The study as loaded above: generate does not read its files again.
  const generated = await runGenerateCommand(studyFile, options, study);
  // The prompts generate planned: the report reuses them instead of planning every cell again.
  return report(study, settings, flags, io, generated?.prompts);
}

/** Whether progress can be drawn: stderr and stdout both a terminal (as generate draws its bar). */
function onTerminal(): boolean {
  return process.stderr.isTTY === true && process.stdout.isTTY === true;
}

/** Builds the demo study in results/demo/ and runs the whole pipeline on it, offline. */
export async function runDemo(flags: RunFlags, io: Io = processIo): Promise<StudyResults> {
  const started = Date.now();
  const dir = join(resultsDir(flags), "demo");
  const studyFile = await writeDemoStudy(dir);
  say(io, `demo: wrote the study to ${relative(process.cwd(), studyFile) || studyFile} (simulated models: no network, no key)`);
  // The generation's progress bar on a terminal (a first run takes a while); nothing on a pipe or with --quiet.
  const results = await runStudy(studyFile, { ...flags, quiet: flags.quiet === true || !onTerminal() }, undefined, io);
  // The headline is a check that can fail: each wave calibrated on the earlier ones only.
  const protocol = shownProtocols(results.analysis.settings.protocols)[0]!;
  const held = results.analysis.kinds.flatMap((k) => Object.entries(k.evaluations[protocol]?.report.by_model ?? {}));
  const covered = held.reduce((s, [, m]) => s + m.coverage * m.tasks, 0);
  const naive = held.reduce((s, [, m]) => s + m.naive_coverage * m.tasks, 0);
  const tasks = held.reduce((s, [, m]) => s + m.tasks, 0);
  const what = { loo: "held-out tasks (leave-one-out", chrono: "held-out waves (chronological", group: `held-out ${results.analysis.settings.groupBy}s (leave-one-group-out` }[protocol];
  io.stdout(
    `\n${what}, all kinds and models): calibrated coverage ${(covered / tasks).toFixed(3)}, naive coverage ${(naive / tasks).toFixed(3)} ` +
      `(target 1 − α = ${1 - results.analysis.settings.alpha}); ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  return results;
}
