import { execFileSync, spawnSync } from "node:child_process";

/** A node older than 22 on PATH or in the usual system places (the machine's own, under CI's newer one), if there is one. */
export function oldNode(): string | undefined {
  const candidates = new Set(["/usr/bin/node", "/usr/local/bin/node"]);
  try {
    for (const line of execFileSync("which", ["-a", "node"], { encoding: "utf8" }).split("\n")) if (line) candidates.add(line);
  } catch {
    // no `which`: the usual places only
  }
  for (const path of candidates) {
    const probe = spawnSync(path, ["-p", "process.versions.node"], { encoding: "utf8" });
    if (probe.status === 0 && Number(probe.stdout.split(".")[0]) < 22) return path;
  }
  return undefined;
}
