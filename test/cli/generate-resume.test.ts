/**
 * Resume after SIGKILL: a real `silicon generate` child process is killed
 * with SIGKILL once a third (and again two thirds) of the cells are stored;
 * the rerun finishes with exactly one stored answer per cell, and no request
 * whose response had been stored before a kill reaches the vendor again
 * (counted at the fake vendor, by request body).
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, expect, it } from "vitest";
import { runCli, spawnCli, writeStudy } from "../helpers/cli.ts";
import { startFakeVendor, type FakeVendor } from "../helpers/fake-vendor.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir("silicon-resume-");
let vendor: FakeVendor | undefined;
afterEach(async () => {
  await vendor?.close();
  vendor = undefined;
});

const RESPONDENTS = 40;
const ITEMS = 3;
const GENERATIONS = 2;
const CELLS = RESPONDENTS * ITEMS * GENERATIONS;

/** Reads the store without locking it; undefined while it does not exist yet. */
function readStore<T>(path: string, read: (db: DatabaseSync) => T): T | undefined {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    return read(db);
  } catch {
    return undefined;
  } finally {
    db?.close();
  }
}

it("resumes a killed run with one answer per cell and no repeated paid request", async () => {
  vendor = await startFakeVendor({ latencyMs: [5, 40] });
  const dir = tempDir();
  const study = writeStudy(dir, { respondents: RESPONDENTS, generations: GENERATIONS });
  const store = join(dir, "results/cli-study/store.sqlite");
  const env = { OPENAI_BASE_URL: vendor.baseURL, OPENAI_API_KEY: "sk-resume-test-0000" };
  const countAnswers = (db: DatabaseSync) => (db.prepare("SELECT count(*) AS n FROM answers").get() as { n: number }).n;

  /** Request key of every response stored before a kill -> how often the vendor had received it then. */
  const storedBeforeKills = new Map<string, number>();
  for (const fraction of [1 / 3, 2 / 3]) {
    const child = spawnCli(["generate", study, "--quiet", "--concurrency", "4"], { cwd: dir, env });
    try {
      for (;;) {
        if ((readStore(store, countAnswers) ?? 0) >= fraction * CELLS) break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } finally {
      child.kill("SIGKILL");
    }
    const killed = await child.result;
    expect(killed.signal).toBe("SIGKILL");
    const answered = readStore(store, countAnswers)!;
    expect(answered).toBeGreaterThanOrEqual(fraction * CELLS);
    expect(answered).toBeLessThan(CELLS);
    // Every response the store holds now, by the vendor's request id -> request key.
    const ids = readStore(store, (db) =>
      (db.prepare("SELECT vendor_request_id AS id FROM calls WHERE status = 'completed'").all() as { id: string }[]).map((r) => r.id),
    )!;
    for (const id of ids) {
      const key = vendor.stats.keyOfResponse.get(id);
      expect(key).toBeDefined();
      if (!storedBeforeKills.has(key!)) storedBeforeKills.set(key!, vendor.count(key!).received);
    }
  }
  expect(storedBeforeKills.size).toBeGreaterThan(CELLS / 2);

  const rerun = await runCli(["generate", study, "--concurrency", "4"], { cwd: dir, env });
  expect(rerun.code).toBe(0);
  expect(rerun.stderr).toMatch(/silicon: note: run #2 stopped without finishing; \d+ request\(s\) were in flight and may have been billed/);

  const cells = readStore(store, (db) => ({
    rows: (db.prepare("SELECT count(*) AS n FROM answers").get() as { n: number }).n,
    distinct: (db.prepare("SELECT count(DISTINCT model || '|' || wave || '|' || respondent || '|' || item || '|' || generation) AS n FROM answers").get() as { n: number }).n,
    answered: (db.prepare("SELECT count(*) AS n FROM answers WHERE status = 'answered'").get() as { n: number }).n,
    interrupted: (db.prepare("SELECT count(*) AS n FROM calls WHERE status = 'interrupted'").get() as { n: number }).n,
    runs: db.prepare("SELECT id, status FROM runs ORDER BY id").all(),
  }))!;
  expect(cells).toMatchObject({ rows: CELLS, distinct: CELLS, answered: CELLS });
  expect(cells.runs).toEqual([
    { id: 1, status: "interrupted" },
    { id: 2, status: "interrupted" },
    { id: 3, status: "completed" },
  ]);

  // No request whose response was stored before a kill was sent again after it.
  const resent = [...storedBeforeKills].filter(([key, received]) => vendor!.count(key).received !== received);
  expect(resent).toEqual([]);
  // The only requests the vendor saw twice were in flight at a kill: at most 4 per kill.
  const repeated = vendor.repeatedPaidKeys();
  expect(repeated.length).toBeLessThanOrEqual(cells.interrupted);
  expect(cells.interrupted).toBeLessThanOrEqual(2 * 4);
  expect(vendor.stats.billed).toBe(CELLS + repeated.length);
});
