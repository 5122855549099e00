/**
 * The shape of src/'s imports: no module imports itself back through a
 * chain of others (type-only and lazy imports count too: a cycle is a
 * design knot whatever the runtime makes of it), and src/inference stays
 * pure (it imports only itself and the shared errors).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Comments out of the way, so a specifier quoted in a comment is not an import. */
function withoutComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

/** The relative module specifiers a file imports: static, type-only, re-exported or dynamic. */
export function importedSpecifiers(code: string): string[] {
  const text = withoutComments(code);
  const found = [
    ...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm),
    ...text.matchAll(/^\s*import\s*["']([^"']+)["']/gm),
    ...text.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g),
  ].map((match) => match[1]!);
  return [...new Set(found.filter((specifier) => specifier.startsWith(".")))];
}

/** Module graph of src/: file (relative to src/) to the files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const targets = importedSpecifiers(readFileSync(file, "utf8")).map((specifier) => relative(SRC, resolve(dirname(file), specifier)));
    graph.set(relative(SRC, file), targets);
  }
  return graph;
}

/** Strongly connected components with more than one module (or a module importing itself): Tarjan's algorithm. */
export function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe("the import graph of src/", () => {
  it("finds imports of every form and ignores commented ones", () => {
    const code = [
      'import { a } from "./a.ts";',
      'import type { B } from "../b.ts";',
      "import {\n  c,\n  d,\n} from './c.ts';",
      'export * as e from "./e.ts";',
      'import "./side-effect.ts";',
      'const f = await import("./f.ts");',
      '// import { g } from "./g.ts";',
      '/* const h = await import("./h.ts"); */',
      'import { readFileSync } from "node:fs";',
    ].join("\n");
    expect(importedSpecifiers(code).sort()).toEqual(["../b.ts", "./a.ts", "./c.ts", "./e.ts", "./f.ts", "./side-effect.ts"]);
  });

  it("the cycle finder finds a cycle and a self-import, and nothing in a tree", () => {
    const graph = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a", "d"]],
      ["d", []],
      ["e", ["e"]],
    ]);
    expect(cycles(graph)).toEqual([["a", "b", "c"], ["e"]]);
    expect(cycles(new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]]))).toEqual([]);
  });

  it("has no import cycles", () => {
    const graph = importGraph();
    expect(graph.size).toBeGreaterThan(100);
    expect(cycles(graph)).toEqual([]);
  });

  it("src/inference imports only src/inference and src/errors.ts", () => {
    const outside = [...importGraph()]
      .filter(([file]) => file.startsWith("inference/"))
      .flatMap(([file, targets]) => targets.filter((t) => !t.startsWith("inference/") && t !== "errors.ts").map((t) => `${file} -> ${t}`));
    expect(outside).toEqual([]);
  });
});
