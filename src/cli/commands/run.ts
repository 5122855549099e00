import type { Command } from "commander";
import { addCalibrationOptions } from "../calibration-flags.ts";

export function register(program: Command): void {
  const command = program
    .command("run")
    .argument("<study.yaml>", "the study file")
    .summary("generate, estimate, calibrate, evaluate, compare and report, reusing stored answers")
    .description(
      "The whole pipeline on a study: generate what the store lacks (a rerun sends nothing new), then estimate the tasks, " +
        "calibrate the target wave against the historical ones, evaluate (leave-one-out, chronological), compare the models and write report.html.",
    )
    .option("--results <dir>", "folder holding results/<study>/", "results")
    .option("--model <vendor:model>", "generate for this one model only (the analysis uses every stored model)")
    .option("--max-cost <usd>", "hard cap on what this run's generation spends, in US dollars")
    .option("--concurrency <n>", "requests in flight at most (default: the study's concurrency)")
    .option("--timeout <seconds>", "per-request timeout", "60")
    .option("--wait [seconds]", "if another silicon process is writing this study's store, wait for it (default: refuse)")
    .option("--quiet", "no generation progress; only errors and summaries")
    .option("--allow-infeasible", "generate even when the study's tasks cannot be calibrated at its α (the pre-flight check would refuse); such kinds are then reported as skipped");
  addCalibrationOptions(command, "alg1")
    .addHelpText(
      "after",
      `
Writes results/<study>/: store.sqlite (every call; the cache), responses.csv
and .parquet, tasks.csv, intervals.csv, evaluation.json, evaluation.csv,
comparison.csv and report.html. Calibration follows the study's calibration
section; flags given here override it.

Examples:
  silicon run surveys/example-study.yaml
  silicon run results/demo/study.yaml --method alg4
  OPENAI_BASE_URL=http://localhost:8000/v1 silicon run study.yaml --model openai:llama-3.1-8b`,
    )
    .action(async (study: string, options, cmd: Command) => {
      const { runStudy } = await import("../study-commands.ts");
      await runStudy(study, options, cmd);
    });
}
