/**
 * silicon as a user gets it: `npm pack`, then `npm install ./silicon-*.tgz`
 * into an empty project (no overrides of ours apply there), and in that
 * project the command line, a TypeScript program importing the library
 * (type-checked by tsc, then run) and the old-Node message.
 *
 * Needs the npm registry (or a warm npm cache) and takes a minute or two,
 * so it runs in CI (`bash .ci/run` sets SILICON_PACK_TEST=1) or when asked:
 * `SILICON_PACK_TEST=1 npx vitest run test/package.test.ts`.
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childEnv, REPO, writeStudy } from "./helpers/cli.ts";
import { oldNode } from "./helpers/old-node.ts";

const ENABLED = process.env["SILICON_PACK_TEST"] === "1" || process.env["CI"] === "true";
const SKIPPED = "packs and installs the package (needs the npm registry; a minute or two): set SILICON_PACK_TEST=1 (CI does)";
const MINUTES = 60_000;

const VERSION = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version;
const TASKS = join(REPO, "examples", "tasks.csv");

/** Versions this checkout's lockfile installed, so the consumer's npm finds them in the cache. */
function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(REPO, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
}

/** The consumer's programs run with this Node first on PATH (the one running the tests, ≥ 22.18). */
const env = childEnv({ PATH: `${dirname(process.execPath)}:${process.env["PATH"] ?? ""}`, npm_config_fund: "false", npm_config_audit: "false" });

function run(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, env, encoding: "utf8", timeout: 5 * MINUTES });
}

const CONSUMER = `import * as silicon from "silicon";
import { inference, readTasksTable, type TaskRow, type TasksTable } from "silicon";

const table: TasksTable = await readTasksTable(process.argv[2]!);
const history: TaskRow[] = table.rows.filter((row) => row.role === "history");
const targets: TaskRow[] = table.rows.filter((row) => row.role === "target");
const result = inference.calibrate(history, targets, { method: "alg4", alpha: 0.1 });
// The declarations are real types, not any: a wrong method name does not compile.
// @ts-expect-error
export const neverCalled = () => inference.calibrate(history, targets, { method: "alg9", alpha: 0.1 });
console.log(\`\${result.intervals.length} intervals; \${typeof silicon.loadStudy}\`);
`;

describe.skipIf(!ENABLED)(`the packed package, installed into an empty project${ENABLED ? "" : ` (skipped: ${SKIPPED})`}`, () => {
  let project = "";
  let packed: { filename: string; size: number; files: { path: string }[] };
  let bin = "";

  // One project for all the checks below, removed after the last.
  const dir = ENABLED ? mkdtempSync(join(tmpdir(), "silicon-package-")) : "";
  afterAll(() => rmSync(dir, { recursive: true, force: true }), 5 * MINUTES);

  beforeAll(() => {
    // npm pack runs `prepare`: the build into dist/ is part of what is tested.
    [packed] = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", dir], { cwd: REPO, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })) as [typeof packed];
    project = join(dir, "project");
    mkdirSync(project);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2));
    const started = performance.now();
    const install = run(
      "npm",
      ["install", "--prefer-offline", join(dir, packed.filename), `typescript@${installedVersion("typescript")}`, `@types/node@${installedVersion("@types/node")}`],
      project,
    );
    if (install.status !== 0) throw new Error(`npm install of the tarball failed:\n${install.stderr}`);
    console.log(`packed ${packed.filename}: ${(packed.size / 1024).toFixed(0)} kB, ${packed.files.length} files; installed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    bin = join(project, "node_modules", ".bin", "silicon");
  }, 10 * MINUTES);

  it("ships the build (JS, declarations, the store's migrations) and not the sources or tests", () => {
    const files = packed.files.map((file) => file.path);
    for (const needed of ["bin/silicon.js", "dist/index.js", "dist/index.d.ts", "dist/cli/main.js", "dist/store/migrations/001-init.sql", "README.md", "examples/tasks.csv"]) {
      expect(files).toContain(needed);
    }
    expect(files.filter((file) => /^(src|test|bench|scripts|\.ci)\//.test(file))).toEqual([]);
    expect(existsSync(join(project, "node_modules", "silicon", "src"))).toBe(false);
  });

  it("npx silicon --version", () => {
    const result = run("npx", ["silicon", "--version"], project);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(`${VERSION}\n`);
  });

  it("silicon calibrate --tasks examples/tasks.csv", () => {
    const result = run(bin, ["calibrate", "--tasks", TASKS], project);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Algorithm 1: population target/);
    expect(result.stdout).toContain('model "simulated:steady"');
  });

  it("silicon generate on a small simulated study: the store and its SQL migrations work from dist/", () => {
    const study = writeStudy(join(dir, "study"), { respondents: 3, models: ["simulated:biased"] });
    const result = run(bin, ["generate", study, "--quiet"], join(dir, "study"));
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^cli-study: 18 cells for simulated:biased; this run 18 answered; .*wrote results\/cli-study\/responses\.csv/);
    expect(existsSync(join(dir, "study", "results", "cli-study", "store.sqlite"))).toBe(true);
  });

  it("a TypeScript program imports the library with its types: tsc checks it, node runs it", () => {
    writeFileSync(join(project, "check.ts"), CONSUMER);
    // As `tsc --init` writes it (skipLibCheck: arquero's own declarations do not pass a strict lib check).
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { target: "es2023", module: "nodenext", strict: true, noEmit: true, skipLibCheck: true, types: ["node"] }, include: ["check.ts"] }),
    );
    const check = run(join(project, "node_modules", ".bin", "tsc"), ["-p", "."], project);
    expect(check.stdout + check.stderr).toBe("");
    expect(check.status).toBe(0);
    const result = run(process.execPath, ["check.ts", TASKS], project);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/^\d+ intervals; function\n$/);
  });

  const old = oldNode();
  it.skipIf(old === undefined)(`the machine's own old Node (${old ?? "none older than 22 here"}) gets the one line`, () => {
    const result = spawnSync(old!, [join(project, "node_modules", "silicon", "bin", "silicon.js"), "--help"], { cwd: project, encoding: "utf8" });
    expect(result.stderr).toMatch(/^silicon needs Node\.js 22\.18 or newer \(this is [0-9.]+\); see README "Setup"\n$/);
    expect(result.stdout).toBe("");
    expect(result.status).toBe(1);
  });
});
