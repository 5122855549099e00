import type { Command } from "commander";
import { SiliconError } from "../../errors.ts";

// Scaffold: replaced by the issue that implements `silicon generate`.
export function register(program: Command): void {
  program
    .command("generate")
    .description("(not yet available)")
    .allowUnknownOption()
    .action(() => {
      throw new SiliconError("silicon generate is not available yet");
    });
}
