/**
 * Secrets: canary keys in OPENAI_API_KEY, ANTHROPIC_API_KEY and an unrelated
 * *_TOKEN appear in no file silicon writes (the SQLite store and its WAL and
 * shared-memory files, exports, tasks, intervals, evaluation, the report,
 * the lock) and in no line it prints, with or without --debug — across runs
 * that succeed, that the vendor rejects with a 401 echoing the key, that
 * meet 5xx, 429, garbled and truncated bodies echoing the key, that time
 * out, and that are killed mid-run; batch runs (a failed create, failed
 * lines, a kill while the batch runs); and in run, report, estimate and
 * calibrate. Nor does any 16-character piece of a canary.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, expect, it } from "vitest";
import { runCli, spawnCli, type CliResult } from "../helpers/cli.ts";
import { startFakeVendor, type FakeVendor } from "../helpers/fake-vendor.ts";
import { BASE_FILES } from "../helpers/study-files.ts";
import { filesUnder, useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir("silicon-canary-");
let vendor: FakeVendor | undefined;
afterEach(async () => {
  await vendor?.close();
  vendor = undefined;
});

/** Every 16-byte piece of each canary: a partial leak is a leak. */
function pieces(canaries: string[]): Buffer[] {
  return canaries.flatMap((canary) => Array.from({ length: canary.length - 15 }, (_, i) => Buffer.from(canary.slice(i, i + 16))));
}

function leaksIn(content: Buffer, needles: Buffer[]): boolean {
  return needles.some((needle) => content.includes(needle));
}

const STUDY = (seed: number) =>
  BASE_FILES["study.yaml"]!.replace(
    "models: [simulated:biased]",
    `models: [openai:fake-model, anthropic:claude-fake]
seed: ${seed}
generations: 2
max_attempts: 2
prices:
  "openai:fake-model": { input: 1, output: 4 }
  "anthropic:claude-fake": { input: 1, output: 4 }
# By party, so that run and report have history enough to calibrate at α = 0.5.
estimands:
  by: [all, party]`,
  );

// A dozen and more CLI processes one after the other: the timeout only catches a hang, on a machine however busy.
it("never writes or prints a key: success, 401s, garbled bodies, timeouts, a killed run, batches, run, report, estimate, calibrate", { timeout: 900_000 }, async () => {
  const canaries = {
    OPENAI_API_KEY: `sk-canary-openai-${randomBytes(12).toString("hex")}`,
    ANTHROPIC_API_KEY: `sk-ant-canary-${randomBytes(12).toString("hex")}`,
    EXAMPLE_SERVICE_TOKEN: `tok-canary-${randomBytes(12).toString("hex")}`,
  };
  const needles = pieces(Object.values(canaries));
  vendor = await startFakeVendor({ latencyMs: [1, 3], echoAuthorization: true, retryAfterMs: 5 });
  const dir = tempDir();
  for (const [name, content] of Object.entries(BASE_FILES)) writeFileSync(join(dir, name), content);
  const env = { ...canaries, OPENAI_BASE_URL: vendor.baseURL, ANTHROPIC_BASE_URL: vendor.anthropicBaseURL };
  const outputs: { label: string; result: CliResult }[] = [];
  const cli = async (label: string, args: string[], seed?: number) => {
    if (seed !== undefined) writeFileSync(join(dir, "study.yaml"), STUDY(seed)); // a new seed: every cell asked again
    const result = await runCli(args, { cwd: dir, env });
    outputs.push({ label, result });
    return result;
  };

  // 1. A run that succeeds, through both vendors: the keys were really sent.
  expect((await cli("success", ["generate", "study.yaml"], 1)).code).toBe(0);
  expect(vendor.stats.authorizations).toEqual(new Set([`Bearer ${canaries.OPENAI_API_KEY}`, `Bearer ${canaries.ANTHROPIC_API_KEY}`]));

  // 2. Every fault, each body echoing the key; some requests time out.
  // Respondent r1 (the 34-year-old Democrat) is throttled every time: its cells run out of tries.
  vendor.set({
    faults: { "500": 0.05, "529": 0.03, malformed: 0.05, truncated: 0.03, slow: 0.05 },
    slowMs: "abandoned",
    script: (request) => (JSON.stringify(request.body.messages[0]).includes("34-year-old Democrat") ? "429" : undefined),
  });
  // r1's cells (a sixth of them) run out of tries: more than the 5% a run may lose, so exit 1 naming the last failure.
  const faulty = await cli("faults", ["generate", "study.yaml", "--timeout", "0.2"], 2);
  expect(faulty.code).toBe(1);
  expect(faulty.stderr).toMatch(/cells this run settled ended as nonresponse after vendor failures, more than the 5% a run may lose; the last failure: /);
  expect((await cli("faults --debug", ["--debug", "generate", "study.yaml", "--timeout", "0.2"], 3)).code).toBe(1);
  await vendor.settled();
  for (const fault of ["429", "500", "malformed", "slow"] as const) expect(vendor.stats.faults[fault], fault).toBeGreaterThan(0);
  // The store holds what the echoing error bodies said, redacted: in the failed
  // calls, and in the reasons of the cells that ran out of tries.
  const db = new DatabaseSync(join(dir, "results/test/store.sqlite"), { readOnly: true });
  const echoed = db.prepare("SELECT error_message FROM calls WHERE error_message LIKE '%got Authorization%'").all() as { error_message: string }[];
  const reasons = db.prepare("SELECT reason FROM answers WHERE reason LIKE '%got Authorization%'").all() as { reason: string }[];
  db.close();
  expect(echoed.length).toBeGreaterThan(0);
  expect(echoed.every((row) => row.error_message.includes("Bearer [redacted]"))).toBe(true);
  expect(reasons.length).toBeGreaterThan(0);
  expect(reasons.every((row) => row.reason.includes("Bearer [redacted]"))).toBe(true);

  // 3. The vendor rejects the keys, echoing them (OpenAI and Anthropic shapes).
  vendor.set({ faults: {}, script: undefined, apiKey: "fake-test-key-the-right-one" });
  const rejected = await cli("401", ["generate", "study.yaml"], 4);
  expect(rejected.code).toBe(1);
  expect(rejected.stderr).toMatch(/HTTP 401/);
  expect((await cli("401 --debug", ["--debug", "generate", "study.yaml"], 5)).stderr).toMatch(/^\s+at /m);
  vendor.set({ apiKey: undefined });

  // 4. Killed mid-run: the WAL still holds the last transactions.
  writeFileSync(join(dir, "study.yaml"), STUDY(6));
  vendor.set({ latencyMs: [20, 40] });
  const child = spawnCli(["generate", "study.yaml", "--concurrency", "2"], { cwd: dir, env });
  const start = vendor.stats.received;
  while (vendor.stats.received < start + 6) await new Promise((resolve) => setTimeout(resolve, 5));
  child.kill("SIGKILL");
  outputs.push({ label: "killed", result: await child.result });
  const wal = join(dir, "results/test/store.sqlite-wal");
  expect(statSync(wal).size).toBeGreaterThan(0);
  expect(leaksIn(readFileSync(wal), needles), "WAL after a kill").toBe(false);
  vendor.set({ latencyMs: [1, 3] });

  // 5. Batches (OpenAI's Batch API): a failed create and failed lines echo the key; one run killed while its batch runs.
  vendor.set({
    batchDelayMs: 0,
    batchCallFault: (call) => (call.operation === "create" && call.number === 1 ? "500" : undefined),
    batchLineFault: (request) => (JSON.stringify(request.body.messages[0]).includes("61-year-old") ? "server_error" : undefined),
  });
  writeFileSync(join(dir, "study.yaml"), STUDY(8).replace("models: [openai:fake-model, anthropic:claude-fake]", "models: [openai:fake-model]"));
  const batch = spawnCli(["generate", "study.yaml", "--batch", "--poll-interval", "0.02"], { cwd: dir, env: { ...env, SILICON_TEST_CRASH_AT: "batch-stored:1" } });
  outputs.push({ label: "batch killed", result: await batch.result });
  expect(outputs.at(-1)!.result.signal).toBe("SIGKILL");
  expect(leaksIn(readFileSync(wal), needles), "WAL after a batch kill").toBe(false);
  // The 61-year-old's lines always fail: more than 5% of the cells lost to the vendor, so exit 1.
  const collected = await cli("batch", ["--debug", "generate", "study.yaml", "--batch", "--poll-interval", "0.02"]);
  expect(collected.code, collected.stderr).toBe(1);
  expect(collected.stderr).toMatch(/ended as nonresponse after vendor failures, more than the 5% a run may lose/);
  expect(vendor.stats.batches.created).toBeGreaterThanOrEqual(2);
  const batchDb = new DatabaseSync(join(dir, "results/test/store.sqlite"), { readOnly: true });
  const batchErrors = batchDb
    .prepare("SELECT error_message FROM calls WHERE batch_id IS NOT NULL AND error_message LIKE '%got Authorization%'")
    .all() as { error_message: string }[];
  batchDb.close();
  expect(batchErrors.length).toBeGreaterThan(0);
  expect(batchErrors.every((row) => row.error_message.includes("Bearer [redacted]"))).toBe(true);
  vendor.set({ batchCallFault: undefined, batchLineFault: undefined });

  // 6. The pipeline and the stages that read the store.
  expect((await cli("run", ["--debug", "run", "study.yaml", "--alpha", "0.5", "--allow-infeasible"], 9)).code).toBe(0);
  // Too few tasks for any held-out check: report writes its outputs but an empty coverage table exits 1 (issue 13).
  expect((await cli("report", ["report", "study.yaml", "--alpha", "0.5"])).code).toBe(1);
  expect((await cli("estimate", ["--debug", "estimate", "study.yaml", "--out", "tasks-copy.csv"])).code).toBe(0);
  await cli("calibrate", ["--debug", "calibrate", "--tasks", "results/test/tasks.csv", "--alpha", "0.5", "--out", "intervals-copy.csv"]);
  await cli("bad input --debug", ["--debug", "calibrate", "--tasks", "study.yaml"]);

  const files = filesUnder(dir).filter((f) => !Object.keys(BASE_FILES).includes(f.slice(dir.length + 1)));
  const names = files.map((f) => f.slice(dir.length + 1));
  expect(names).toEqual(
    expect.arrayContaining([
      "results/test/store.sqlite",
      "results/test/responses.csv",
      "results/test/responses.parquet",
      "results/test/report.html",
      "results/test/tasks.csv",
      "results/test/intervals.csv",
      "results/test/evaluation.json",
      "tasks-copy.csv",
    ]),
  );
  for (const file of files) expect(leaksIn(readFileSync(file), needles), file).toBe(false);
  for (const { label, result } of outputs) {
    expect(leaksIn(Buffer.from(result.stdout), needles), `${label}: stdout`).toBe(false);
    expect(leaksIn(Buffer.from(result.stderr), needles), `${label}: stderr`).toBe(false);
  }
});

it("never stores a key a vendor echoes inside a successful answer: synchronous calls and batch results", async () => {
  const key = `sk-canary-echo-${randomBytes(12).toString("hex")}`;
  const needles = pieces([key]);
  // Every answer quotes the key, as a careless proxy or a model shown its own headers might.
  vendor = await startFakeVendor({ answer: () => `3 (sent with ${key})` });
  const dir = tempDir();
  for (const [name, content] of Object.entries(BASE_FILES)) writeFileSync(join(dir, name), content);
  writeFileSync(join(dir, "study.yaml"), STUDY(1).replace("models: [openai:fake-model, anthropic:claude-fake]", "models: [openai:fake-model]"));
  const env = { OPENAI_API_KEY: key, OPENAI_BASE_URL: vendor.baseURL };
  const sync = await runCli(["generate", "study.yaml"], { cwd: dir, env });
  expect(sync.code, sync.stderr).toBe(0);
  writeFileSync(join(dir, "study.yaml"), STUDY(2).replace("models: [openai:fake-model, anthropic:claude-fake]", "models: [openai:fake-model]"));
  const batch = await runCli(["generate", "study.yaml", "--batch", "--poll-interval", "0.02"], { cwd: dir, env });
  expect(batch.code, batch.stderr).toBe(0);
  const db = new DatabaseSync(join(dir, "results/test/store.sqlite"), { readOnly: true });
  const rows = db.prepare("SELECT raw_text, choices, batch_id FROM calls WHERE status = 'completed'").all() as { raw_text: string; choices: string; batch_id: number | null }[];
  db.close();
  // The answers really carried the key, and it was replaced in both paths.
  expect(rows.some((row) => row.batch_id === null) && rows.some((row) => row.batch_id !== null)).toBe(true);
  expect(rows.every((row) => row.raw_text.includes("[redacted]") && row.choices.includes("[redacted]"))).toBe(true);
  for (const file of filesUnder(dir)) expect(leaksIn(readFileSync(file), needles), file).toBe(false);
  for (const output of [sync.stdout, sync.stderr, batch.stdout, batch.stderr]) expect(leaksIn(Buffer.from(output), needles)).toBe(false);
});
