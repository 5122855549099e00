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
import { storeFailure } from "../../src/store/db.ts";
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
    // Overwrite the pages of the answers table (its root page, found in the schema).
    const db = new DatabaseSync(path, { readOnly: true });
    const { rootpage } = db.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'sqlite_autoindex_answers_1' OR name = 'answers' ORDER BY rootpage DESC LIMIT 1").get() as { rootpage: number };
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
