/**
 * Preloaded into a child (`node --import test/helpers/record-loads.ts …`):
 * records the URL of every module the child loads and writes them, one a
 * line, to the file named by SILICON_TEST_LOADS when it exits.
 */
import { writeFileSync } from "node:fs";
import { registerHooks } from "node:module";

const loaded: string[] = [];
registerHooks({
  load(url, context, nextLoad) {
    loaded.push(url);
    return nextLoad(url, context);
  },
});
process.on("exit", () => {
  const file = process.env["SILICON_TEST_LOADS"];
  if (file !== undefined) writeFileSync(file, loaded.join("\n") + "\n");
});
