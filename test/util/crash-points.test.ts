/**
 * The test-only crash hook: inert without SILICON_TEST_CRASH_AT; with it,
 * SIGKILL exactly at the n-th arrival at the named point; a misspelt point
 * is an error, not a silently passing crash test.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const MODULE = fileURLToPath(new URL("../../src/util/crash-points.ts", import.meta.url));
const SCRIPT = `
import { crashPoint } from ${JSON.stringify(MODULE)};
for (let i = 1; i <= 3; i++) { crashPoint("before-send"); process.stdout.write("sent " + i + ";"); crashPoint("after-commit"); }
`;

function run(value: string | undefined) {
  const env = { ...process.env };
  delete env.SILICON_TEST_CRASH_AT;
  if (value !== undefined) env.SILICON_TEST_CRASH_AT = value;
  return spawnSync(process.execPath, ["--input-type=module", "-e", SCRIPT], { env, encoding: "utf8" });
}

it("does nothing unless SILICON_TEST_CRASH_AT is set", () => {
  expect(run(undefined)).toMatchObject({ status: 0, signal: null, stdout: "sent 1;sent 2;sent 3;" });
  expect(run("")).toMatchObject({ status: 0, stdout: "sent 1;sent 2;sent 3;" });
});

it("kills the process with SIGKILL the n-th time the named point is reached", () => {
  expect(run("before-send:2")).toMatchObject({ status: null, signal: "SIGKILL", stdout: "sent 1;" });
  expect(run("after-commit:3")).toMatchObject({ signal: "SIGKILL", stdout: "sent 1;sent 2;sent 3;" });
  expect(run("after-commit:4")).toMatchObject({ status: 0, stdout: "sent 1;sent 2;sent 3;" });
});

it("refuses an unknown point or a malformed value", () => {
  for (const value of ["before-sned:1", "before-send", "before-send:0"]) {
    const result = run(value);
    expect(result.status, value).not.toBe(0);
    expect(result.signal).toBeNull();
    expect(result.stderr).toContain(`SILICON_TEST_CRASH_AT=${value}: expected <point>:<n>`);
  }
});
