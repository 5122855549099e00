/**
 * `npm run bench`: runs every bench/*.bench.ts in turn (or those whose name
 * contains an argument, e.g. `npm run bench -- inference`) and prints their
 * figures. Each bench module default-exports `async (report) => void` and
 * reports figures as ratios against a baseline measured in the same run.
 * The latest figures also go to bench/out/latest.json (ignored by git).
 */
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../src/util/atomic-write.ts";
import type { BenchFigure, BenchModule } from "./harness.ts";

const dir = fileURLToPath(new URL(".", import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((name) => name.endsWith(".bench.ts"))
  .filter((name) => filters.length === 0 || filters.some((f) => name.includes(f)))
  .sort();

const results: Record<string, BenchFigure[]> = {};
const failures: string[] = [];
for (const file of files) {
  const name = file.replace(/\.bench\.ts$/, "");
  console.log(`\n== ${name}`);
  const figures: BenchFigure[] = [];
  const module = (await import(new URL(file, import.meta.url).href)) as BenchModule;
  await module.default((figure) => {
    figures.push(figure);
    const unit = figure.unit === undefined ? "" : ` ${figure.unit}`;
    const note = figure.note === undefined ? "" : `  (${figure.note})`;
    const failed = figure.mustBeZero === true && figure.value !== 0;
    console.log(`${figure.name.padEnd(60)} ${formatValue(figure.value)}${unit}${note}${failed ? "  FAIL: must be 0" : ""}`);
    if (failed) failures.push(`${name}: ${figure.name} = ${figure.value}`);
  });
  results[name] = figures;
}
if (failures.length > 0) {
  console.error(`\nbench FAILED: ${failures.join("; ")}`);
  process.exitCode = 1;
}
writeFileAtomic(`${dir}out/latest.json`, JSON.stringify({ node: process.version, date: new Date().toISOString(), results }, null, 2));

function formatValue(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
}
