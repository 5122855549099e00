/**
 * The engine with the real loader, registry and simulated provider: offline,
 * k generations in one call (n), and the same answers in a fresh store.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { loadStudy } from "../../src/config/load.ts";
import { generate, type RunSummary } from "../../src/generation/run.ts";
import { writeStudy } from "../helpers/cli.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir();

it("generates a simulated study deterministically", async () => {
  const dir = tempDir();
  const study = await loadStudy(writeStudy(dir, { respondents: 9, generations: 3, models: ["simulated:biased", "simulated:faithful"] }));
  const first = (await generate(study, { resultsDir: join(dir, "a") })) as RunSummary;
  expect(first).toMatchObject({ status: "completed", cells: 2 * 9 * 3 * 3 });
  expect(first.totals).toMatchObject({ answered: 162, callsSent: 54, nonresponse: 0, costUsd: 0 });
  const second = (await generate(study, { resultsDir: join(dir, "b") })) as RunSummary;
  expect(readFileSync(second.exports.csv, "utf8")).toBe(readFileSync(first.exports.csv, "utf8"));
});
