/**
 * An API key given in the environment appears in no file under results/ and
 * in no line silicon prints: not after a successful run, and not after a run
 * the vendor rejects with a 401 whose body echoes the Authorization header.
 */
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, expect, it } from "vitest";
import { runCli, writeStudy, type CliResult } from "../helpers/cli.ts";
import { startFakeVendor, type FakeVendor } from "../helpers/fake-vendor.ts";
import { filesUnder, useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir("silicon-secrets-");
let vendor: FakeVendor | undefined;
afterEach(async () => {
  await vendor?.close();
  vendor = undefined;
});

it("never writes or prints the API key", async () => {
  const canary = `sk-canary-${randomBytes(12).toString("hex")}`;
  vendor = await startFakeVendor({ latencyMs: [1, 3] });
  const dir = tempDir();
  const study = writeStudy(dir, { respondents: 4 });
  const env = { OPENAI_BASE_URL: vendor.baseURL, OPENAI_API_KEY: canary };
  const outputs: CliResult[] = [];

  outputs.push(await runCli(["generate", study], { cwd: dir, env }));
  expect(outputs[0]!.code).toBe(0);
  expect(vendor.stats.authorizations).toEqual(new Set([`Bearer ${canary}`])); // the key was really used

  // The vendor now rejects the key, echoing the header it got.
  vendor.set({ apiKey: "fake-test-key-the-right-one" });
  writeStudy(dir, { respondents: 6 }); // two new respondents: calls to make
  outputs.push(await runCli(["generate", study], { cwd: dir, env }));
  outputs.push(await runCli(["generate", study, "--debug"], { cwd: dir, env }));
  for (const failed of outputs.slice(1)) {
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/silicon: openai:fake-model: .*401/);
  }
  const rejected = vendor.stats.faults.auth!;
  expect(rejected).toBeGreaterThanOrEqual(2); // up to `concurrency` in flight when the first 401 arrives

  const db = new DatabaseSync(join(dir, "results/cli-study/store.sqlite"), { readOnly: true });
  const errors = db.prepare("SELECT error_class, error_message FROM calls WHERE status = 'failed'").all() as { error_class: string; error_message: string }[];
  db.close();
  expect(errors).toHaveLength(rejected);
  expect(errors.every((e) => e.error_class === "AuthError")).toBe(true);

  const files = filesUnder(join(dir, "results"));
  expect(files.map((f) => f.slice(dir.length + 1)).sort()).toEqual(
    expect.arrayContaining(["results/cli-study/responses.csv", "results/cli-study/responses.parquet", "results/cli-study/store.sqlite"]),
  );
  for (const file of files) {
    expect(readFileSync(file).includes(Buffer.from(canary)), file).toBe(false);
  }
  for (const output of outputs) {
    expect(output.stdout).not.toContain(canary);
    expect(output.stderr).not.toContain(canary);
  }
});
