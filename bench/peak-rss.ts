/**
 * Preloaded into node children of the benches (`node --import`): at exit,
 * writes the process's peak resident memory (KiB) and the CPU time it used
 * (user + system, seconds) to the file named by SILICON_BENCH_PEAK_RSS, so
 * the bench measures the whole command, not a sample of it.
 */
import { writeFileSync } from "node:fs";

const file = process.env.SILICON_BENCH_PEAK_RSS;
if (file !== undefined) {
  process.on("exit", () => {
    const usage = process.resourceUsage();
    writeFileSync(file, `${usage.maxRSS} ${(usage.userCPUTime + usage.systemCPUTime) / 1e6}`);
  });
}
