/**
 * Opening a study store: node:sqlite in WAL mode (readers never block the one
 * writer, so progress can be polled while a run writes), a busy timeout, and
 * migrations tracked in `PRAGMA user_version`. A store written by a newer
 * silicon is refused, never downgraded.
 */
import { readdirSync, readFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { StoreError } from "../errors.ts";

const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations/", import.meta.url));

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The migrations shipped with this version, in order (`NNN-name.sql`). */
export function migrations(dir: string = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((name) => /^\d{3}-.+\.sql$/.test(name))
    .sort()
    .map((name) => ({ version: Number(name.slice(0, 3)), name, sql: readFileSync(dir + name, "utf8") }));
}

export function schemaVersion(db: DatabaseSync): number {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number };
  return row.user_version;
}

/** Opens (creating if needed) the store for writing and brings its schema up to date. */
export function openWritable(path: string, options: { busyTimeoutMs?: number } = {}): DatabaseSync {
  const db = open(path, false, options.busyTimeoutMs ?? 10_000);
  try {
    db.exec("PRAGMA journal_mode = WAL");
    // A SIGKILL never loses a committed transaction in WAL mode with NORMAL;
    // only a power cut can lose the last few, which resume then redoes.
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    migrate(db, path);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** Opens an existing store read-only (dry runs, exports, polling a running store). */
export function openReadOnly(path: string, options: { busyTimeoutMs?: number } = {}): DatabaseSync {
  const db = open(path, true, options.busyTimeoutMs ?? 10_000);
  const version = schemaVersion(db);
  const latest = migrations().at(-1)?.version ?? 0;
  if (version > latest) {
    db.close();
    throw tooNew(path, version, latest);
  }
  return db;
}

export function migrate(db: DatabaseSync, path: string, available: Migration[] = migrations()): void {
  const current = schemaVersion(db);
  const latest = available.at(-1)?.version ?? 0;
  if (current > latest) throw tooNew(path, current, latest);
  for (const migration of available) {
    if (migration.version <= current) continue;
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(migration.sql);
      db.exec(`PRAGMA user_version = ${migration.version}`);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw new StoreError(`${path}: migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
    }
  }
}

function open(path: string, readOnly: boolean, busyTimeoutMs: number): DatabaseSync {
  try {
    return new DatabaseSync(path, { readOnly, timeout: busyTimeoutMs });
  } catch (error) {
    throw new StoreError(`${path}: cannot open the store: ${(error as Error).message}`, { cause: error });
  }
}

function tooNew(path: string, version: number, latest: number): StoreError {
  return new StoreError(
    `${path}: written by a newer silicon (store schema version ${version}; this version knows up to ${latest}); ` +
      "upgrade silicon, or use another --results folder",
  );
}

/** Runs `fn` in one write transaction: all of it is stored, or none. */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = fn();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}
