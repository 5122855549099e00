import type { Command } from "commander";
import { SiliconError } from "../../errors.ts";

// Scaffold: replaced by the issue that implements `silicon evaluate`.
export function register(program: Command): void {
  program
    .command("evaluate")
    .description("(not yet available)")
    .allowUnknownOption()
    .action(() => {
      throw new SiliconError("silicon evaluate is not available yet");
    });
}
