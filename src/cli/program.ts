import { Command } from "commander";
import { register as registerCalibrate } from "./commands/calibrate.ts";
import { register as registerCompare } from "./commands/compare.ts";
import { register as registerDemo } from "./commands/demo.ts";
import { register as registerEstimate } from "./commands/estimate.ts";
import { register as registerEvaluate } from "./commands/evaluate.ts";
import { register as registerGenerate } from "./commands/generate.ts";
import { register as registerReport } from "./commands/report.ts";
import { register as registerRun } from "./commands/run.ts";

/**
 * The command tree. Each command file declares its own options and help, and
 * imports its implementation lazily so that `silicon --help` stays fast.
 */
export function buildProgram(): Command {
  const program = new Command("silicon")
    .description("Synthetic survey respondents from LLMs, calibrated into valid confidence intervals")
    .option("--debug", "print stack traces for errors")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  for (const register of [
    registerDemo,
    registerRun,
    registerGenerate,
    registerEstimate,
    registerCalibrate,
    registerEvaluate,
    registerCompare,
    registerReport,
  ]) {
    register(program);
  }
  return program;
}
