import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadStudy } from "../../src/config/load.ts";
import { InputError } from "../../src/errors.ts";
import { BASE_FILES, studyDir } from "../helpers/study-files.ts";

/**
 * Several waves in one long panel file: `frame: {file, wave_column}` takes
 * each wave's rows. panel.csv and panel.sav (R haven, byte-compressed, the
 * wave column labelled) are written by test/fixtures/sav/make.R.
 */
const fixture = (name: string) => readFileSync(new URL(`../fixtures/sav/${name}`, import.meta.url));

function panelStudy(file: string, waveFrame: (value: number) => string = (value) => `{ file: ${file}, wave_column: wave, wave_value: ${value} }`): string {
  return BASE_FILES["study.yaml"]!
    .replace("frame: w1.csv", `frame: ${waveFrame(2022)}`)
    .replace("frame: w2.csv", `frame: ${waveFrame(2024)}`);
}

function panelDir(file: string, content: Uint8Array | string, study = panelStudy(file)): string {
  return studyDir({ ...BASE_FILES, [file]: content, "study.yaml": study });
}

async function panelError(dir: string): Promise<string> {
  try {
    await loadStudy(join(dir, "study.yaml"));
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).not.toContain("\n");
    return (error as Error).message.split(dir + "/").join("<dir>/");
  }
  throw new Error("expected loadStudy to fail");
}

describe("panel waves in one file (frame: {file, wave_column})", () => {
  it.each(["panel.csv", "panel.sav"])("%s: each wave gets its own rows; ids repeat across waves but not within one", async (file) => {
    const dir = panelDir(file, fixture(file));
    const loaded = await loadStudy(join(dir, "study.yaml"));
    expect(loaded.waves.map((w) => [w.wave.id, w.frame.size])).toEqual([["w1", 6], ["w2", 6]]);
    const [w1, w2] = loaded.waves;
    expect(w1!.frame.ids).toEqual(["R001", "R002", "R003", "R004", "R005", "R006"]);
    expect(w2!.frame.ids).toEqual(w1!.frame.ids);
    expect(Array.from(w2!.frame.weights)).toEqual([1.25, 0.75, 1, 1, 2, 1]);
    expect(w2!.frame.profile(0)).toMatchObject({ id: "R001", party: "Democrat", region: "Midwest" });
    expect(Number(w2!.frame.profile(0).age)).toBe(36);
    // Real answers come from the wave's own rows (9 "Refused" is user-missing in the .sav; empty in the CSV).
    expect(Array.from(w1!.frame.answers(loaded.survey.items[0]!))).toEqual([1, 0, NaN, 1, 0, 1]);
    expect(Array.from(w2!.frame.answers(loaded.survey.items[1]!)).every(Number.isNaN)).toBe(true);
  });

  it("panel.sav: the wave may be picked by its SPSS value label", async () => {
    const dir = panelDir("panel.sav", fixture("panel.sav"), panelStudy("panel.sav", (value) => `{ file: panel.sav, wave_column: wave, wave_value: "Fall ${value}" }`));
    const loaded = await loadStudy(join(dir, "study.yaml"));
    expect(loaded.waves.map((w) => w.frame.size)).toEqual([6, 6]);
  });

  it("wave_value defaults to the wave id", async () => {
    const study = BASE_FILES["study.yaml"]!
      .replace("id: w1\n    frame: w1.csv", "id: 2022\n    frame: { file: panel.csv, wave_column: wave }")
      .replace("id: w2\n    frame: w2.csv", "id: 2024\n    frame: { file: panel.csv, wave_column: wave }");
    const loaded = await loadStudy(join(panelDir("panel.csv", fixture("panel.csv"), study), "study.yaml"));
    expect(loaded.waves.map((w) => [w.wave.id, w.frame.size])).toEqual([["2022", 6], ["2024", 6]]);
  });

  it("a duplicate id within a wave names the wave and both rows of the file", async () => {
    const csv = fixture("panel.csv").toString().replace('"R003","2024"', '"R001","2024"');
    expect(await panelError(panelDir("panel.csv", csv))).toBe(
      `<dir>/panel.csv: row 9 (line 10), column "id": duplicate respondent id "R001" in wave "w2" (also row 7): ids must be unique within a wave`,
    );
  });

  it("errors in a wave's rows name the row of the file, not of the wave", async () => {
    const csv = fixture("panel.csv").toString().replace('"R002","2024","0.75"', '"R002","2024","-1"');
    expect(await panelError(panelDir("panel.csv", csv))).toBe(`<dir>/panel.csv: row 8 (line 9), column "weight": expected a non-negative weight, got "-1"`);
  });

  it("a wave with no rows is an error naming the values the column holds", async () => {
    const study = panelStudy("panel.csv", (value) => `{ file: panel.csv, wave_column: wave, wave_value: ${value === 2024 ? 2026 : value} }`);
    expect(await panelError(panelDir("panel.csv", fixture("panel.csv"), study))).toBe(
      `<dir>/panel.csv: field "wave": no rows for wave "w2": expected rows holding "2026", the column holds "2022", "2024"; set wave_value in the wave's frame if the file codes the wave otherwise`,
    );
  });

  it("a missing wave column, and a row that names no wave, are errors", async () => {
    const study = panelStudy("panel.csv", (value) => `{ file: panel.csv, wave_column: round, wave_value: ${value} }`);
    expect(await panelError(panelDir("panel.csv", fixture("panel.csv"), study))).toBe(
      `<dir>/panel.csv: field "round": missing column (the wave of each row, frame.wave_column of wave "w1"); the file has: id, wave, weight, party, region, age, approve, therm`,
    );
    const csv = fixture("panel.csv").toString().replace('"R005","2024"', '"R005",""');
    expect(await panelError(panelDir("panel.csv", csv))).toBe(
      `<dir>/panel.csv: row 11 (line 12), column "wave": missing wave: every row of a panel file must say which wave it belongs to`,
    );
  });

  it("the same long file given as a plain frame to two waves says how to pick each wave's rows", async () => {
    const study = BASE_FILES["study.yaml"]!.replace("frame: w1.csv", "frame: panel.csv").replace("frame: w2.csv", "frame: panel.csv");
    expect(await panelError(panelDir("panel.csv", fixture("panel.csv"), study))).toBe(
      `<dir>/panel.csv: row 7 (line 8), column "id": duplicate respondent id "R001" (also row 1): ids must be unique within a frame; a file holding several waves needs frame: {file, wave_column}`,
    );
  });

  it("the schema refuses an unknown key in a panel frame", async () => {
    const study = panelStudy("panel.csv", (value) => `{ file: panel.csv, wave_colum: wave, wave_value: ${value} }`);
    expect(await panelError(panelDir("panel.csv", fixture("panel.csv"), study))).toMatch(/^<dir>\/study\.yaml: line \d+, field "waves\[0\]\.frame/);
  });
});
