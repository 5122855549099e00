// npm run build (and the npm `prepare` lifecycle: npm ci, npm pack, npm
// publish, npm install <git url>): compiles src/ into dist/ as JavaScript with
// declaration files, and copies beside them the files the code reads at run
// time (the store's SQL migrations). Plain JavaScript, so that a consumer on
// an old Node still gets the package built and then silicon's one-line
// "needs Node.js 22.18" message instead of a failed install.
import { spawnSync } from "node:child_process";
import { cpSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
// A file deleted from src/ must not live on in dist/.
rmSync(dist, { recursive: true, force: true });

const tsc = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");
const compile = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
if (compile.status !== 0) {
  process.stderr.write(`build: tsc failed (exit ${compile.status ?? compile.signal}); dist/ is incomplete\n`);
  process.exit(1);
}

cpSync(join(root, "src"), dist, {
  recursive: true,
  filter: (source) => !source.endsWith(".ts"),
});
