import type { Command } from "commander";
import { addCalibrationOptions, addTasksOption, METHOD_HELP, tasksOrStudyAction } from "../calibration-flags.ts";

export function register(program: Command): void {
  const command = program
    .command("evaluate")
    .argument("[study]", "study.yaml (its tasks table); or use --tasks")
    .description("Held-out coverage and width of a calibration method, per model, beside the naive synthetic-only interval")
    .summary("held-out coverage and width per model (leave-one-out, chronological or leave-one-group-out)");
  addTasksOption(command);
  command.option("--results <dir>", "with <study.yaml>: the folder holding results/<study>/", "results");
  command.option(
    "--protocol <loo|chrono|group>",
    "loo: each history task in turn is the target; chrono: each group (wave) calibrated on the earlier ones; group: each value of --group-by held out in turn, calibrated on the others",
  );
  command.option("--group-by <column>", "with --protocol group: the column whose values are held out together (default group, the wave; or item, subgroup, any column)");
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

Leave-one-out coverage of alg4 is fixed by arithmetic ((k_hi − k_lo)/(T+1),
whatever the data) and cannot show a failure; evaluate says so. The checks
that can fail are --protocol chrono and --protocol group (by item, by wave):
a group whose gaps differ from the others' under-covers, and the per-group
coverage comes with an exact (Clopper–Pearson) 95% interval.

With <study.yaml> the tasks come from the study's stored answers, evaluated
kind by kind with the study's calibration section (flags override it).

Examples:
  silicon evaluate results/demo/study.yaml --protocol loo
  silicon evaluate results/demo/study.yaml --protocol chrono --json
  silicon evaluate --tasks examples/tasks.csv --protocol group --group-by item
  silicon evaluate --tasks examples/tasks.csv --protocol group
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

