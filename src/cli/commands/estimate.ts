import type { Command } from "commander";
import { SiliconError } from "../../errors.ts";

// Scaffold: replaced by the issue that implements `silicon estimate`.
export function register(program: Command): void {
  program
    .command("estimate")
    .description("(not yet available)")
    .allowUnknownOption()
    .action(() => {
      throw new SiliconError("silicon estimate is not available yet");
    });
}
