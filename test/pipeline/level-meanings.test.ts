/**
 * What a derived level means in a wave, read off the demo's frames: the
 * co-partisans of a Democratic president are the Democrats, of a Republican
 * one the Republicans; a level whose respondents differ in every named
 * column (or that equals its value, as Independent does) gets no meaning.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadStudy } from "../../src/config/load.ts";
import { writeDemoStudy } from "../../src/pipeline/demo-study.ts";
import { levelMeanings } from "../../src/pipeline/level-meanings.ts";

describe("levelMeanings", () => {
  const dir = mkdtempSync(join(tmpdir(), "silicon-meanings-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("names the party of each wave's co-partisans and opposition", async () => {
    const study = await loadStudy(await writeDemoStudy(dir));
    const meanings = levelMeanings(study);
    expect(meanings["w2024"]).toEqual({ "Co-partisan": "party Democrat", Opposition: "party Republican" });
    expect(meanings["w2019"]).toEqual({ "Co-partisan": "party Republican", Opposition: "party Democrat" });
    expect(Object.keys(meanings).sort()).toEqual(["w2019", "w2020", "w2021", "w2022", "w2023", "w2024"]);
  });
});
