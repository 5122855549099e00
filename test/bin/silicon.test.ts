/**
 * bin/silicon.js, the one file every Node runs: the version check before
 * anything else, --version, and a closed pipe ending quietly.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BIN, childEnv, REPO, runCli } from "../helpers/cli.ts";
import { oldNode } from "../helpers/old-node.ts";

const VERSION = (JSON.parse(readFileSync(`${REPO}package.json`, "utf8")) as { version: string }).version;
const NEEDS = /^silicon needs Node\.js 22\.18 or newer \(this is [0-9.]+\); see README "Setup"\n$/;

/** Runs bin/silicon.js on this Node, told it is `version`. */
function asNode(version: string, args: string[]) {
  const pretend = `data:text/javascript,Object.defineProperty(process.versions,"node",{value:"${version}"})`;
  return spawnSync(process.execPath, ["--import", pretend, BIN, ...args], { cwd: REPO, env: childEnv(), encoding: "utf8" });
}

describe("the Node version check", () => {
  it("refuses 22.17 with the one line and exit 1, before loading any of silicon", () => {
    const result = asNode("22.17.1", ["--help"]);
    expect(result.stderr).toMatch(NEEDS);
    expect(result.stderr).toContain("(this is 22.17.1)");
    expect(result.stdout).toBe("");
    expect(result.status).toBe(1);
  });

  it("accepts 22.18.0 exactly", () => {
    const result = asNode("22.18.0", ["--version"]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(`${VERSION}\n`);
    expect(result.status).toBe(0);
  });

  const old = oldNode();
  it.skipIf(old === undefined)(`a real old Node (${old ?? "none on this machine: skipped"}) gets the one line`, () => {
    const result = spawnSync(old!, [BIN, "demo"], { cwd: REPO, env: childEnv(), encoding: "utf8" });
    expect(result.stderr).toMatch(NEEDS);
    expect(result.stdout).toBe("");
    expect(result.status).toBe(1);
  });
});

describe("command-line conventions", () => {
  it.each(["--version", "-V"])("%s prints package.json's version", async (flag) => {
    const result = await runCli([flag], { cwd: REPO });
    expect(result).toMatchObject({ code: 0, stdout: `${VERSION}\n`, stderr: "" });
  });

  it("a reader that closed the pipe ends the output quietly, exit 0", async () => {
    const child = spawn(process.execPath, [BIN, "help", "run"], { cwd: REPO, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
    // Closed before silicon has written anything: its first write meets EPIPE.
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });
});
