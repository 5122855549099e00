/**
 * Two `silicon generate` processes on one study store: the second refuses
 * with a message naming the first, or with --wait queues behind it — also
 * when the first is killed while the second waits. Readers (a dry run) never
 * wait. Whatever the interleaving, the store passes SQLite's integrity check,
 * every cell has exactly one answer, and no stored response is paid twice.
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, spawnCli, writeStudy, type CliResult } from "../helpers/cli.ts";
import { startFakeVendor, type FakeVendor } from "../helpers/fake-vendor.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir("silicon-writers-");
let vendor: FakeVendor | undefined;
const children: { kill: (signal: NodeJS.Signals) => boolean; exitCode: number | null; signalCode: NodeJS.Signals | null }[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await vendor?.close();
  vendor = undefined;
});

const RESPONDENTS = 20;
const CELLS = RESPONDENTS * 3 * 2;

function spawn(args: string[], dir: string): ReturnType<typeof spawnCli> {
  const child = spawnCli(args, { cwd: dir, env: { OPENAI_BASE_URL: vendor!.baseURL } });
  children.push(child);
  return child;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

function storeState(dir: string): { integrity: string; answers: number; distinct: number; interrupted: number; runs: string[] } {
  const db = new DatabaseSync(join(dir, "results/cli-study/store.sqlite"), { readOnly: true });
  try {
    const one = (sql: string) => Object.values(db.prepare(sql).get() as Record<string, unknown>)[0];
    return {
      integrity: String(one("PRAGMA integrity_check")),
      answers: Number(one("SELECT count(*) FROM answers")),
      distinct: Number(one("SELECT count(*) FROM (SELECT DISTINCT model, wave, respondent, item, generation FROM answers)")),
      interrupted: Number(one("SELECT count(*) FROM calls WHERE status = 'interrupted'")),
      runs: (db.prepare("SELECT status FROM runs ORDER BY id").all() as { status: string }[]).map((r) => r.status),
    };
  } finally {
    db.close();
  }
}

describe("two processes on one store", () => {
  it("the second, with --wait, waits for the first and then finds everything stored", async () => {
    vendor = await startFakeVendor({ latencyMs: 5 });
    const dir = tempDir();
    const study = writeStudy(dir, { respondents: RESPONDENTS });
    const first = spawn(["generate", study, "--quiet"], dir);
    // Hold the first mid-run while the second starts and a reader looks.
    await until(() => vendor!.stats.received >= 20);
    vendor.hold();
    const second = spawn(["generate", study, "--wait"], dir);
    let waiting = "";
    second.stderr!.on("data", (chunk: Buffer) => (waiting += chunk.toString()));
    // A reader does not wait for the writer.
    const dryRun = await runCli(["generate", study, "--dry-run", "--allow-infeasible"], { cwd: dir, env: { OPENAI_BASE_URL: vendor.baseURL } });
    expect(dryRun.code).toBe(0);
    // It saw the store mid-run: part stored, part still to ask.
    const [, stored, toAsk] = /^Cells: \d+ \((\d+) already stored, (\d+) to ask\)$/m.exec(dryRun.stdout) ?? [];
    expect(Number(stored) + Number(toAsk)).toBe(CELLS);
    expect(Number(toAsk)).toBeGreaterThan(0);
    await until(() => waiting.includes("silicon: waiting for"));
    vendor.release();

    const [a, b]: CliResult[] = await Promise.all([first.result, second.result]);
    expect(a!.code).toBe(0);
    expect(b!.code, b!.stderr).toBe(0);
    expect(b!.stderr).toMatch(new RegExp(`^silicon: waiting for silicon generate \\(pid ${first.pid} on .+, since .+\\) to finish with results/cli-study/store\\.sqlite$`, "m"));
    expect(b!.stdout).toMatch(new RegExp(`^cli-study: ${CELLS} cells for openai:fake-model \\(${CELLS} already stored\\); this run 0 answered; 0 calls sent`));
    expect(storeState(dir)).toEqual({ integrity: "ok", answers: CELLS, distinct: CELLS, interrupted: 0, runs: ["completed", "completed"] });
    expect(vendor.repeatedPaidKeys()).toEqual([]);
    expect(vendor.stats.billed).toBe(CELLS);
  });

  it("the second takes over when the first is killed while it waits, and repairs what the first left", async () => {
    vendor = await startFakeVendor({ latencyMs: 5 });
    const dir = tempDir();
    const study = writeStudy(dir, { respondents: RESPONDENTS });
    const first = spawn(["generate", study, "--quiet", "--concurrency", "4"], dir);
    // Hold the first mid-run (4 requests on the wire) until it is killed.
    await until(() => vendor!.stats.received >= 20);
    vendor.hold();
    const second = spawn(["generate", study, "--wait", "60", "--concurrency", "4"], dir);
    let waiting = "";
    second.stderr!.on("data", (chunk: Buffer) => (waiting += chunk.toString()));
    await until(() => waiting.includes("silicon: waiting for"));
    first.kill("SIGKILL");
    await first.result;
    vendor.release();
    const [a, b]: CliResult[] = await Promise.all([first.result, second.result]);
    expect(a!.signal).toBe("SIGKILL");
    expect(b!.code, b!.stderr).toBe(0);
    expect(b!.stderr).toMatch(/silicon: note: run #1 stopped without finishing; \d+ request\(s\) were in flight and may have been billed/);
    await vendor.settled();
    const state = storeState(dir);
    expect(state).toMatchObject({ integrity: "ok", answers: CELLS, distinct: CELLS, runs: ["interrupted", "completed"] });
    // Only the requests on the wire at the kill (4, held) were sent, and billed, twice.
    expect(state.interrupted).toBe(4);
    expect(vendor.repeatedPaidKeys()).toHaveLength(4);
    expect(vendor.stats.billed).toBe(CELLS + vendor.repeatedPaidKeys().length);
  });

  it("started at the same moment without --wait: one runs, the other refuses naming it; nothing is corrupted", async () => {
    vendor = await startFakeVendor({ latencyMs: 5 });
    vendor.hold(); // whoever gets the store is held until the other has given up
    const dir = tempDir();
    const study = writeStudy(dir, { respondents: RESPONDENTS });
    const both = [spawn(["generate", study, "--quiet"], dir), spawn(["generate", study, "--quiet"], dir)];
    await Promise.race(both.map((child) => child.result));
    vendor.release();
    const results = await Promise.all(both.map((child) => child.result));
    const codes = results.map((r) => r.code).sort();
    expect(codes).toEqual([0, 1]);
    const winner = both[results.findIndex((r) => r.code === 0)]!;
    const loser = results.find((r) => r.code === 1)!;
    expect(loser.stderr).toMatch(
      new RegExp(`^silicon: results/cli-study/store\\.sqlite is in use by silicon generate \\(pid ${winner.pid} on .+\\); wait for it to finish \\(or stop it\\), or pass --wait to queue behind it\\n$`),
    );
    expect(storeState(dir)).toEqual({ integrity: "ok", answers: CELLS, distinct: CELLS, interrupted: 0, runs: ["completed"] });
    expect(vendor.stats.billed).toBe(CELLS);
  });
});
