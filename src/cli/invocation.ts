/**
 * The command line being run, for provenance (report.html, evaluation.json):
 * what `main` was given, so an in-process run (tests, a library caller)
 * records its own arguments rather than the host process's.
 */
let current: readonly string[] | undefined;

export function setInvocation(argv: readonly string[]): void {
  current = argv;
}

/** `silicon <arguments>` (not yet redacted). */
export function invocationLine(): string {
  return `silicon ${(current ?? process.argv).slice(2).join(" ")}`;
}
