#!/usr/bin/env node
// node:sqlite prints an ExperimentalWarning on first use; users should not
// see it on every command. Other warnings still go to stderr.
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  if (warning.name !== "ExperimentalWarning") process.stderr.write(`${warning.name}: ${warning.message}\n`);
});
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv);
