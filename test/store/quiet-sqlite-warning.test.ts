/**
 * Node 22 warns on stderr when node:sqlite loads; silicon's one-line error
 * contract (and a clean run's empty stderr) must hold there too. The filter
 * drops exactly that warning and passes every other one through.
 */
import { describe, expect, it } from "vitest";
import "../../src/store/quiet-sqlite-warning.ts";

/** The warnings `emit` raises, as "name: message" (Node delivers them on the next tick). */
async function warningsFrom(emit: () => void): Promise<string[]> {
  const seen: string[] = [];
  const listener = (warning: Error): void => void seen.push(`${warning.name}: ${warning.message}`);
  process.on("warning", listener);
  emit();
  await new Promise((resolve) => setImmediate(resolve));
  process.off("warning", listener);
  return seen;
}

describe("the node:sqlite experimental warning (printed by Node 22)", () => {
  it("is dropped, in each form Node's emitWarning takes", async () => {
    const text = "SQLite is an experimental feature and might change at any time";
    const seen = await warningsFrom(() => {
      process.emitWarning(text, "ExperimentalWarning");
      process.emitWarning(text, { type: "ExperimentalWarning" });
      const error = new Error(text);
      error.name = "ExperimentalWarning";
      process.emitWarning(error);
    });
    expect(seen).toEqual([]);
  });

  it("lets every other warning through, the same text of another type and other experimental features included", async () => {
    const seen = await warningsFrom(() => {
      process.emitWarning("SQLite is an experimental feature and might change at any time", "DeprecationWarning");
      process.emitWarning("WASI is an experimental feature and might change at any time", "ExperimentalWarning");
      process.emitWarning("something else");
    });
    expect(seen).toEqual([
      "DeprecationWarning: SQLite is an experimental feature and might change at any time",
      "ExperimentalWarning: WASI is an experimental feature and might change at any time",
      "Warning: something else",
    ]);
  });
});
