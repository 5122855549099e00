import type { OutputSet } from "../../util/atomic-write.ts";
import type { Io } from "../io.ts";

/**
 * Where a command's table goes: `--out FILE` stages the file (written only if
 * the command succeeds); `--out -` prints the table on standard output and
 * moves the human-readable text to standard error, so it can be piped.
 */
export interface TableOutput {
  /** Where summaries and messages go. */
  messages: Io;
  /** Writes the table (nothing when there is no --out: `csv` is called only when it is needed). */
  emit(set: OutputSet, csv: () => string): void;
  /** "standard output", the file, or undefined without --out. */
  where: string | undefined;
}

export function tableOutput(path: string | undefined, io: Io): TableOutput {
  const toStdout = path === "-";
  return {
    messages: toStdout ? { ...io, stdout: io.stderr } : io,
    emit(set, csv) {
      if (path === undefined) return;
      if (toStdout) io.stdout(csv());
      else set.stage(path, csv());
    },
    where: toStdout ? "standard output" : path,
  };
}
