/**
 * The bad-input corpus (cases.ts), table-driven: every case exits with
 * status 2 and prints exactly one line on stderr, `silicon: <file>: <where>:
 * <what was expected>`, with no stack trace; its folder holds exactly the
 * files it held before (no output, no store, no temporaries), and stdout is
 * empty. With --debug the same error comes with its stack trace — which
 * shows the no-stack-trace check can fail. A few cases also run as a real
 * child process, through bin/silicon.js.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli as runChild } from "../helpers/cli.ts";
import { runCli } from "../helpers/run-cli.ts";
import { CASES, type BadInputCase } from "./cases.ts";

const root = mkdtempSync(join(tmpdir(), "silicon-bad-input-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every file under `dir` with its size and modification time. */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((name) => {
      const stat = statSync(join(dir, name));
      return stat.isFile() ? `${name} ${stat.size} ${stat.mtimeMs}` : `${name}/`;
    })
    .sort();
}

function setUp(testCase: BadInputCase, index: number): string {
  const dir = join(root, `case-${String(index + 1).padStart(2, "0")}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(testCase.files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

const KEY_VARIABLES = /^(OPENAI|ANTHROPIC|SILICON)_|API_KEY$/;

/** Runs the command line in-process in `dir`, with the case's environment. */
async function inProcess(dir: string, args: string[], env: Record<string, string> = {}) {
  const saved = { ...process.env };
  const cwd = process.cwd();
  for (const name of Object.keys(process.env)) if (KEY_VARIABLES.test(name)) delete process.env[name];
  Object.assign(process.env, env);
  process.chdir(dir);
  try {
    return await runCli(args);
  } finally {
    process.chdir(cwd);
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  }
}

const STACK_FRAME = /^\s+at /m;

describe("the bad-input corpus", () => {
  it("has at least 40 cases, across every input kind and every command", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    const kinds = new Set(CASES.map((c) => c.name.split(":")[0]!.split(" ")[0]));
    expect([...kinds].sort()).toEqual(
      expect.arrayContaining(["calibrate", "compare", "demo", "estimate", "evaluate", "frame", "generate", "persona", "report", "run", "study", "survey", "tasks"]),
    );
    for (const format of ["frame csv", "frame parquet", "frame sav", "tasks parquet"]) {
      expect(CASES.some((c) => c.name.startsWith(format)), format).toBe(true);
    }
  });

  it.each(CASES.map((c, i) => [c.name, c, i] as const))("%s", async (_name, testCase, index) => {
    const dir = setUp(testCase, index);
    const before = listing(dir);
    const run = await inProcess(dir, testCase.args, testCase.env);
    if (process.env.SILICON_PRINT_CORPUS) console.log(`${testCase.name}\n  ${run.code} ${run.stderr.trimEnd()}`);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr.endsWith("\n")).toBe(true);
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines, run.stderr).toHaveLength(1);
    expect(lines[0]!.startsWith("silicon: ")).toBe(true);
    expect(lines[0]!.slice("silicon: ".length)).toMatch(testCase.error);
    expect(run.stderr).not.toMatch(STACK_FRAME);
    expect(listing(dir)).toEqual(before);

    // --debug adds the stack trace after the same line (a usage error has none).
    const debug = await inProcess(dir, ["--debug", ...testCase.args], testCase.env);
    expect(debug.code).toBe(2);
    expect(debug.stderr.startsWith(run.stderr)).toBe(true);
    if (testCase.usage) expect(debug.stderr).toBe(run.stderr);
    else expect(debug.stderr).toMatch(STACK_FRAME);
    expect(listing(dir)).toEqual(before);
  });
});

describe("through bin/silicon.js in a child process", () => {
  const sample = ["study: wave role", "frame sav: code neither an option nor missing", "tasks: unknown role", "estimate: synthetic answer not a number"];
  it.each(sample)("%s", async (name) => {
    const index = CASES.findIndex((c) => c.name === name);
    const testCase = CASES[index]!;
    const dir = setUp(testCase, index);
    const before = listing(dir);
    const run = await runChild(testCase.args, { cwd: dir, ...(testCase.env === undefined ? {} : { env: testCase.env }) });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(run.stderr.trimEnd().slice("silicon: ".length)).toMatch(testCase.error);
    expect(run.stderr).not.toMatch(STACK_FRAME);
    expect(listing(dir)).toEqual(before);
  });
});
