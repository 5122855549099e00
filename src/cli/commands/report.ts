import type { Command } from "commander";
import { addCalibrationOptions } from "../calibration-flags.ts";

export function register(program: Command): void {
  const command = program
    .command("report")
    .argument("<study.yaml>", "the study file")
    .summary("estimate, calibrate, evaluate and compare the stored answers; write report.html")
    .description(
      "From the study's stored answers (silicon generate): the tasks table, the target wave's calibrated intervals, " +
        "leave-one-out and chronological evaluation, the models side by side, and report.html, all under results/<study>/. Nothing is generated.",
    )
    .option("--results <dir>", "folder holding results/<study>/", "results");
  addCalibrationOptions(command, "alg1")
    .addHelpText(
      "after",
      `
Writes results/<study>/: tasks.csv, intervals.csv, evaluation.json,
evaluation.csv, comparison.csv and report.html (one self-contained page: no
network, no script), all or nothing. The study's calibration section sets the
method and α; flags given here override it.

Examples:
  silicon report results/demo/study.yaml
  silicon report surveys/example-study.yaml --method alg4 --alpha 0.2`,
    )
    .action(async (study: string, options, cmd: Command) => {
      const { runStudyReport } = await import("../study-commands.ts");
      await runStudyReport(study, options, cmd);
    });
}
