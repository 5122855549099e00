import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parquetWriteBuffer } from "hyparquet-writer";
import { describe, expect, it } from "vitest";
import { loadFrame, type FrameOptions } from "../../src/config/frame.ts";
import { Survey, type SurveyItem } from "../../src/config/schema.ts";
import { InputError } from "../../src/errors.ts";
import { studyDir } from "../helpers/study-files.ts";

const savFile = fileURLToPath(new URL("../fixtures/sav/frame.sav", import.meta.url));

const items: SurveyItem[] = Survey.parse({
  id: "s",
  items: [
    { id: "approve", type: "binary", text: "Approve?", options: [{ code: 1, label: "Approve" }, { code: 0, label: "Disapprove" }] },
    { id: "therm", type: "thermometer", text: "Rate Democrats.", missing: [998] },
    { id: "trust", type: "likert", text: "Trust?", options: [1, 2, 3, 4, 5].map((code) => ({ code, label: `L${code}` })) },
  ],
}).items;

const savOptions: FrameOptions = { idColumn: "caseid", weightColumn: "wt", items, historical: true };

async function frameError(path: string, options: FrameOptions): Promise<string> {
  try {
    await loadFrame(path, options);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error("expected loadFrame to fail");
}

describe("loadFrame from SPSS .sav (fixture made with pspp from test/fixtures/sav/frame.sps)", () => {
  it("reads ids as text, weights, and profiles with value labels applied", async () => {
    const frame = await loadFrame(savFile, savOptions);
    expect(frame.size).toBe(5);
    expect(frame.ids).toEqual(["1001", "1002", "1003", "1004", "1005"]);
    expect(Array.from(frame.weights)).toEqual([1.2, 0.8, 1, 0.5, 1.5]);
    expect(frame.profile(1)).toEqual({
      caseid: 1002, wt: 0.8, pid3: "Republican", region: "Northeast", age: 61, approve: "Disapprove", therm: 15, trust: "Disagree",
    });
    expect(frame.column("pid3")).toEqual([1, 2, 3, 2, 1]);
    expect(frame.labelled("pid3")).toEqual(["Democrat", "Republican", "Independent", "Republican", "Democrat"]);
  });

  it("reads real answers as codes: user-missing and listed missing codes become NaN", async () => {
    const frame = await loadFrame(savFile, savOptions);
    expect(Array.from(frame.answers(items[0]!))).toEqual([1, 0, NaN, 0, 1]); // 9 "Refused" is user-missing in the file
    expect(Array.from(frame.answers(items[1]!))).toEqual([85, 15, 50, NaN, 70]); // 998 listed under missing:
    expect(Array.from(frame.answers(items[2]!))).toEqual([4, 2, 3, 1, NaN]); // system-missing
  });

  it("names an unlisted code with its label and says how to declare it missing", async () => {
    const strict = items.map((item) => (item.id === "therm" ? { ...item, missing: undefined } : item));
    expect(await frameError(savFile, { ...savOptions, items: strict })).toBe(
      `${savFile}: row 4, column "therm": expected a rating from 0 to 100 for item "therm", got 998 ("Don't know"); if 998 means no answer, list it under "missing:" in item "therm"`,
    );
  });
});

describe("loadFrame from SPSS files written by R haven (test/fixtures/sav/make.R)", () => {
  it.each(["haven-mixed-byte.sav", "haven-mixed.zsav"])("%s: every one of the 120 respondents", async (name) => {
    const path = fileURLToPath(new URL(`../fixtures/sav/${name}`, import.meta.url));
    const frame = await loadFrame(path, { idColumn: "id", weightColumn: "weight", items: [], historical: false });
    expect(frame.size).toBe(120);
    expect(frame.ids.at(-1)).toBe("r120");
    expect(frame.profile(0)).toMatchObject({ id: "r001", caseid: 100007, party: "Democrat", city: "München" });
  });
});

describe("loadFrame from Parquet", () => {
  function parquet(columns: { name: string; data: unknown[]; type: "STRING" | "DOUBLE" | "INT32" | "BOOLEAN" }[]): Uint8Array {
    return new Uint8Array(parquetWriteBuffer({ columnData: columns.map((c) => ({ ...c, nullable: true })) as never }));
  }

  it("reads typed columns, nulls as missing answers, booleans for binary items", async () => {
    const dir = studyDir({
      "frame.parquet": parquet([
        { name: "id", data: [7, 8, 9], type: "INT32" },
        { name: "weight", data: [1, 2, 0], type: "DOUBLE" },
        { name: "party", data: ["Democrat", null, "Republican"], type: "STRING" },
        { name: "approve", data: [true, false, null], type: "BOOLEAN" },
        { name: "therm", data: [10, null, 100], type: "DOUBLE" },
        { name: "trust", data: ["L2", "l5", "3"], type: "STRING" },
      ]),
    });
    const frame = await loadFrame(join(dir, "frame.parquet"), { idColumn: "id", weightColumn: "weight", items, historical: true });
    expect(frame.ids).toEqual(["7", "8", "9"]);
    expect(Array.from(frame.weights)).toEqual([1, 2, 0]); // a zero weight is allowed
    expect(frame.profile(1)).toMatchObject({ id: 8, party: null });
    expect(Array.from(frame.answers(items[0]!))).toEqual([1, 0, NaN]);
    expect(Array.from(frame.answers(items[1]!))).toEqual([10, NaN, 100]);
    expect(Array.from(frame.answers(items[2]!))).toEqual([2, 5, 3]); // labels, case-insensitive, or codes
  });

  it("refuses a negative weight and names the row", async () => {
    const dir = studyDir({
      "frame.parquet": parquet([
        { name: "id", data: ["a", "b"], type: "STRING" },
        { name: "weight", data: [1, -2], type: "DOUBLE" },
      ]),
    });
    expect(await frameError(join(dir, "frame.parquet"), { idColumn: "id", weightColumn: "weight", items, historical: false })).toBe(
      `${dir}/frame.parquet: row 2, column "weight": expected a non-negative weight, got -2`,
    );
  });
});

describe("loadFrame from CSV", () => {
  const options: FrameOptions = { idColumn: "id", weightColumn: "weight", items, historical: false };

  it("leaves a target wave without answer columns with all-NaN answers", async () => {
    const dir = studyDir({ "f.csv": "id,weight,party\na,1,Democrat\nb,2,Republican\n" });
    const frame = await loadFrame(join(dir, "f.csv"), options);
    expect(Array.from(frame.answers(items[0]!))).toEqual([NaN, NaN]);
    expect(frame.profile(0)).toEqual({ id: "a", weight: "1", party: "Democrat" });
  });

  it("checks real answers in a target wave too when they are there", async () => {
    const dir = studyDir({ "f.csv": "id,weight,therm\na,1,101\n" });
    expect(await frameError(join(dir, "f.csv"), options)).toBe(
      `${dir}/f.csv: row 1 (line 2), column "therm": expected a rating from 0 to 100 for item "therm", got "101"`,
    );
  });

  it("refuses a frame without rows, without an id column, with a missing id, or with only zero weights", async () => {
    const cases: [string, string][] = [
      ["id,weight\n", `f.csv: no respondents: the frame has a header but no rows`],
      ["key,weight\na,1\n", `f.csv: field "id": missing column (respondent id; set respondent.id in the study); the file has: key, weight`],
      ["id,weight\na,1\n,2\n", `f.csv: row 2 (line 3), column "id": missing respondent id`],
      ["id,weight\na,0\nb,0\n", `f.csv: field "weight": every weight is zero: expected at least one positive weight`],
      ["id,weight\na,1\nb,x\n", `f.csv: row 2 (line 3), column "weight": expected a non-negative weight, got "x"`],
      ["id,weight,name\na,1,Ann\nb,1,Bo\u0000b\n", `f.csv: row 2 (line 3), column "name": the value contains a NUL byte (\\0): is the file binary or damaged?`],
    ];
    for (const [text, message] of cases) {
      const dir = studyDir({ "f.csv": text });
      expect(await frameError(join(dir, "f.csv"), options)).toBe(`${dir}/${message}`);
    }
  });

  it("names both rows of a duplicate id", async () => {
    const dir = studyDir({ "f.csv": "id,weight\na,1\nb,1\n\"a\",1\n" });
    expect(await frameError(join(dir, "f.csv"), options)).toBe(
      `${dir}/f.csv: row 3 (line 4), column "id": duplicate respondent id "a" (also row 1): ids must be unique within a frame; a file holding several waves needs frame: {file, wave_column}`,
    );
  });

  it("reads answers from the column an item names", async () => {
    const dir = studyDir({ "f.csv": "id,weight,Q12\na,1,Approve\nb,1,disapprove\n" });
    const item = { ...items[0]!, column: "Q12" };
    const frame = await loadFrame(join(dir, "f.csv"), { ...options, items: [item], historical: true });
    expect(Array.from(frame.answers(item))).toEqual([1, 0]);
  });
});
