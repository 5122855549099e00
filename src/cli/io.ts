/**
 * Where a command writes: standard output and standard error, or (in tests
 * and library callers) anything that takes text.
 */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};
