import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/errors.ts";
import { readCsv } from "../../src/tables/csv.ts";
import { readTable } from "../../src/tables/read.ts";
import { readSav } from "../../src/tables/sav.ts";
import type { DataTable } from "../../src/tables/types.ts";
import { useTempDir } from "../helpers/tmp.ts";

/** Fixtures written by R haven and PSPP with test/fixtures/sav/make.R (and make.sps). */
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/sav/${name}`, import.meta.url));
/** Files written by PSPP for the bad-input corpus (test/fixtures/bad-input/frames.sps). */
const badInputFixture = (name: string) => fileURLToPath(new URL(`../fixtures/bad-input/${name}`, import.meta.url));

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

const PANEL = ["panel.sav"];
const MIXED = ["haven-mixed-byte.sav", "haven-mixed-none.sav", "haven-mixed.zsav", "pspp-mixed-byte.sav", "pspp-mixed-none.sav", "pspp-mixed.zsav"];
const BLOCKS = ["haven-blocks.zsav", "pspp-blocks.zsav"];

describe("readTable on SPSS files written by R haven and PSPP, compared with the same data as CSV", () => {
  const mixed = expectedTable("mixed.csv");
  it.each(MIXED)("%s: all 120 cases, every cell as in mixed.csv", async (name) => {
    const table = await readTable(fixture(name));
    expect(table.numRows).toBe(120);
    expectSameData(table, mixed);
  });

  const panel = expectedTable("panel.csv");
  it.each(PANEL)("%s (byte-compressed, a labelled wave column): all 12 rows as in panel.csv", async (name) => {
    expectSameData(await readTable(fixture(name)), panel);
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

describe("readSav streams a file in chunks: cases, command blocks and zlib blocks split across reads read as in one piece", () => {
  const small = [...PANEL, ...MIXED, "frame.sav"].map(fixture).concat(
    ["duplicate-id.sav", "negative-weight.sav", "tasks-bad-role.sav", "valid.sav", "valid.zsav"].map(badInputFixture),
  );
  const cases = small.flatMap((path) => [7, 8].map((chunkBytes) => [path.replace(/^.*fixtures\//, ""), chunkBytes, path] as const));
  it.each(cases)("%s, %i bytes at a time", async (_name, chunkBytes, path) => {
    expect(await readSav(path, { chunkBytes })).toEqual(await readSav(path));
  });

  // 60,000 cases in two zlib blocks: 7-byte reads would mean 140,000 reads, so a few hundred bytes at a time.
  it.each(BLOCKS.flatMap((name) => [509, 512].map((chunkBytes) => [name, chunkBytes] as const)))("%s, %i bytes at a time", async (name, chunkBytes) => {
    expect(await readSav(fixture(name), { chunkBytes })).toEqual(await readSav(fixture(name)));
  });
});

describe("readTable with columns decodes only those of an SPSS file, and still checks every case", () => {
  const useDir = useTempDir("silicon-sav-columns-");
  const wanted = ["therm", "id", "respondent_comment_long_name", "absent"];

  it.each(MIXED)("%s: the columns asked for (in the file's order), their labels, every other column named", async (name) => {
    const whole = await readTable(fixture(name));
    for (const chunkBytes of [7, 1 << 20]) {
      const table = await readSav(fixture(name), { columns: wanted, chunkBytes });
      expect(table.columnNames).toEqual(["id", "therm", "respondent_comment_long_name"]);
      expect(table.fileColumnNames).toEqual(whole.columnNames);
      expect(table.numRows).toBe(120);
      expect(table.columns).toEqual({ id: whole.columns.id, therm: whole.columns.therm, respondent_comment_long_name: whole.columns.respondent_comment_long_name });
      expect(table.valueLabels).toEqual({ therm: whole.valueLabels.therm });
    }
  });

  it("no columns at all: every case is still counted, and a wrong count still refused", async () => {
    const table = await readTable(fixture("haven-mixed.zsav"), { columns: [] });
    expect([table.numRows, table.columnNames, table.columns]).toEqual([120, [], {}]);
    const copy = Buffer.from(readFileSync(fixture("haven-mixed-byte.sav")));
    copy.writeInt32LE(121, 80);
    const path = join(useDir(), "short.sav");
    writeFileSync(path, copy);
    for (const columns of [[], ["age"]]) {
      await expect(readTable(path, { columns })).rejects.toThrow(/short\.sav: not a readable SPSS file: its header declares 121 cases but the data holds 120 \(truncated or incompletely copied\?\)$/);
    }
  });
});

describe("readTable refuses a damaged SPSS file with one line saying what is wrong, never a shorter table", () => {
  const useDir = useTempDir("silicon-sav-");
  const original = readFileSync(fixture("haven-mixed-byte.sav"));

  async function problem(bytes: Uint8Array, name = "damaged.sav", chunkBytes?: number): Promise<string> {
    const path = join(useDir(), name);
    writeFileSync(path, bytes);
    try {
      const table = chunkBytes === undefined ? await readTable(path) : await readSav(path, { chunkBytes });
      return `read ${table.numRows} cases`;
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      const message = (error as Error).message;
      expect(message).not.toContain("\n");
      return message.slice(path.length + 2);
    }
  }

  const withDeclaredCases = (bytes: Buffer, cases: number) => {
    const copy = Buffer.from(bytes);
    copy.writeInt32LE(cases, 80);
    return copy;
  };

  it("a header that declares fewer or more cases than the data holds", async () => {
    expect(await problem(withDeclaredCases(original, 119))).toBe("not a readable SPSS file: its header declares 119 cases but the data holds 120");
    expect(await problem(withDeclaredCases(original, 121))).toBe(
      "not a readable SPSS file: its header declares 121 cases but the data holds 120 (truncated or incompletely copied?)",
    );
  });

  it("an unknown case count (-1) reads every case", async () => {
    expect(await problem(withDeclaredCases(original, -1))).toBe("read 120 cases");
  });

  it("garbage, an empty file, and another format renamed .sav", async () => {
    expect(await problem(new Uint8Array(0))).toBe("not a readable SPSS file: the file is empty");
    expect(await problem(Buffer.from("PK\u0003\u0004 not spss at all"))).toBe(
      'not a readable SPSS file: it does not start as an SPSS system file does ($FL2 or $FL3) but with "PK\\u0003\\u0004"; is it another format renamed?',
    );
    expect(await problem(Buffer.concat([original.subarray(0, 176), Buffer.alloc(64, 0xab)]))).toBe(
      "not a readable SPSS file: unknown record type -1414812757 at byte 176: the dictionary is damaged",
    );
  });

  it.each(["haven-mixed-byte.sav", "haven-mixed-none.sav", "haven-mixed.zsav", "pspp-mixed.zsav"])(
    "%s cut short anywhere: header, dictionary, data or zlib trailer",
    async (name) => {
      const whole = readFileSync(fixture(name));
      const lengths = [100, 400, 1500, whole.length - 9, whole.length - 1];
      for (let length = 173; length < whole.length; length += 1009) lengths.push(length);
      for (const length of lengths) {
        const message = await problem(whole.subarray(0, length), name.replace(/^.*\./, "cut."));
        expect(message, `cut at ${length} bytes`).toMatch(/^not a readable SPSS file: .*(truncated or incompletely copied\?\)|damaged)/);
        expect(await problem(whole.subarray(0, length), name.replace(/^.*\./, "cut."), 7), `cut at ${length} bytes, 7 bytes per read`).toBe(message);
      }
    },
  );

  it("a case cut in half in an uncompressed file names the case", async () => {
    const whole = readFileSync(fixture("haven-mixed-none.sav"));
    expect(await problem(whole.subarray(0, whole.length - 100))).toBe(
      "not a readable SPSS file: the data ends in the middle of case 120 (truncated or incompletely copied?)",
    );
  });

  it("random damage to the dictionary gives a one-line error or a table, never a crash (seeded)", async () => {
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 300; trial++) {
      const copy = Buffer.from(original);
      for (let k = 0; k < 3; k++) copy[Math.floor(random() * 2600)] = Math.floor(random() * 256);
      const outcome = await problem(copy);
      expect(outcome).toMatch(/^(read \d+ cases|not a readable SPSS file: .+)$/);
      expect(outcome).not.toMatch(/undefined|Cannot read|out of range|NaN/i);
    }
  });
});
