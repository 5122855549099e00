/**
 * A command loads only its stage: the help loads no stage at all and no
 * package but commander, and the calibration commands on a tasks table load
 * neither the generation side (providers, vendor SDKs, store, templates) nor
 * the report. Checked by the modules a real child process loads, not by time.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { BIN, childEnv, REPO } from "../helpers/cli.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir();
const RECORDER = fileURLToPath(new URL("../helpers/record-loads.ts", import.meta.url));

interface Loaded {
  /** Paths under src/, e.g. "cli/program.ts". */
  sources: string[];
  /** Package names under node_modules, e.g. "commander", "@anthropic-ai/sdk". */
  packages: string[];
}

function loadedBy(args: string[]): Loaded {
  const file = join(tempDir(), "loads.txt");
  const result = spawnSync(process.execPath, ["--import", RECORDER, BIN, ...args], {
    cwd: REPO,
    env: childEnv({ SILICON_TEST_LOADS: file }),
    encoding: "utf8",
  });
  expect(result.status, result.stderr).toBe(0);
  const urls = readFileSync(file, "utf8").split("\n").filter((url) => url.startsWith("file:"));
  const sources = urls.filter((url) => url.includes("/src/") && !url.includes("/node_modules/")).map((url) => url.slice(url.lastIndexOf("/src/") + 5));
  const packages = urls
    .filter((url) => url.includes("/node_modules/"))
    .map((url) => url.slice(url.lastIndexOf("/node_modules/") + 14).split("/"))
    .map((parts) => (parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!));
  return { sources: [...new Set(sources)], packages: [...new Set(packages)] };
}

const stage = (path: string) => (path.includes("/") ? path.slice(0, path.indexOf("/")) : path);
const GENERATION_SIDE = ["generation", "providers", "store", "personas", "simulation", "report", "pipeline"];
const GENERATION_PACKAGES = ["openai", "@anthropic-ai/sdk", "handlebars", "hyparquet-writer", "cli-progress", "yaml", "zod"];

describe("lazy imports", () => {
  it("silicon --help loads the command declarations only: no stage, no package but commander", () => {
    const { sources, packages } = loadedBy(["--help"]);
    expect(sources).toContain("cli/program.ts");
    const stages = new Set(sources.map(stage));
    for (const heavy of [...GENERATION_SIDE, "estimands", "evaluation", "tables", "config"]) expect(stages).not.toContain(heavy);
    // Constants (the method names, the adjustment's defaults) come from src/inference; the algorithms do not.
    for (const algorithms of ["inference/calibrate.ts", "inference/methods.ts", "inference/quantiles.ts"]) expect(sources).not.toContain(algorithms);
    expect(packages).toEqual(["commander"]);
  });

  it.each([["calibrate"], ["evaluate", "--protocol", "loo"], ["compare"]])("silicon %s --tasks loads no generation, store or report code", (...command) => {
    const { sources, packages } = loadedBy([...command, "--tasks", "examples/tasks.csv"]);
    expect(sources).toContain("inference/calibrate.ts");
    // The seeded random numbers of src/simulation are shared (evaluation's permutation diagnostics); the simulator is not.
    expect(sources.filter((s) => s !== "simulation/random.ts" && GENERATION_SIDE.includes(stage(s)))).toEqual([]);
    expect(packages.filter((p) => GENERATION_PACKAGES.includes(p))).toEqual([]);
  });
});
