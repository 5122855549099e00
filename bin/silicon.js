#!/usr/bin/env node
// Plain JavaScript in syntax any Node that runs ES modules can parse (no
// static imports, no top-level await, no ?. or ??): it must get as far as
// the version check on whatever Node a user has, and say in one line what is
// wrong instead of a stack trace. 22.18 is the first Node that strips
// TypeScript types without a flag (a checkout runs the sources) and the
// version package.json's "engines" names.
const MINIMUM = [22, 18];
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < MINIMUM[0] || (major === MINIMUM[0] && minor < MINIMUM[1])) {
  process.stderr.write(
    `silicon needs Node.js ${MINIMUM.join(".")} or newer (this is ${process.versions.node}); see README "Setup"\n`,
  );
  process.exit(1);
}

// node:sqlite prints an ExperimentalWarning on first use; users should not
// see it on every command. Other warnings still go to stderr.
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  if (warning.name !== "ExperimentalWarning") process.stderr.write(`${warning.name}: ${warning.message}\n`);
});

// A reader that stops early (silicon help run | head -1) closes the pipe:
// that ends the output quietly, not with an EPIPE stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code === "EPIPE") process.exit(process.exitCode || 0);
    throw error;
  });
}

// Which code to run. In a checkout (src/ is there and the package is not
// under node_modules) the TypeScript sources run directly, so an edit takes
// effect without a build and a stale dist/ is never what a developer runs.
// An installed package runs the compiled dist/: npm packs no src/, and Node
// refuses to strip types under node_modules anyway.
//
// Node's compile cache (in the OS temp folder, keyed by file contents, so
// never stale) halves the start-up of a checkout, where every run would
// otherwise strip the types of every module again; the installed package
// gains little. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
Promise.all([import("node:fs"), import("node:url"), import("node:module")])
  .then(([fs, url, module]) => {
    module.enableCompileCache();
    const root = new URL("../", import.meta.url);
    const inCheckout =
      fs.existsSync(new URL("src/cli/main.ts", root)) && !url.fileURLToPath(root).split(/[\\/]/).includes("node_modules");
    return import(new URL(inCheckout ? "src/cli/main.ts" : "dist/cli/main.js", root).href);
  })
  .then((cli) => cli.main(process.argv))
  .then((status) => {
    process.exitCode = status;
  });
