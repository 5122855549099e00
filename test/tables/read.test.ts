/**
 * The streaming table readers: CSV chunk boundaries (quoted newlines, split
 * UTF-8 characters, a BOM), line numbers in messages, only the columns asked
 * for, and Parquet read a row group at a time with selected columns.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parquetWriteFile } from "hyparquet-writer";
import { describe, expect, it } from "vitest";
import { requireColumns } from "../../src/tables/columns.ts";
import { readCsv, readCsvFile } from "../../src/tables/csv.ts";
import { readTable } from "../../src/tables/read.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir("silicon-tables-");

function csvFile(content: string | Buffer): string {
  const path = join(tempDir(), "t.csv");
  writeFileSync(path, content);
  return path;
}

async function failure(read: Promise<unknown>): Promise<string> {
  try {
    await read;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected the read to fail");
}

const QUOTED = 'id,note,score\nr1,"two\nlines",5\nr2,plain,\nr3,"a ""quote"", and, commas",7\n\nr4,"three\nmore\nlines",9\n';

describe("readCsvFile", () => {
  it.each([1, 2, 3, 7, 64, 1 << 20])("reads quoted newlines, quotes, empty lines and missing cells alike at %i bytes per read", async (chunkBytes) => {
    const table = await readCsvFile(csvFile(QUOTED), { chunkBytes });
    expect(table.columnNames).toEqual(["id", "note", "score"]);
    expect(table.columns.note).toEqual(["two\nlines", "plain", 'a "quote", and, commas', "three\nmore\nlines"]);
    expect(table.columns.score).toEqual(["5", null, "7", "9"]);
    // Physical lines: the header is line 1, r1 spans 2-3, r4 starts after an empty line.
    expect([...table.lines!]).toEqual([2, 4, 5, 7]);
  });

  it("gives the same table as reading the text whole", async () => {
    const streamed = await readCsvFile(csvFile(QUOTED), { chunkBytes: 5 });
    expect(streamed).toEqual(readCsv(streamed.source, QUOTED));
  });

  it("keeps only the columns asked for, and names every column of the file when one is missing", async () => {
    const table = await readCsvFile(csvFile(QUOTED), { columns: ["score", "id", "absent"] });
    expect(table.columnNames).toEqual(["id", "score"]);
    expect(Object.keys(table.columns)).toEqual(["id", "score"]);
    expect(table.numRows).toBe(4);
    expect(() => requireColumns(table, ["nots"], "notes")).toThrow(/field "nots": missing column \(notes\); the file has: id, note, score$/);
  });

  it("drops a byte-order mark and reads UTF-8 characters split across reads", async () => {
    const text = "\uFEFFid,name\nr1,Zoë Łukasz 東京 😀\nr2,Émile\n";
    for (const chunkBytes of [1, 2, 3, 5]) {
      const table = await readCsvFile(csvFile(Buffer.from(text, "utf8")), { chunkBytes });
      expect(table.columnNames).toEqual(["id", "name"]);
      expect(table.columns.name).toEqual(["Zoë Łukasz 東京 😀", "Émile"]);
    }
  });

  it.each([1, 4, 1 << 20])("refuses bytes that are not UTF-8, naming their line (%i bytes per read)", async (chunkBytes) => {
    const latin1 = Buffer.concat([Buffer.from("id,name\nr1,ok\nr2,caf"), Buffer.from([0xe9]), Buffer.from("\nr3,x\n")]);
    expect(await failure(readCsvFile(csvFile(latin1), { chunkBytes }))).toMatch(/^.*t\.csv: line 3: the file is not UTF-8 text; save it as UTF-8/);
  });

  it("refuses a character cut off at the end of the file", async () => {
    const cut = Buffer.concat([Buffer.from("id,name\nr1,"), Buffer.from("é", "utf8").subarray(0, 1)]);
    expect(await failure(readCsvFile(csvFile(cut), { chunkBytes: 3 }))).toMatch(/t\.csv: line 2: the file is not UTF-8 text/);
  });

  it("names row and line of a ragged record after a quoted newline", async () => {
    const path = csvFile('id,note\nr1,"x\ny"\nr2,a,b\n');
    expect(await failure(readCsvFile(path, { chunkBytes: 4 }))).toMatch(/t\.csv: row 2 \(line 4\): not valid CSV: expected 2 fields, as the header has, got 3$/);
  });

  it.each([2, 1 << 20])("names the line where a never-closed quote opened (%i bytes per read)", async (chunkBytes) => {
    const path = csvFile('id,note\nr1,ok\nr2,"x\ny\nr3,z\n');
    expect(await failure(readCsvFile(path, { chunkBytes }))).toMatch(/t\.csv: row 2 \(line 3\): not valid CSV: a quoted field opened on line 3 is never closed \(a stray " \?\)$/);
  });

  it("refuses text after a closing quote", async () => {
    expect(await failure(readCsvFile(csvFile('id,note\nr1,"x"y\n')))).toMatch(/t\.csv: row 1 \(line 2\): not valid CSV: a quoted field is followed by text/);
  });

  it("refuses an empty file, an empty column name and a repeated one", async () => {
    expect(await failure(readCsvFile(csvFile("")))).toMatch(/t\.csv: empty file: expected a header row$/);
    expect(await failure(readCsvFile(csvFile("\n\n")))).toMatch(/t\.csv: empty file: expected a header row$/);
    expect(await failure(readCsvFile(csvFile("id,,x\n1,2,3\n")))).toMatch(/t\.csv: the header has an empty column name$/);
    expect(await failure(readCsvFile(csvFile("id,x,id\n1,2,3\n")))).toMatch(/t\.csv: field "id": the header names this column twice$/);
  });

  it("reads a header without rows as an empty table, and a file without a final newline in full", async () => {
    expect((await readCsvFile(csvFile("id,x\n"))).numRows).toBe(0);
    const table = await readCsvFile(csvFile("id,x\r\nr1,1\r\nr2,2"));
    expect(table.columns.x).toEqual(["1", "2"]);
    expect([...table.lines!]).toEqual([2, 3]);
  });

  it("shares one string among equal cells of a column", async () => {
    const table = await readCsvFile(csvFile("id,g\nr1,a\nr1,b\nr2,a\n"));
    expect(table.columns.g).toEqual(["a", "b", "a"]);
    expect(table.columns.id).toEqual(["r1", "r1", "r2"]);
  });
});

describe("readParquet", () => {
  const rows = 1000;
  function writeParquet(rowGroupSize: number): string {
    const path = join(tempDir(), "t.parquet");
    parquetWriteFile({
      filename: path,
      rowGroupSize,
      columnData: [
        { name: "id", data: Array.from({ length: rows }, (_, i) => `r${i}`), type: "STRING" },
        { name: "weight", data: Float64Array.from({ length: rows }, (_, i) => 1 + i / 100), type: "DOUBLE" },
        { name: "n", data: Array.from({ length: rows }, (_, i) => (i % 7 === 0 ? null : BigInt(i))), type: "INT64" },
        { name: "note", data: Array.from({ length: rows }, () => "unused"), type: "STRING" },
      ],
    });
    return path;
  }

  it.each([64, 1000])("reads every row of the selected columns in order, %i rows per row group", async (rowGroupSize) => {
    const table = await readTable(writeParquet(rowGroupSize), { columns: ["n", "id", "weight"] });
    expect(table.columnNames).toEqual(["id", "weight", "n"]);
    expect(table.fileColumnNames).toEqual(["id", "weight", "n", "note"]);
    expect(table.numRows).toBe(rows);
    expect(table.columns.id![999]).toBe("r999");
    expect(table.columns.weight![500]).toBe(6);
    expect(table.columns.n!.slice(0, 3)).toEqual([null, 1, 2]);
    expect(table.columns.n!.filter((cell) => cell === null)).toHaveLength(Math.ceil(rows / 7));
  });

  it("reads all columns when none are named", async () => {
    const table = await readTable(writeParquet(100));
    expect(table.columnNames).toEqual(["id", "weight", "n", "note"]);
    expect(table.fileColumnNames).toBeUndefined();
  });

  it("refuses a damaged file in one line", async () => {
    const path = join(tempDir(), "bad.parquet");
    writeFileSync(path, "PAR1 this is not parquet PAR1");
    expect(await failure(readTable(path))).toMatch(/bad\.parquet: not a readable Parquet file: /);
  });
});
