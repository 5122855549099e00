import { readFileSync } from "node:fs";

let version: string | undefined;

/**
 * silicon's version, from its package.json: one place, read once, for
 * `silicon --version` and the provenance of every results folder. The path
 * holds from src/ (a checkout) and from dist/ (the installed package) alike.
 */
export function siliconVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
  return version;
}
