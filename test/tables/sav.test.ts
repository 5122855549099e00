import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { readCsv } from "../../src/tables/csv.ts";
import { readTable } from "../../src/tables/read.ts";
import type { DataTable } from "../../src/tables/types.ts";

/** Fixtures written by R haven and PSPP with test/fixtures/sav/make.R (and make.sps). */
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/sav/${name}`, import.meta.url));

function expectedTable(csvName: string): DataTable {
  const path = fixture(csvName);
  const bytes = readFileSync(path);
  return readCsv(path, (csvName.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8"));
}

/** Every cell of `actual` equals the CSV's: numbers exactly, strings as text, missing as null. */
function expectSameData(actual: DataTable, expected: DataTable): void {
  expect(actual.columnNames).toEqual(expected.columnNames);
  expect(actual.numRows).toBe(expected.numRows);
  for (const name of expected.columnNames) {
    const got = actual.columns[name]!;
    const numeric = got.some((cell) => typeof cell === "number");
    const want = expected.columns[name]!.map((cell) => (cell !== null && numeric ? Number(cell) : cell));
    const row = got.findIndex((cell, i) => cell !== want[i]);
    const verdict = row === -1 ? "all equal" : `row ${row + 1}: read ${JSON.stringify(got[row])}, CSV has ${JSON.stringify(want[row])}`;
    expect(verdict, `column ${name}`).toBe("all equal");
  }
}

const MIXED = ["haven-mixed-byte.sav", "haven-mixed-none.sav", "haven-mixed.zsav", "pspp-mixed-byte.sav", "pspp-mixed-none.sav", "pspp-mixed.zsav"];
const BLOCKS = ["haven-blocks.zsav", "pspp-blocks.zsav"];

describe("readTable on SPSS files written by R haven and PSPP, compared with the same data as CSV", () => {
  const mixed = expectedTable("mixed.csv");
  it.each(MIXED)("%s: all 120 cases, every cell as in mixed.csv", async (name) => {
    const table = await readTable(fixture(name));
    expect(table.numRows).toBe(120);
    expectSameData(table, mixed);
  });

  const blocks = expectedTable("blocks.csv.gz");
  it.each(BLOCKS)("%s: all 60,000 cases across two zlib blocks, every cell as in blocks.csv.gz", async (name) => {
    const table = await readTable(fixture(name));
    expect(table.numRows).toBe(60_000);
    expectSameData(table, blocks);
  });

  it.each(MIXED)("%s: value labels of numeric columns, user-missing codes read as missing", async (name) => {
    const table = await readTable(fixture(name));
    expect(table.valueLabels.party).toEqual(new Map([[1, "Democrat"], [2, "Republican"], [3, "Independent"]]));
    expect(table.valueLabels.approve).toEqual(new Map([[0, "Disapprove"], [1, "Approve"], [9, "Refused"]]));
    expect(table.valueLabels.therm).toEqual(new Map([[998, "Don't know"], [999, "Refused"]]));
    expect(table.columns.approve!.filter((cell) => cell === 9)).toEqual([]);
    expect(table.columns.therm!.filter((cell) => typeof cell === "number" && cell > 100)).toEqual([]);
  });
});
