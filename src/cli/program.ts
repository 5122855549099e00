import { Command } from "commander";
import { register as registerCalibrate } from "./commands/calibrate.ts";
import { register as registerCompare } from "./commands/compare.ts";
import { register as registerDemo } from "./commands/demo.ts";
import { register as registerEstimate } from "./commands/estimate.ts";
import { register as registerEvaluate } from "./commands/evaluate.ts";
import { register as registerGenerate } from "./commands/generate.ts";
import { register as registerReport } from "./commands/report.ts";
import { register as registerRun } from "./commands/run.ts";
import { siliconVersion } from "../version.ts";

/**
 * The command tree. Each command file declares its own options and help, and
 * imports its implementation lazily so that `silicon --help` stays fast.
 */
export function buildProgram(): Command {
  const program = new Command("silicon")
    .description("Synthetic survey respondents from LLMs, calibrated into valid confidence intervals")
    .version(siliconVersion(), "-V, --version", "print silicon's version")
    .option("--debug", "print stack traces for errors")
    .exitOverride()
    .configureOutput(output("silicon"));
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
  for (const command of program.commands) command.configureOutput(output(`silicon ${command.name()}`));
  return program;
}

/**
 * Usage errors (an unknown option, a missing argument) as one line like every
 * other error, `silicon: <problem> (see silicon <command> --help)`, instead of
 * commander's "error: ..." and a second line with the hint.
 */
function output(usage: string) {
  return {
    writeErr: (text: string) => process.stderr.write(text),
    outputError: (text: string, write: (text: string) => void) =>
      write(`silicon: ${text.trim().replace(/^error: /, "").replace(/\s*\n\s*/g, " ")} (see ${usage} --help)\n`),
  };
}
