/**
 * A store that is not a store, or is damaged, or sits on a full disk: every
 * command that touches it says so in one line naming the file and what to
 * do (exit status 1), never "internal error", and writes nothing.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { StoreError } from "../../src/errors.ts";
import { migrate, migrations, storeFailure } from "../../src/store/db.ts";
import { runCli } from "../helpers/cli.ts";
import { BASE_FILES } from "../helpers/study-files.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir("silicon-damaged-");

function studyFolder(): string {
  const dir = tempDir();
  for (const [name, content] of Object.entries(BASE_FILES)) writeFileSync(join(dir, name), content);
  return dir;
}

/** Files (not folders: taking the writer lock touches the study folder) with their modification times. */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => statSync(join(dir, name)).isFile())
    .map((name) => `${name} ${statSync(join(dir, name)).mtimeMs}`)
    .sort();
}

describe("a damaged store", () => {
  it("that is not a database: generate, a dry run, report and estimate say so in one line and write nothing", async () => {
    const dir = studyFolder();
    mkdirSync(join(dir, "results/test"), { recursive: true });
    writeFileSync(join(dir, "results/test/store.sqlite"), "these are not the bytes of an SQLite database, but a copy gone wrong\n".repeat(20));
    const before = listing(dir);
    for (const args of [["generate", "study.yaml"], ["generate", "study.yaml", "--dry-run"], ["report", "study.yaml"], ["estimate", "study.yaml"]]) {
      const run = await runCli(args, { cwd: dir });
      expect(run.code, args.join(" ")).toBe(1);
      expect(run.stderr).toBe(
        "silicon: results/test/store.sqlite: not a silicon store (SQLite: file is not a database); move it away, or use another --results folder\n",
      );
      expect(run.stdout).toBe("");
    }
    expect(listing(dir).filter((f) => !f.startsWith("results/test/store.sqlite.lock"))).toEqual(before);
  });

  it("with a damaged page: generate says the store is damaged and what to do", async () => {
    const dir = studyFolder();
    expect((await runCli(["generate", "study.yaml"], { cwd: dir })).code).toBe(0);
    const path = join(dir, "results/test/store.sqlite");
    // Overwrite the root page of the answers' table (answer_records, behind the view `answers`), found in the schema.
    const db = new DatabaseSync(path, { readOnly: true });
    const { rootpage } = db.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'answer_records' ORDER BY rootpage DESC LIMIT 1").get() as { rootpage: number };
    const pageSize = (db.prepare("PRAGMA page_size").get() as { page_size: number }).page_size;
    db.close();
    const bytes = readFileSync(path);
    bytes.fill(0x5a, (rootpage - 1) * pageSize, rootpage * pageSize);
    writeFileSync(path, bytes);
    const run = await runCli(["generate", "study.yaml"], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^silicon: results\/test\/store\.sqlite: the store is damaged \(SQLite: database disk image is malformed\); move it away to start afresh \(every call will be made again\), or restore it from a backup\n$/,
    );
  });
});

describe("a store from an earlier silicon, or never finished", () => {
  it("written by an earlier version: readers say how to upgrade it; generate upgrades it, keeping what is stored", async () => {
    const dir = studyFolder();
    expect((await runCli(["generate", "study.yaml"], { cwd: dir })).code).toBe(0);
    // The same answers in a store at schema version 1: the tables of 001 only.
    const path = join(dir, "results/test/store.sqlite");
    const old = join(dir, "old.sqlite");
    const db = new DatabaseSync(old);
    migrate(db, old, migrations().slice(0, 1));
    db.exec(`ATTACH '${path}' AS current`);
    for (const table of ["meta", "runs", "calls", "answers"]) {
      const columns = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name).join(", ");
      // Calls as they were: with their texts in place (schema version 3 stores them once, in `texts`).
      db.exec(`INSERT INTO main.${table} (${columns}) SELECT ${columns} FROM current.${table === "calls" ? "calls_with_texts" : table}`);
    }
    db.exec("DETACH current");
    db.close();
    writeFileSync(path, readFileSync(old));
    for (const suffix of ["-wal", "-shm"]) writeFileSync(path + suffix, "");
    for (const args of [["generate", "study.yaml", "--dry-run"], ["report", "study.yaml"]]) {
      const run = await runCli(args, { cwd: dir });
      expect(run.code, args.join(" ")).toBe(1);
      expect(run.stderr).toMatch(
        /^silicon: results\/test\/store\.sqlite: written by an earlier silicon \(store schema version 1; this version uses \d+\); run silicon generate on the study once to upgrade it \(what is stored is kept, and not asked again\)\n$/,
      );
    }
    const upgrade = await runCli(["generate", "study.yaml"], { cwd: dir });
    expect(upgrade.code, upgrade.stderr).toBe(0);
    expect(upgrade.stdout).toMatch(/\(10 already stored\); this run 0 answered; 0 calls sent/);
    expect((await runCli(["generate", "study.yaml", "--dry-run"], { cwd: dir })).stdout).toMatch(/^Cells: 10 \(10 already stored, 0 to ask\)$/m);
  });

  it("whose first run was stopped before the schema was written: readers see an empty store", async () => {
    const dir = studyFolder();
    mkdirSync(join(dir, "results/test"), { recursive: true });
    new DatabaseSync(join(dir, "results/test/store.sqlite")).close(); // an SQLite file, schema version 0
    const dry = await runCli(["generate", "study.yaml", "--dry-run", "--allow-infeasible"], { cwd: dir });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^Cells: 10, all to ask$/m);
    const report = await runCli(["report", "study.yaml"], { cwd: dir });
    expect(report.stderr).toMatch(/^silicon: no stored answers for study "test" in results\/test/);
  });
});

describe("storeFailure", () => {
  it("names the store and what to do for the SQLite errors a user can meet", () => {
    const sqlite = (errcode: number, message: string) => Object.assign(new Error(message), { code: "ERR_SQLITE_ERROR", errcode, errstr: message });
    expect((storeFailure("s.sqlite", sqlite(13, "database or disk is full")) as Error).message).toBe(
      "s.sqlite: the disk is full; free some space and run the same command again: everything stored so far is kept",
    );
    // Extended codes (SQLITE_IOERR_WRITE = 778) map by their primary code.
    expect((storeFailure("s.sqlite", sqlite(778, "disk I/O error")) as Error).message).toBe("s.sqlite: reading or writing the store failed (SQLite: disk I/O error); check the disk");
    expect(storeFailure("s.sqlite", sqlite(1, "no such table: calls"))).toBeInstanceOf(StoreError);
    expect((storeFailure("s.sqlite", sqlite(1, "no such table: calls")) as Error).message).toBe("s.sqlite: SQLite: no such table: calls");
    const other = new TypeError("not sqlite");
    expect(storeFailure("s.sqlite", other)).toBe(other);
  });
});
