/**
 * node:sqlite, loaded after the filter that keeps Node 22's experimental-feature
 * warning off stderr. A static `import … from "node:sqlite"` would not do: the
 * ES module loader loads built-ins while it links the module graph, before any
 * module (the filter included) has run, so the warning would already be out.
 * `process.getBuiltinModule` loads it here, when this module runs.
 */
import "./quiet-sqlite-warning.ts";

type SqliteModule = typeof import("node:sqlite");

const sqlite = process.getBuiltinModule("node:sqlite") as SqliteModule;

export const DatabaseSync: SqliteModule["DatabaseSync"] = sqlite.DatabaseSync;
export type DatabaseSync = import("node:sqlite").DatabaseSync;
export type { StatementSync } from "node:sqlite";
