import type { Command } from "commander";
import { SiliconError } from "../../errors.ts";

// Scaffold: replaced by the issue that implements `silicon compare`.
export function register(program: Command): void {
  program
    .command("compare")
    .description("(not yet available)")
    .allowUnknownOption()
    .action(() => {
      throw new SiliconError("silicon compare is not available yet");
    });
}
