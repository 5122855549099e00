import type { Command } from "commander";
import { SiliconError } from "../../errors.ts";

// Scaffold: replaced by the issue that implements `silicon demo`.
export function register(program: Command): void {
  program
    .command("demo")
    .description("(not yet available)")
    .allowUnknownOption()
    .action(() => {
      throw new SiliconError("silicon demo is not available yet");
    });
}
