/**
 * Crash safety of `silicon generate --batch` (the OpenAI Batch API of the
 * fake vendor on loopback): a real child process killed with SIGKILL at
 * every step of a batch's life — recorded but not sent, file uploaded but no
 * batch, batch created at the vendor but its id not stored, id stored,
 * polled, mid-way through reading and storing its results, inside the
 * storing transaction, after it, closed, between a result and its re-ask —
 * and from outside while its output file downloads. Each run resumes what
 * the last one left. At the end: one answer per cell, SQLite's integrity
 * check passes, and the vendor billed every request exactly once: a batch
 * keeps its results, so no kill leaves a window in batch mode, including the
 * one between creating a batch and storing its id (the batch is recorded
 * first and found again by its label).
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, expect, it } from "vitest";
import { batchLabel } from "../../src/generation/batch.ts";
import { runCli, spawnCli, writeStudy, type CliResult } from "../helpers/cli.ts";
import { startFakeVendor, type FakeVendor, type ReceivedRequest } from "../helpers/fake-vendor.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir("silicon-batch-crash-");
let vendor: FakeVendor | undefined;
afterEach(async () => {
  await vendor?.close();
  vendor = undefined;
});

const RESPONDENTS = 10;
const CELLS = RESPONDENTS * 3 * 2;

interface Step {
  spec?: string;
  /** Kill from outside the moment the vendor is asked for a batch's output file. */
  killOnDownload?: true;
  /** Batches the store holds by status afterwards (checked where it tells the story). */
  batches?: Record<string, number>;
}

const STEPS: Step[] = [
  // Recorded, nothing sent: the next run finds no such batch at the vendor and asks again.
  { spec: "batch-intent:1", batches: { submitting: 1 } },
  // The file is at the vendor, no batch: lost, asked again (nothing was billed).
  { spec: "batch-uploaded:1", batches: { lost: 1, submitting: 1 } },
  // The batch exists at the vendor but its id is not stored.
  { spec: "batch-created:1", batches: { lost: 2, submitting: 1 } },
  // ...so the next run finds it by its label, stores its id and polls it.
  { spec: "batch-polled:1", batches: { lost: 2, submitted: 1 } },
  { killOnDownload: true },
  // Reading and storing its results: handed over line by line, committed as one group
  // (src/store/group-commit.ts), so a kill inside the transaction stores none of them...
  { spec: "batch-line:7" },
  { spec: "in-commit:3" },
  // ...and one after it all of them.
  { spec: "after-commit:9" },
  // Invalid answers are re-asked in a follow-up batch, submitted before the first is closed.
  { spec: "batch-stored:1" },
  { spec: "batch-closed:1" },
  // The re-asks wait in the follow-up batch: the final run collects it.
  { spec: "between-reasks:2" },
];

function storeState(path: string) {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const one = (sql: string) => Object.values(db.prepare(sql).get() as Record<string, unknown>)[0];
    return {
      integrity: String(one("PRAGMA integrity_check")),
      answers: Number(one("SELECT count(*) FROM answers")),
      inconsistent: Number(
        one(`SELECT count(*) FROM answers a LEFT JOIN calls c ON c.id = a.call_id
             WHERE c.id IS NULL OR (a.status IN ('answered', 'refusal') AND c.status != 'completed')`),
      ),
      completedPerKey: Number(one("SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM calls WHERE status = 'completed' GROUP BY request_key)")),
      batches: Object.fromEntries((db.prepare("SELECT status, count(*) AS n FROM batches GROUP BY status").all() as { status: string; n: number }[]).map((r) => [r.status, r.n])),
    };
  } finally {
    db.close();
  }
}

// A dozen and more CLI processes one after the other: the timeout only catches a hang, on a machine however busy.
it("survives SIGKILL at every step of a batch, and the vendor bills each request once", { timeout: 900_000 }, async () => {
  let onDownload: (() => void) | undefined;
  vendor = await startFakeVendor({
    // The first answer of even respondents to "economy" is out of range: re-asked in a follow-up batch.
    answer: (request: ReceivedRequest) =>
      request.body.messages.length === 2 && JSON.stringify(request.body.messages).includes("economy") && /respondent R\d\d[02468],/.test(JSON.stringify(request.body.messages[0]))
        ? JSON.stringify({ answer: 9 })
        : undefined,
    batchCallFault: (call) => {
      if (call.operation === "content") onDownload?.();
      return undefined;
    },
  });
  const dir = tempDir();
  const study = writeStudy(dir, { respondents: RESPONDENTS, generations: 2 });
  const storePath = join(dir, "results/cli-study/store.sqlite");
  const env = { OPENAI_BASE_URL: vendor.baseURL, OPENAI_API_KEY: "sk-batch-crash-000000", SILICON_OPENAI_N: "false" };
  const args = ["generate", study, "--batch", "--poll-interval", "0.02", "--quiet"];

  for (const [index, step] of STEPS.entries()) {
    const label = step.spec ?? "kill while downloading";
    const child = spawnCli(args, { cwd: dir, env: step.spec === undefined ? env : { ...env, SILICON_TEST_CRASH_AT: step.spec } });
    if (step.killOnDownload) onDownload = () => child.kill("SIGKILL");
    let result: CliResult;
    try {
      result = await child.result;
    } finally {
      onDownload = undefined;
    }
    expect(result.signal, `step ${index + 1} (${label}): ${result.stderr}`).toBe("SIGKILL");
    await vendor.settled();
    const state = storeState(storePath);
    expect(state, label).toMatchObject({ integrity: "ok", inconsistent: 0, completedPerKey: expect.any(Number) });
    expect(state.completedPerKey, label).toBeLessThanOrEqual(1);
    if (step.batches !== undefined) expect(state.batches, label).toEqual(step.batches);
    // Nothing was ever billed twice, at any point.
    expect(vendor.repeatedPaidKeys(), label).toEqual([]);
  }

  const final = await runCli(["generate", study, "--batch", "--poll-interval", "0.02"], { cwd: dir, env });
  expect(final.code, final.stderr).toBe(0);
  const state = storeState(storePath);
  expect(state).toMatchObject({ integrity: "ok", inconsistent: 0, answers: CELLS, completedPerKey: 1 });
  // Batches that never reached the vendor (the first two, and any whose upload a kill cut off) are
  // lost, their requests asked again; every other one was collected.
  expect(state.batches.lost).toBeGreaterThanOrEqual(2);
  expect(Object.keys(state.batches).sort()).toEqual(["collected", "lost"]);
  const lost = new DatabaseSync(storePath, { readOnly: true });
  const lostRows = lost.prepare("SELECT id, created_at AS createdAt, vendor_batch_id AS vendorId FROM batches WHERE status = 'lost'").all() as { id: number; createdAt: string; vendorId: string | null }[];
  lost.close();
  const labelsAtVendor = new Set(vendor.batchList.map((job) => job.metadata["silicon_batch"]));
  for (const row of lostRows) {
    expect(row.vendorId).toBeNull();
    expect(labelsAtVendor.has(batchLabel("cli-study", row)), `lost batch #${row.id} never reached the vendor`).toBe(false);
  }
  const db = new DatabaseSync(storePath, { readOnly: true });
  const statuses = db.prepare("SELECT status, count(*) AS n FROM answers GROUP BY status").all();
  const completed = Number(Object.values(db.prepare("SELECT count(*) FROM calls WHERE status = 'completed'").get() as object)[0]);
  db.close();
  expect(statuses).toEqual([{ status: "answered", n: CELLS }]);
  // Every request the vendor billed is stored, once; none was billed twice.
  expect(vendor.repeatedPaidKeys()).toEqual([]);
  expect(vendor.stats.billed).toBe(completed);
  expect(vendor.stats.batches.billedLines).toBe(vendor.stats.billed);
});
