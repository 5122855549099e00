/**
 * Start-up: the CPU a command costs before it does any work, against
 * `node -e 0` measured in the same run (the floor any Node program pays).
 *
 * - the installed package: `npm pack` (the build included), the tarball
 *   unpacked as node_modules/silicon of an empty project whose other
 *   dependencies are this checkout's, so it runs exactly what a user gets;
 * - this checkout, which runs the TypeScript sources (type stripping).
 *
 * CPU is user + system of the child processes, from bash's `times` over
 * batches of runs (getrusage of the children: exact, whole process), in
 * interleaved rounds; the median round is reported. Targets (issue 11/15):
 * `silicon --help` from the installed package ≤ 250 ms of CPU and ≤ 3 ×
 * `node -e 0`; a miss fails the bench (exit status 1).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Report } from "./harness.ts";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const ROUNDS = 5;
const RUNS_PER_ROUND = 8;
const MAX_HELP_CPU_MS = 250;
const MAX_HELP_RATIO = 3;

/** Mean CPU milliseconds per run of `command`, over `runs` runs in one batch. */
function childCpuMs(command: readonly string[], runs: number, cwd: string): number {
  const script = `for i in $(seq ${runs}); do "$@" >/dev/null 2>&1 || exit 1; done; times`;
  const result = spawnSync("bash", ["-c", script, "bash", ...command], { cwd, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${command.join(" ")} failed in ${cwd}`);
  // `times`: the shell's own user and system time, then its children's.
  const children = result.stdout.trim().split("\n").at(-1)!;
  const [user, system] = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return ((user! + system!) * 1000) / runs;
}

/** The packed tarball unpacked as an installed dependency of an empty project. */
function installedPackage(dir: string): string {
  const tarball = execFileSync("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
    .trim()
    .split("\n")
    .at(-1)!;
  const modules = join(dir, "project", "node_modules");
  const silicon = join(modules, "silicon");
  mkdirSync(silicon, { recursive: true });
  execFileSync("tar", ["-xzf", join(dir, tarball), "-C", silicon, "--strip-components=1"]);
  for (const name of readdirSync(join(REPO, "node_modules"))) {
    if (name !== ".bin" && name !== "silicon" && !name.startsWith(".")) symlinkSync(join(REPO, "node_modules", name), join(modules, name));
  }
  return join(silicon, "bin", "silicon.js");
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export default async function (report: Report): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "silicon-bench-startup-"));
  try {
    const installed = installedPackage(dir);
    const checkout = join(REPO, "bin", "silicon.js");
    const node = process.execPath;
    const commands: Record<string, string[]> = {
      "node -e 0": [node, "-e", "0"],
      "silicon --help, installed package": [node, installed, "--help"],
      "silicon --help, checkout (TypeScript sources)": [node, checkout, "--help"],
      "silicon calibrate --tasks examples/tasks.csv, installed": [node, installed, "calibrate", "--tasks", join(REPO, "examples", "tasks.csv")],
      "silicon calibrate --tasks examples/tasks.csv, checkout": [node, checkout, "calibrate", "--tasks", join(REPO, "examples", "tasks.csv")],
    };
    const rounds = new Map<string, number[]>(Object.keys(commands).map((name) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, command] of Object.entries(commands)) rounds.get(name)!.push(childCpuMs(command, RUNS_PER_ROUND, dir));
    }
    const cpu = (name: string) => median(rounds.get(name)!);
    const floor = cpu("node -e 0");
    report({ name: "node -e 0 (baseline)", value: floor, unit: "ms CPU" });
    for (const name of Object.keys(commands).slice(1)) {
      report({ name, value: cpu(name), unit: "ms CPU", note: `${(cpu(name) / floor).toFixed(2)} × node -e 0` });
    }
    const help = cpu("silicon --help, installed package");
    const ratio = help / floor;
    report({ name: "silicon --help, installed / node -e 0", value: ratio, unit: "×", note: `target ≤ ${MAX_HELP_RATIO}; ≤ ${MAX_HELP_CPU_MS} ms CPU` });
    if (ratio > MAX_HELP_RATIO || help > MAX_HELP_CPU_MS) {
      console.log(`FAILED: silicon --help from the installed package costs ${help.toFixed(0)} ms CPU, ${ratio.toFixed(2)} × node -e 0 (targets ≤ ${MAX_HELP_CPU_MS} ms, ≤ ${MAX_HELP_RATIO} ×)`);
      process.exitCode = 1;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
