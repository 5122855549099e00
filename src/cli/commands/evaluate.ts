import type { Command } from "commander";
import { addCalibrationOptions, addTasksOption, METHOD_HELP, tasksOrStudyAction } from "../calibration-flags.ts";

export function register(program: Command): void {
  const command = program
    .command("evaluate")
    .argument("[study]", "study.yaml (its tasks table); or use --tasks")
    .description("Held-out coverage and width of a calibration method, per model, beside the naive synthetic-only interval")
    .summary("held-out coverage and width per model (leave-one-out or chronological)");
  addTasksOption(command);
  command.option("--results <dir>", "with <study.yaml>: the folder holding results/<study>/", "results");
  command.option("--protocol <loo|chrono>", "loo: each history task in turn is the target; chrono: each group (wave) calibrated on the earlier ones");
  addCalibrationOptions(command, "alg4")
    .option("--json", 'print {"protocol", "method", "alpha", "by_model": {...}} instead of tables')
    .option("--out <file>", "write one row per held-out task (CSV): its interval, real_est and whether it was covered")
    .addHelpText(
      "after",
      `
Methods (--method, default alg4: the finite-sample target that held-out data can check):
${METHOD_HELP}

Coverage is judged against each held-out task's real estimate, as the paper
does; the population methods (alg1, alg2, alg5) are conservative for it.

With <study.yaml> the tasks come from the study's stored answers, evaluated
kind by kind with the study's calibration section (flags override it).

Examples:
  silicon evaluate results/demo/study.yaml --protocol loo
  silicon evaluate results/demo/study.yaml --protocol chrono --json
  silicon evaluate --tasks examples/tasks.csv --protocol loo
  silicon evaluate --tasks examples/tasks.csv --protocol chrono --method alg1
  silicon evaluate --tasks examples/tasks.csv --protocol loo --adjust --json
  silicon evaluate --tasks examples/tasks.csv --protocol loo --alpha 0.2 --strata subgroup --out results/loo.csv`,
    )
    .action(
      tasksOrStudyAction(
        "evaluate",
        async () => (await import("../study-commands.ts")).runStudyEvaluate,
        async () => (await import("../actions/evaluate.ts")).runEvaluate,
      ),
    );
}

