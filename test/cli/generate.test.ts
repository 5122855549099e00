/**
 * `silicon generate` as a user runs it: a child process, a study on disk, the
 * fake OpenAI-compatible vendor behind OPENAI_BASE_URL.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parse as parseCsv } from "csv-parse/sync";
import { afterEach, describe, expect, it } from "vitest";
import { REPO, runCli, spawnCli, writeStudy } from "../helpers/cli.ts";
import { Store } from "../../src/store/store.ts";
import { startFakeVendor, type FakeVendor } from "../helpers/fake-vendor.ts";
import { BASE_FILES } from "../helpers/study-files.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir("silicon-cli-");
let vendor: FakeVendor | undefined;
afterEach(async () => {
  await vendor?.close();
  vendor = undefined;
});

describe("silicon generate", () => {
  it("explains itself in --help", async () => {
    const { code, stdout } = await runCli(["generate", "--help"], { cwd: tempDir() });
    expect(code).toBe(0);
    for (const text of ["--model <vendor:model>", "--dry-run", "--max-cost <usd>", "--concurrency <n>", "--results <dir>", "--quiet", "--batch", "--no-wait", "--poll-interval <seconds>", "Examples:", "docs/generation.md", "docs/scale.md"]) {
      expect(stdout).toContain(text);
    }
  });

  it("--batch with a simulated model: the offline emulation, with --no-wait, collects at once", async () => {
    const dir = tempDir();
    const study = writeStudy(dir, { respondents: 4, models: ["simulated:biased"] });
    const { code, stdout, stderr } = await runCli(["generate", study, "--batch", "--no-wait"], { cwd: dir });
    expect(code).toBe(0);
    expect(stderr).toMatch(/^silicon: batch #1: submitted 12 requests for simulated:biased \(simbatch_[0-9a-f-]+\)\nsilicon: batch #1: results stored \(12 of 12 done\)\n$/);
    expect(stdout).toBe(
      "cli-study: 24 cells for simulated:biased; this run 24 answered; 12 calls sent (12 in batches, at batch prices), 0 from the store, $0.00; " +
        "wrote results/cli-study/responses.csv and results/cli-study/responses.parquet (24 rows)\n",
    );
  });

  it("--no-wait without --batch is a usage error", async () => {
    const dir = tempDir();
    const { code, stderr } = await runCli(["generate", writeStudy(dir, { models: ["simulated:biased"] }), "--no-wait"], { cwd: dir });
    expect(code).toBe(2);
    expect(stderr).toBe("silicon: --no-wait only applies to --batch runs\n");
  });

  it("runs a study against an OpenAI-compatible server, then finds everything stored", async () => {
    vendor = await startFakeVendor({ latencyMs: [1, 5] });
    const dir = tempDir();
    const study = writeStudy(dir, { respondents: 6, generations: 2 });
    const env = { OPENAI_BASE_URL: vendor.baseURL };
    const first = await runCli(["generate", study], { cwd: dir, env });
    expect(first.stderr).toBe(
      `silicon: note: openai:fake-model at ${vendor.baseURL} is priced at 0 (custom base URL); add a price under prices: in the study to count costs\n`,
    );
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(
      "cli-study: 36 cells for openai:fake-model; this run 36 answered; 36 calls sent, 0 from the store, $0.00; " +
        "wrote results/cli-study/responses.csv and results/cli-study/responses.parquet (36 rows)\n",
    );
    expect(vendor.stats.received).toBe(36);
    const rows = parseCsv(readFileSync(join(dir, "results/cli-study/responses.csv")), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(36);
    expect(new Set(rows.map((r) => `${r.respondent}/${r.item}/${r.generation}`)).size).toBe(36);
    expect(rows.every((r) => r.status === "answered" && r.value !== "")).toBe(true);

    const exported = statSync(join(dir, "results/cli-study/responses.parquet")).mtimeMs;
    const again = await runCli(["generate", study, "--quiet"], { cwd: dir, env });
    expect(again.code).toBe(0);
    expect(again.stderr).toBe("");
    expect(again.stdout).toContain("36 cells for openai:fake-model (36 already stored); this run 0 answered; 0 calls sent");
    // Nothing changed: the exports are left as they were.
    expect(again.stdout).toContain("unchanged: results/cli-study/responses.csv and results/cli-study/responses.parquet (36 rows)");
    expect(statSync(join(dir, "results/cli-study/responses.parquet")).mtimeMs).toBe(exported);
    expect(vendor.stats.received).toBe(36);
  });

  it("prints the dry run's calls, tokens and cost, and sends and writes nothing", async () => {
    vendor = await startFakeVendor();
    const dir = tempDir();
    const study = writeStudy(dir, { respondents: 10, generations: 3, extra: 'prices:\n  "openai:fake-model": { input: 2.5, output: 10 }\n' });
    const { code, stdout } = await runCli(["generate", study, "--dry-run", "--max-cost", "1"], { cwd: dir, env: { OPENAI_BASE_URL: vendor.baseURL } });
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Dry run of .*study\.yaml \(study cli-study\): nothing sent, nothing written\.\nCells: 90, all to ask\n/);
    expect(stdout).toMatch(/openai:fake-model\s+90\s+0\s+\d+\s+720\s+\$0\.\d+\s+\$0\.\d+/);
    expect(stdout).toContain("USD per million tokens: input 2.5, output 10");
    expect(stdout).toContain("Cap: --max-cost $1.00 for this run.");
    expect(vendor.stats.received).toBe(0);
    expect(existsSync(join(dir, "results"))).toBe(false);
  });

  it("refuses a second writer on the same store with a clear message", async () => {
    vendor = await startFakeVendor();
    // Every request is held until released: once the first process has sent one, it holds
    // the store's lock (taken before anything is sent) and cannot finish, however slow the machine.
    vendor.hold();
    const dir = tempDir();
    const study = writeStudy(dir, { respondents: 8 });
    const env = { OPENAI_BASE_URL: vendor.baseURL };
    const first = spawnCli(["generate", study, "--quiet"], { cwd: dir, env });
    try {
      while (vendor.stats.received === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      const second = await runCli(["generate", study, "--quiet"], { cwd: dir, env });
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(
        new RegExp(`^silicon: results/cli-study/store\\.sqlite is in use by silicon generate \\(pid ${first.pid} on .+, since .+\\); wait for it to finish \\(or stop it\\), or pass --wait to queue behind it\\n$`),
      );
      vendor.release();
      expect((await first.result).code).toBe(0);
    } finally {
      if (first.exitCode === null) first.kill("SIGKILL");
    }
    const waited = await runCli(["generate", study, "--wait", "30", "--quiet"], { cwd: dir, env });
    expect(waited.code).toBe(0);
  });

  it("silicon run takes --wait, as the lock message says: it waits for the writer, then refuses or goes on", async () => {
    const dir = tempDir();
    for (const [name, content] of Object.entries(BASE_FILES)) writeFileSync(join(dir, name), content);
    // This process holds the store's writer lock until it closes it.
    const holder = await Store.open(join(dir, "results/test"), { study: "test" });
    try {
      const refused = await runCli(["run", "study.yaml", "--quiet", "--wait", "1", "--allow-infeasible"], { cwd: dir });
      expect(refused.code, refused.stderr).toBe(1);
      expect(refused.stderr).toMatch(
        new RegExp(`^silicon: results/test/store\\.sqlite is in use by silicon generate \\(pid ${process.pid} on .+\\) after waiting 1 s; wait for it to finish \\(or stop it\\), or pass --wait to queue behind it\\n$`),
      );
    } finally {
      holder.close();
    }
    // Free again: the run generates (its analysis of so small a study is another matter).
    const waited = await runCli(["run", "study.yaml", "--quiet", "--wait", "30", "--allow-infeasible"], { cwd: dir });
    expect(waited.stderr).not.toMatch(/in use/);
    const db = new DatabaseSync(join(dir, "results/test/store.sqlite"), { readOnly: true });
    expect((db.prepare("SELECT status FROM runs").all() as { status: string }[]).map((r) => r.status)).toEqual(["completed"]);
    db.close();
  });

  it("stops sending at --max-cost, exits 1 and says how to continue", async () => {
    vendor = await startFakeVendor({ latencyMs: [1, 10] });
    const dir = tempDir();
    const study = writeStudy(dir, { respondents: 30, extra: 'prices:\n  "openai:fake-model": { input: 100, output: 100 }\n' });
    const { code, stdout, stderr } = await runCli(["generate", study, "--max-cost", "0.5"], { cwd: dir, env: { OPENAI_BASE_URL: vendor.baseURL } });
    expect(code).toBe(1);
    expect(stdout).toMatch(/^cli-study \[budget\]: 180 cells for openai:fake-model; this run \d+ answered; \d+ calls sent, 0 from the store, \$0\.[0-4]\d;/);
    expect(stderr).toMatch(
      /silicon: stopped at the cost cap \(--max-cost, \$0\.50 for this run\): the next request could have crossed it; \d+ cell\(s\) left; rerun with a higher --max-cost \(or budget\) to continue\n$/,
    );
    const db = new DatabaseSync(join(dir, "results/cli-study/store.sqlite"), { readOnly: true });
    const { spent } = db.prepare("SELECT sum(cost_usd) AS spent FROM calls").get() as { spent: number };
    db.close();
    expect(spent).toBeLessThanOrEqual(0.5);
    expect(spent).toBeGreaterThan(0.2);
  });
});

describe("bad input: one line naming file and field, exit 2, nothing written, no call", () => {
  async function expectBadInput(args: (study: string) => string[], studyOptions: Parameters<typeof writeStudy>[1], env: Record<string, string>, message: RegExp) {
    const dir = tempDir();
    const study = writeStudy(dir, studyOptions);
    const { code, stdout, stderr } = await runCli(args(study), { cwd: dir, env });
    expect(stderr).toMatch(message);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(existsSync(join(dir, "results"))).toBe(false);
  }

  it("a missing API key names the variable and the study's field", async () => {
    await expectBadInput((s) => ["generate", s], { models: ["openai:gpt-4o-mini"] }, {}, /^silicon: .*study\.yaml: line \d+, field "models\[0\]": .*OPENAI_API_KEY.*\n$/);
  });

  it("an unknown provider", async () => {
    await expectBadInput((s) => ["generate", s], { models: ["mistral:large"] }, {}, /^silicon: .*study\.yaml: line \d+, field "models\[0\]": .*anthropic, openai or simulated.*\n$/);
  });

  it("an unknown model on the vendor's own endpoint", async () => {
    await expectBadInput(
      (s) => ["generate", s],
      { models: ["openai:gpt-4o-mimi"] },
      { OPENAI_API_KEY: "sk-test-0123456789" },
      /^silicon: .*study\.yaml: line \d+, field "models\[0\]": no known price for openai:gpt-4o-mimi \(did you mean openai:gpt-4o-mini\?\).*\n$/,
    );
  });

  it("a --model with an unknown vendor", async () => {
    await expectBadInput(
      (s) => ["generate", s, "--model", "gemini:pro"],
      {},
      {},
      /^silicon: --model: .*gemini.*anthropic.*openai.*simulated.*\n$/,
    );
  });

  it("a --max-cost that is not an amount", async () => {
    await expectBadInput((s) => ["generate", s, "--max-cost", "ten"], {}, {}, /^silicon: --max-cost expects a number of US dollars, e\.g\. 5 or 0\.50; got "ten"\n$/);
  });
});

describe("the example study on an OpenAI-compatible server", () => {
  it("runs with --model openai:<model>, and Ctrl-C stops it cleanly with everything stored", async () => {
    vendor = await startFakeVendor({ latencyMs: [2, 10] });
    const dir = tempDir();
    const child = spawnCli(["generate", join(REPO, "surveys/example-study.yaml"), "--model", "openai:fake-model", "--results", "results"], {
      cwd: dir,
      env: { OPENAI_BASE_URL: vendor.baseURL },
    });
    let result;
    try {
      while (vendor.stats.received < 5) await new Promise((resolve) => setTimeout(resolve, 20));
      child.kill("SIGINT");
      result = await child.result;
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    const { code, stdout, stderr } = result;
    expect(code).toBe(130);
    expect(stderr).toContain("silicon: stopping: no new requests; finishing those in flight (Ctrl-C again to abandon them)");
    expect(stderr).toMatch(/silicon: stopped by the user with \d+ cell\(s\) left; run the same command again to resume\n$/);
    expect(stdout).toMatch(/^example \[stopped\]: 25200 cells for openai:fake-model; this run \d+ answered;/);
    const db = new DatabaseSync(join(dir, "results/example/store.sqlite"), { readOnly: true });
    const calls = db.prepare("SELECT status, count(*) AS n FROM calls GROUP BY status").all();
    const answers = (db.prepare("SELECT count(*) AS n FROM answers").get() as { n: number }).n;
    const run = db.prepare("SELECT status, message FROM runs").get();
    db.close();
    expect(calls).toEqual([{ status: "completed", n: vendor.stats.billed }]); // nothing left in flight
    expect(answers).toBe(vendor.stats.billed);
    expect(run).toEqual({ status: "stopped", message: "stopped by the user" });
  });
});
