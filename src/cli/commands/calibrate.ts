import type { Command } from "commander";
import { addCalibrationOptions, addTasksOption, METHOD_HELP, tasksOrStudyAction } from "../calibration-flags.ts";

export function register(program: Command): void {
  const command = program
    .command("calibrate")
    .argument("[study]", "study.yaml (its tasks table); or use --tasks")
    .description("Confidence intervals for target tasks, calibrated on the historical tasks of their model")
    .summary("calibrated intervals for the target rows of a tasks table");
  addTasksOption(command);
  command.option("--results <dir>", "with <study.yaml>: the folder holding results/<study>/", "results");
  addCalibrationOptions(command, "alg1")
    .option("--out <file>", "write the intervals table (CSV): task, model, coord, method, alpha, lower, upper, estimate, naive_lower, naive_upper (with <study.yaml>: default results/<study>/intervals.csv; - for standard output)")
    .option("--intersect-real", "section 4.4: targets with real_est and real_se (a small real sample) get the calibrated interval at (1−λ)α intersected with their real interval at λα")
    .option("--lambda <λ>", "with --intersect-real: share of α for the real interval", "0.5")
    .addHelpText(
      "after",
      `
Methods (--method, default alg1: intervals for the population value θ a
forecast is about; evaluate and compare default to alg4, the finite-sample
target their held-out real estimates can check):
${METHOD_HELP}

Each model is calibrated on its own history. Rows with role target get an
interval; rows with role history calibrate. Vector tasks (rows sharing task,
one per coord) are calibrated jointly by alg3 and alg3-bonferroni; the other
methods calibrate each coordinate on its own. Intervals are clipped to [0, 1]
when every estimate is a proportion (--range).

With <study.yaml> the tasks come from the study's stored answers (after
silicon generate or silicon run), calibrated kind by kind (each item scale,
each vector target) with the study's calibration section; flags given here
override it. Intervals go to results/<study>/intervals.csv unless --out.

Examples:
  silicon calibrate results/demo/study.yaml
  silicon calibrate results/demo/study.yaml --method alg4 --out intervals.csv
  silicon calibrate --tasks examples/tasks.csv
  silicon calibrate --tasks examples/tasks.csv --method alg4 --alpha 0.1 --out results/intervals.csv
  silicon calibrate --tasks examples/tasks.csv --method alg3 --alpha 0.2
  silicon calibrate --tasks examples/tasks.csv --adjust --split-by item --features syn_est,subgroup
  silicon calibrate --tasks examples/tasks.csv --method alg2 --decay 0.8 --alpha 0.2 --strata subgroup`,
    )
    .action(
      tasksOrStudyAction(
        "calibrate",
        async () => (await import("../study-commands.ts")).runStudyCalibrate,
        async () => (await import("../actions/calibrate.ts")).runCalibrate,
      ),
    );
}

