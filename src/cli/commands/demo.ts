import type { Command } from "commander";

export function register(program: Command): void {
  program
    .command("demo")
    .summary("offline, end to end: a simulated study generated, calibrated, evaluated and reported in results/demo/")
    .description(
      "Builds a demo study in results/demo/ (a six-wave panel: ANES-like feeling thermometers by party, Pew-like " +
        "approval among co-partisans and the opposition by region; two simulated models with known biases), then runs " +
        "the whole pipeline on it offline: no network, no API key. A second run reuses the stored answers.",
    )
    .option("--results <dir>", "folder to put demo/ in", "results")
    .option("--quiet", "no progress bar (there is none anyway when output is not a terminal)")
    .addHelpText(
      "after",
      `
Then open results/demo/report.html, or run any stage on the study yourself:
  silicon evaluate results/demo/study.yaml --protocol chrono
  silicon compare results/demo/study.yaml

Example:
  silicon demo`,
    )
    .action(async (options: { results?: string; quiet?: boolean }) => {
      const { runDemo } = await import("../study-commands.ts");
      await runDemo(options);
    });
}
