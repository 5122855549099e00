/** Runs the silicon command line in-process, capturing its output and exit status. */
import { vi } from "vitest";
import { main } from "../../src/cli/main.ts";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `tty`: run as on a terminal (stdout and stderr report isTTY), e.g. to see progress bars. */
export async function runCli(args: readonly string[], options: { tty?: boolean } = {}): Promise<CliRun> {
  const restoreTty = options.tty === true ? fakeTerminal() : () => {};
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(["node", "silicon", ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    restoreTty();
  }
}

function fakeTerminal(): () => void {
  const before = [process.stdout.isTTY, process.stderr.isTTY];
  process.stdout.isTTY = true;
  process.stderr.isTTY = true;
  return () => {
    process.stdout.isTTY = before[0]!;
    process.stderr.isTTY = before[1]!;
  };
}
