import type { Command } from "commander";
import { SiliconError } from "../../errors.ts";

// Scaffold: replaced by the issue that implements `silicon calibrate`.
export function register(program: Command): void {
  program
    .command("calibrate")
    .description("(not yet available)")
    .allowUnknownOption()
    .action(() => {
      throw new SiliconError("silicon calibrate is not available yet");
    });
}
