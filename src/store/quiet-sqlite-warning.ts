/**
 * Node 22 prints "ExperimentalWarning: SQLite is an experimental feature" to
 * stderr the first time node:sqlite loads (Node 24 does not). silicon
 * promises one line on stderr for bad input and nothing for a clean run, and
 * the store is an implementation detail a user did not choose, so exactly
 * that warning is dropped; every other warning passes through unchanged.
 * This module must be imported before node:sqlite (see ./sqlite.ts).
 */
const emitWarning = process.emitWarning;

function isSqliteExperimentalWarning(warning: string | Error, typeOrOptions: unknown): boolean {
  const type =
    typeof typeOrOptions === "string"
      ? typeOrOptions
      : typeof typeOrOptions === "object" && typeOrOptions !== null && "type" in typeOrOptions
        ? (typeOrOptions as { type?: unknown }).type
        : warning instanceof Error
          ? warning.name
          : undefined;
  const text = typeof warning === "string" ? warning : warning.message;
  return type === "ExperimentalWarning" && text.startsWith("SQLite is an experimental feature");
}

process.emitWarning = function quietSqliteWarning(this: NodeJS.Process, warning: string | Error, ...rest: unknown[]): void {
  if (isSqliteExperimentalWarning(warning, rest[0])) return;
  (emitWarning as (...args: unknown[]) => void).call(this, warning, ...rest);
} as typeof process.emitWarning;
