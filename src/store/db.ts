/**
 * Opening a study store: node:sqlite in WAL mode (readers never block the one
 * writer, so progress can be polled while a run writes), a busy timeout, and
 * migrations tracked in `PRAGMA user_version`. A store written by a newer
 * silicon is refused, never downgraded.
 */
import { readdirSync, readFileSync } from "node:fs";
import { DatabaseSync, type StatementSync } from "./sqlite.ts";
import { fileURLToPath } from "node:url";
import { StoreError } from "../errors.ts";
import { crashPoint } from "../util/crash-points.ts";
import { textDigest } from "./encoding.ts";

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
    throw storeFailure(path, error);
  }
  return db;
}

/** Opens an existing store read-only (dry runs, exports, polling a running store). */
export function openReadOnly(path: string, options: { busyTimeoutMs?: number } = {}): DatabaseSync {
  const db = open(path, true, options.busyTimeoutMs ?? 10_000);
  let version: number;
  try {
    version = schemaVersion(db);
  } catch (error) {
    db.close();
    throw storeFailure(path, error);
  }
  const latest = migrations().at(-1)?.version ?? 0;
  if (version > latest) {
    db.close();
    throw tooNew(path, version, latest);
  }
  // 0: created, but its first run was stopped before the schema was written: an empty store.
  if (version > 0 && version < latest) {
    db.close();
    throw tooOld(path, version, latest);
  }
  return db;
}

/** SQLite's primary result codes that mean something to a user (https://sqlite.org/rescode.html). */
const SQLITE_FAILURES: Record<number, string> = {
  8: "the store is read-only (SQLite: attempt to write a readonly database); check the permissions of its folder",
  10: "reading or writing the store failed (SQLite: disk I/O error); check the disk",
  11: "the store is damaged (SQLite: database disk image is malformed); move it away to start afresh (every call will be made again), or restore it from a backup",
  13: "the disk is full; free some space and run the same command again: everything stored so far is kept",
  14: "the store cannot be opened (SQLite: unable to open database file); check the folder exists and may be written",
  26: "not a silicon store (SQLite: file is not a database); move it away, or use another --results folder",
};

/**
 * An error from node:sqlite as one line naming the store and what to do
 * (a StoreError, exit status 1), rather than an internal error. Other
 * errors pass through unchanged.
 */
export function storeFailure(path: string, error: unknown): unknown {
  const sqlite = error as { code?: unknown; errcode?: unknown; message?: unknown } | null;
  if (sqlite === null || typeof sqlite !== "object" || sqlite.code !== "ERR_SQLITE_ERROR") return error;
  const primary = typeof sqlite.errcode === "number" ? sqlite.errcode & 0xff : -1;
  const what = SQLITE_FAILURES[primary] ?? `SQLite: ${String(sqlite.message)}`;
  return new StoreError(`${path}: ${what}`, { cause: error });
}

/**
 * Brings the schema up to date, one transaction per migration. Foreign keys
 * are not enforced while a migration rebuilds tables (SQLite's way of
 * changing a table: create the new one, copy, drop the old, rename); they
 * are checked before its commit instead.
 */
export function migrate(db: DatabaseSync, path: string, available: Migration[] = migrations()): void {
  const current = schemaVersion(db);
  const latest = available.at(-1)?.version ?? 0;
  if (current > latest) throw tooNew(path, current, latest);
  if (current === latest) return;
  const enforced = (db.prepare("PRAGMA foreign_keys").get() as { foreign_keys: number }).foreign_keys === 1;
  db.exec("PRAGMA foreign_keys = OFF");
  // Store schema 4 digests the texts it keeps (see textDigest).
  db.function("silicon_text_digest", { deterministic: true }, (text) => textDigest(String(text)));
  try {
    for (const migration of available) {
      if (migration.version > current) migrateTo(db, path, migration);
    }
  } finally {
    if (enforced) db.exec("PRAGMA foreign_keys = ON");
  }
}

function migrateTo(db: DatabaseSync, path: string, migration: Migration): void {
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(migration.sql);
    const broken = db.prepare("PRAGMA foreign_key_check").all();
    if (broken.length > 0) throw new Error(`${broken.length} row(s) refer to rows that do not exist, for example ${JSON.stringify(broken[0])}`);
    crashPoint("store-migrate");
    db.exec(`PRAGMA user_version = ${migration.version}`);
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw new StoreError(`${path}: migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
  }
}

/** The path each store was opened with, as the user gave it, for messages. */
const openedAs = new WeakMap<DatabaseSync, string>();

function open(path: string, readOnly: boolean, busyTimeoutMs: number): DatabaseSync {
  try {
    const db = new DatabaseSync(path, { readOnly, timeout: busyTimeoutMs });
    openedAs.set(db, path);
    return db;
  } catch (error) {
    throw new StoreError(`${path}: cannot open the store: ${(error as Error).message}`, { cause: error });
  }
}

/** Only the writer upgrades a store (a reader, such as a dry run, writes nothing). */
function tooOld(path: string, version: number, latest: number): StoreError {
  return new StoreError(
    `${path}: written by an earlier silicon (store schema version ${version}; this version uses ${latest}); ` +
      "run silicon generate on the study once to upgrade it (what is stored is kept, and not asked again)",
  );
}

function tooNew(path: string, version: number, latest: number): StoreError {
  return new StoreError(
    `${path}: written by a newer silicon (store schema version ${version}; this version knows up to ${latest}); ` +
      "upgrade silicon, or use another --results folder",
  );
}

/** What to forget when a transaction is rolled back (memory of rows it wrote), by store. */
const rollbackListeners = new WeakMap<DatabaseSync, (() => void)[]>();

/** Calls `forget` whenever a transaction on `db` is rolled back. */
export function onRollback(db: DatabaseSync, forget: () => void): void {
  rollbackListeners.set(db, [...(rollbackListeners.get(db) ?? []), forget]);
}

/** BEGIN and COMMIT of each store, prepared once: a run commits thousands of transactions. */
const transactionStatements = new WeakMap<DatabaseSync, { begin: StatementSync; commit: StatementSync }>();

/** Write transactions begun on each store so far: which one is open (see `openTransaction`). */
const transactionsBegun = new WeakMap<DatabaseSync, number>();

/** Runs `fn` in one write transaction: all of it is stored, or none. */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  try {
    let statements = transactionStatements.get(db);
    if (statements === undefined) {
      statements = { begin: db.prepare("BEGIN IMMEDIATE"), commit: db.prepare("COMMIT") };
      transactionStatements.set(db, statements);
    }
    statements.begin.run();
    transactionsBegun.set(db, (transactionsBegun.get(db) ?? 0) + 1);
    try {
      const result = fn();
      statements.commit.run();
      return result;
    } catch (error) {
      if (db.isTransaction) db.exec("ROLLBACK");
      for (const forget of rollbackListeners.get(db) ?? []) forget();
      throw error;
    }
  } catch (error) {
    throw storeFailure(pathOf(db), error);
  }
}

/**
 * A number naming the write transaction open on `db` (another for each one
 * begun), so that something done once per transaction can tell whether it
 * was done in this one. Undefined outside a transaction.
 */
export function openTransaction(db: DatabaseSync): number | undefined {
  return db.isTransaction ? transactionsBegun.get(db) : undefined;
}

function pathOf(db: DatabaseSync): string {
  return openedAs.get(db) ?? db.location() ?? "the store";
}

/** Runs a read of the store, its SQLite errors turned into StoreErrors. */
export function reading<T>(db: DatabaseSync, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw storeFailure(pathOf(db), error);
  }
}
