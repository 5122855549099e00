/**
 * Crash safety: one study, a real `silicon generate` child process killed
 * with SIGKILL 21 times in a row — at 16 named points inside the process
 * (SILICON_TEST_CRASH_AT, src/util/crash-points.ts), when the vendor has just
 * received a request, during the drain after Ctrl-C, and at three random
 * moments — each run resuming what the one before left. After every kill:
 * SQLite's integrity check passes, answers agree with the calls that decided
 * them, and exactly the expected requests are on the wire. After a final
 * clean run: exactly one answer per cell, no stored response ever requested
 * again, and the vendor billed each request once, except the requests that
 * were in the one unavoidable window (on the wire, or answered but not yet
 * committed, when the process died): those exactly twice.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parquetReadObjects } from "hyparquet";
import { afterEach, expect, it } from "vitest";
import { runCli, spawnCli, writeStudy, type CliResult } from "../helpers/cli.ts";
import { startFakeVendor, type FakeVendor, type ReceivedRequest } from "../helpers/fake-vendor.ts";
import { BASE_FILES } from "../helpers/study-files.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir("silicon-crash-");
let vendor: FakeVendor | undefined;
afterEach(async () => {
  await vendor?.close();
  vendor = undefined;
});

const RESPONDENTS = 30;
const CELLS = RESPONDENTS * 3 * 2;

type Step =
  | { kind: "point"; spec: string; sentLeft: number; window: number; concurrency?: number }
  /** SIGKILL from outside the moment the vendor receives the run's n-th billable request. */
  | { kind: "vendor-received"; n: number }
  /** Ctrl-C when the vendor receives the run's n-th billable request (held 300 ms), SIGKILL 50 ms later, mid-drain. */
  | { kind: "sigint-then-kill"; n: number }
  /** SIGKILL after a random delay (seeded) once the run's first billable request arrives. */
  | { kind: "random" };

/**
 * `sentLeft`: calls the killed run left recorded as on the wire. `window`:
 * requests the vendor billed whose response the store does not hold — the
 * ones that will be sent, and billed, a second time.
 */
const STEPS: Step[] = [
  { kind: "point", spec: "lock-taken:1", sentLeft: 0, window: 0 },
  { kind: "point", spec: "store-migrate:1", sentLeft: 0, window: 0 },
  { kind: "point", spec: "run-started:1", sentLeft: 0, window: 0 },
  { kind: "point", spec: "before-send:2", sentLeft: 1, window: 0 },
  { kind: "point", spec: "after-response:3", sentLeft: 1, window: 1 },
  { kind: "point", spec: "in-commit:2", sentLeft: 1, window: 1 },
  // Killed while repairing what in-commit left: the repair rolls back, its call stays "sent".
  { kind: "point", spec: "store-recover:1", sentLeft: 1, window: 0 },
  // The next request's intent shares the response's commit (call.ts, handOn): recorded, never sent.
  { kind: "point", spec: "after-commit:3", sentLeft: 1, window: 0 },
  { kind: "point", spec: "between-reasks:1", sentLeft: 0, window: 0 },
  { kind: "point", spec: "cache-hit:1", sentLeft: 0, window: 0 },
  { kind: "point", spec: "after-failure:2", sentLeft: 0, window: 0 },
  { kind: "point", spec: "in-give-up:1", sentLeft: 1, window: 0 },
  { kind: "vendor-received", n: 3 },
  { kind: "sigint-then-kill", n: 2 },
  { kind: "random" },
  { kind: "random" },
  { kind: "random" },
  { kind: "point", spec: "before-finish:1", sentLeft: 0, window: 0, concurrency: 4 },
  { kind: "point", spec: "export-staged:1", sentLeft: 0, window: 0 },
  { kind: "point", spec: "output-rename:1", sentLeft: 0, window: 0 },
  { kind: "point", spec: "after-export:1", sentLeft: 0, window: 0 },
];

function seeded(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 16807) % 2147483647) / 2147483647;
}

interface Snapshot {
  integrity: string;
  foreignKeys: number;
  sent: number;
  answers: number;
  /** Answers whose deciding call is not in the state its status needs. */
  inconsistent: number;
  /** vendor_request_id of every completed call. */
  completedIds: string[];
  runs: { id: number; status: string }[];
}

function snapshot(path: string): Snapshot | undefined {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly: true });
  } catch {
    return undefined;
  }
  try {
    const one = (sql: string) => Object.values(db.prepare(sql).get() as Record<string, unknown>)[0];
    const hasSchema = one("SELECT count(*) FROM sqlite_schema WHERE name = 'calls'") === 1;
    const integrity = String(one("PRAGMA integrity_check"));
    if (!hasSchema) return { integrity, foreignKeys: 0, sent: 0, answers: 0, inconsistent: 0, completedIds: [], runs: [] };
    return {
      integrity,
      foreignKeys: db.prepare("PRAGMA foreign_key_check").all().length,
      sent: Number(one("SELECT count(*) FROM calls WHERE status = 'sent'")),
      answers: Number(one("SELECT count(*) FROM answers")),
      inconsistent: Number(
        one(`SELECT count(*) FROM answers a LEFT JOIN calls c ON c.id = a.call_id
             WHERE c.id IS NULL OR (a.status IN ('answered', 'refusal') AND c.status != 'completed')
                OR (a.status = 'nonresponse' AND a.transient = 1 AND c.status != 'failed')`),
      ),
      completedIds: (db.prepare("SELECT vendor_request_id AS id FROM calls WHERE status = 'completed'").all() as { id: string }[]).map((r) => r.id),
      runs: db.prepare("SELECT id, status FROM runs ORDER BY id").all() as { id: number; status: string }[],
    };
  } finally {
    db.close();
  }
}

// 22 CLI processes one after the other: 15 s each on a 2-core machine ten times oversubscribed. The timeout only catches a hang.
it("survives SIGKILL at 21 points in a row: integrity, one answer per cell, no stored response paid twice", { timeout: 900_000 }, async () => {
  const random = seeded(20251);
  /** What the current child does when the vendor receives a request. */
  let onReceive: ((request: ReceivedRequest, runRequest: number) => void) | undefined;
  let runRequests = 0;
  let stormOver = false;
  vendor = await startFakeVendor({
    latencyMs: [1, 3],
    retryAfterMs: 2,
    // Respondent R002 is throttled on "approve" until the end: it runs out of
    // tries (nonresponse) in every run, and is asked again by the next.
    script: (request) => {
      if (!stormOver && system(request).includes("respondent R002,") && lastUser(request).includes("approve")) return "429";
      runRequests += 1; // requests of this run the vendor will answer (and bill)
      onReceive?.(request, runRequests);
      return undefined;
    },
    // Even respondents' first answer to "economy" is out of range: re-asked.
    answer: (request) =>
      request.body.messages.length === 2 && lastUser(request).includes("economy") && /respondent R\d\d[02468],/.test(system(request))
        ? JSON.stringify({ answer: 9 })
        : undefined,
  });
  const dir = tempDir();
  const study = writeStudy(dir, { respondents: RESPONDENTS, generations: 2 });
  const studyDir = join(dir, "results/cli-study");
  const storePath = join(studyDir, "store.sqlite");
  const env = { OPENAI_BASE_URL: vendor.baseURL, OPENAI_API_KEY: "sk-crash-test-000000" };

  /** Vendor key -> how often it was received when its response was first seen stored. */
  const storedAt = new Map<string, number>();
  /** Vendor key -> times it was billed but not stored at a kill (in the window), over the kills so far. */
  const inWindow = new Map<string, number>();
  let windowTotal = 0;
  const billedNotStored = (completedIds: string[]): Map<string, number> => {
    const stored = new Map<string, number>();
    for (const id of completedIds) {
      const key = vendor!.stats.keyOfResponse.get(id)!;
      stored.set(key, (stored.get(key) ?? 0) + 1);
    }
    const gap = new Map<string, number>();
    for (const [key, count] of vendor!.stats.byKey) if (count.billed > (stored.get(key) ?? 0)) gap.set(key, count.billed - (stored.get(key) ?? 0));
    return gap;
  };

  for (const [index, step] of STEPS.entries()) {
    const label = step.kind === "point" ? step.spec : step.kind;
    runRequests = 0;
    const concurrency = step.kind === "point" ? (step.concurrency ?? 1) : step.kind === "random" ? 4 : 1;
    const crashEnv: Record<string, string> = step.kind === "point" ? { SILICON_TEST_CRASH_AT: step.spec } : {};
    const child = spawnCli(["generate", study, "--quiet", "--concurrency", String(concurrency)], { cwd: dir, env: { ...env, ...crashEnv } });
    let killTimer: NodeJS.Timeout | undefined;
    if (step.kind === "vendor-received") {
      onReceive = (_request, n) => {
        if (n === step.n) child.kill("SIGKILL");
      };
    } else if (step.kind === "sigint-then-kill") {
      onReceive = (_request, n) => {
        if (n !== step.n) return;
        vendor!.set({ latencyMs: 300 });
        child.kill("SIGINT");
        killTimer = setTimeout(() => child.kill("SIGKILL"), 50);
      };
    } else if (step.kind === "random") {
      const delayMs = 5 + Math.floor(random() * 60);
      vendor.set({ latencyMs: [4, 12] });
      onReceive = (_request, n) => {
        if (n === 1) killTimer = setTimeout(() => child.kill("SIGKILL"), delayMs);
      };
    } else onReceive = undefined;
    let result: CliResult;
    try {
      result = await child.result;
    } finally {
      clearTimeout(killTimer);
      onReceive = undefined;
      vendor.set({ latencyMs: [1, 3] });
    }
    expect(result.signal, `step ${index + 1} (${label}) was killed; stderr: ${result.stderr}`).toBe("SIGKILL");
    await vendor.settled();

    const snap = snapshot(storePath);
    if (step.kind === "point" && step.spec === "lock-taken:1") {
      expect(snap, "killed before the store was created").toBeUndefined();
      continue;
    }
    expect(snap, label).toBeDefined();
    expect(snap!.integrity, label).toBe("ok");
    expect(snap!.foreignKeys, label).toBe(0);
    expect(snap!.inconsistent, label).toBe(0);
    expect(snap!.answers, label).toBeLessThanOrEqual(CELLS);
    const gap = billedNotStored(snap!.completedIds);
    const window = [...gap.values()].reduce((a, b) => a + b, 0) - windowTotal;
    if (step.kind === "point") {
      expect({ sent: snap!.sent, window }, label).toEqual({ sent: step.sentLeft, window: step.window });
    } else if (step.kind === "vendor-received" || step.kind === "sigint-then-kill") {
      // The vendor finished (and billed) the request after the client died.
      expect({ sent: snap!.sent, window }, label).toEqual({ sent: 1, window: 1 });
    } else {
      expect(window, label).toBeLessThanOrEqual(snap!.sent);
      expect(snap!.sent, label).toBeLessThanOrEqual(4);
    }
    windowTotal += window;
    for (const [key, extra] of gap) inWindow.set(key, extra);
    for (const id of snap!.completedIds) {
      const key = vendor.stats.keyOfResponse.get(id)!;
      if (!storedAt.has(key)) storedAt.set(key, vendor.count(key).received);
    }
  }

  stormOver = true;
  const final = await runCli(["generate", study, "--concurrency", "4"], { cwd: dir, env });
  expect(final.code, final.stderr).toBe(0);
  const snap = snapshot(storePath)!;
  expect(snap).toMatchObject({ integrity: "ok", foreignKeys: 0, inconsistent: 0, sent: 0, answers: CELLS });
  const db = new DatabaseSync(storePath, { readOnly: true });
  const statuses = db.prepare("SELECT status, count(*) AS n FROM answers GROUP BY status").all();
  db.close();
  expect(statuses).toEqual([{ status: "answered", n: CELLS }]);
  // Runs killed before they finished were found and marked by the next; the
  // three killed while exporting had finished generating, as had the last.
  const runStatuses = snap.runs.map((run) => run.status);
  expect(runStatuses.slice(-4)).toEqual(["completed", "completed", "completed", "completed"]);
  expect(runStatuses.slice(0, -4).every((status) => status === "interrupted")).toBe(true);

  // No response stored before a kill was ever requested again.
  const resent = [...storedAt].filter(([key, received]) => vendor!.count(key).received !== received);
  expect(resent).toEqual([]);
  // Each request billed once, but the ones in the window at a kill: once more
  // for each kill that caught them there (twice, if two random kills did).
  expect(billedNotStored(snap.completedIds)).toEqual(inWindow);
  expect([...inWindow.values()].reduce((a, b) => a + b, 0)).toBe(windowTotal);
  expect(windowTotal).toBeGreaterThanOrEqual(4); // after-response, in-commit, vendor-received, sigint-then-kill
  expect(vendor.stats.billed).toBe(snap.completedIds.length + windowTotal);

  // Exports: complete, in agreement, no temporaries left by the killed exports.
  const files = readdirSync(studyDir).sort();
  expect(files.filter((f) => !/^(responses\.(csv|parquet)|store\.sqlite(-wal|-shm|\.lock)?)$/.test(f))).toEqual([]);
  const csvRows = readFileSync(join(studyDir, "responses.csv"), "utf8").trim().split("\n").length - 1;
  const parquetRows = await parquetReadObjects({ file: new Uint8Array(readFileSync(join(studyDir, "responses.parquet"))).buffer });
  expect({ csvRows, parquetRows: parquetRows.length }).toEqual({ csvRows: CELLS, parquetRows: CELLS });
});

function system(request: ReceivedRequest): string {
  const first = request.body.messages[0]!;
  return typeof first.content === "string" ? first.content : "";
}

function lastUser(request: ReceivedRequest): string {
  const user = request.body.messages.filter((m) => m.role === "user").at(-1);
  return typeof user?.content === "string" ? user.content : "";
}

it("silicon run killed while generating and while writing its report: the rerun leaves every output complete and no temporaries", async () => {
  const dir = tempDir();
  for (const [name, content] of Object.entries(BASE_FILES)) writeFileSync(join(dir, name), content);
  // By party at α = 0.5: history enough for the report to calibrate something (else run stops before writing it).
  writeFileSync(join(dir, "study.yaml"), BASE_FILES["study.yaml"] + "estimands:\n  by: [all, party]\ncalibration:\n  alpha: 0.5\n");
  const studyDir = join(dir, "results/test");
  const outputs = ["comparison.csv", "evaluation.csv", "evaluation.json", "intervals.csv", "report.html", "responses.csv", "responses.parquet", "tasks.csv"];
  // Generation exports two files (renames 1-2); the report's six follow (3-8). The exports are
  // rewritten only until one run has written them whole (then they are up to date, and left),
  // so the kill while staging them comes first.
  for (const spec of ["before-send:4", "after-commit:6", "export-staged:1", "output-rename:1", "output-rename:5"]) {
    const killed = await runCli(["run", "study.yaml", "--quiet", "--allow-infeasible"], { cwd: dir, env: { SILICON_TEST_CRASH_AT: spec } });
    expect(killed.signal, `${spec}: ${killed.stderr}`).toBe("SIGKILL");
    expect(snapshot(join(studyDir, "store.sqlite"))!.integrity).toBe("ok");
  }
  const tmp = readdirSync(studyDir).filter((name) => name.endsWith(".tmp"));
  expect(tmp.length).toBeGreaterThan(0); // the kills left temporaries behind...
  const rerun = await runCli(["run", "study.yaml", "--quiet", "--allow-infeasible"], { cwd: dir });
  expect(rerun.code, rerun.stderr).toBe(0);
  const files = readdirSync(studyDir).sort();
  expect(files.filter((name) => !/^store\.sqlite(-wal|-shm|\.lock)?$/.test(name))).toEqual(outputs); // ...which the rerun cleared
  const snap = snapshot(join(studyDir, "store.sqlite"))!;
  expect(snap).toMatchObject({ integrity: "ok", inconsistent: 0, sent: 0, answers: 10 });
  const report = readFileSync(join(studyDir, "report.html"), "utf8");
  expect(report.trimEnd().endsWith("</html>")).toBe(true);
  expect(JSON.parse(readFileSync(join(studyDir, "evaluation.json"), "utf8"))).toHaveProperty("kinds");
});
