import type { Command } from "commander";
import { addCalibrationOptions, addTasksOption, METHOD_HELP, tasksOrStudyAction } from "../calibration-flags.ts";

export function register(program: Command): void {
  const command = program
    .command("compare")
    .argument("[study]", "study.yaml (its tasks table); or use --tasks")
    .description("Models side by side: their gaps (bias) and their held-out calibrated width and coverage")
    .summary("models side by side: bias, calibrated width and coverage");
  addTasksOption(command);
  command.option("--results <dir>", "with <study.yaml>: the folder holding results/<study>/", "results");
  command.option("--protocol <loo|chrono>", "held-out protocol for coverage and width", "loo");
  addCalibrationOptions(command, "alg4")
    .option("--json", "print the comparison as JSON")
    .option("--out <file>", "write the comparison table (CSV)")
    .addHelpText(
      "after",
      `
The narrower a model's calibrated interval at the same coverage, the more its
synthetic samples are worth. Options as for silicon evaluate.

Methods (--method, default alg4 as for evaluate: held-out coverage is judged
against real estimates, the finite-sample target alg4 calibrates; calibrate
defaults to alg1, the population target):
${METHOD_HELP}

With <study.yaml> the tasks come from the study's stored answers, compared
kind by kind (gaps in a thermometer's points are not gaps in proportions).

Examples:
  silicon compare results/demo/study.yaml
  silicon compare --tasks examples/tasks.csv
  silicon compare --tasks examples/tasks.csv --protocol chrono --method alg1 --json`,
    )
    .action(
      tasksOrStudyAction(
        "compare",
        async () => (await import("../study-commands.ts")).runStudyCompare,
        async () => (await import("../actions/compare.ts")).runCompare,
      ),
    );
}
