import { setInvocation } from "./invocation.ts";
import { CommanderError } from "commander";
import { SiliconError } from "../errors.ts";
import { redactSecrets } from "../util/secrets.ts";
import { buildProgram } from "./program.ts";

/**
 * Runs the command line and returns the exit status: the only place that
 * decides exit codes. Errors become one line on stderr (secrets redacted);
 * the stack trace is shown only with --debug.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const debug = argv.includes("--debug");
  setInvocation(argv);
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (error) {
    return reportError(error, debug);
  }
}

export function reportError(error: unknown, debug: boolean): number {
  if (error instanceof CommanderError) {
    // Commander already printed help or its own one-line message.
    return error.exitCode === 0 ? 0 : 2;
  }
  const write = (text: string) => process.stderr.write(redactSecrets(text) + "\n");
  if (error instanceof SiliconError) {
    write(`silicon: ${error.message}`);
    if (debug && error.stack) write(error.stack);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  write(`silicon: internal error: ${message}${debug ? "" : " (run again with --debug for details)"}`);
  if (debug && error instanceof Error && error.stack) write(error.stack);
  return 70;
}
