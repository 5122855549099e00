import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { frameFromTable, loadFrame } from "../../src/config/frame.ts";
import { loadSurvey } from "../../src/config/load.ts";
import { distributionMean } from "../../src/simulation/distribution.ts";
import { generatePopulationFrames, tableToCsv } from "../../src/simulation/frames.ts";
import { populationDistribution } from "../../src/simulation/respondent.ts";
import { exampleFrames } from "../../scripts/make-example-frames.ts";
import { studyDir } from "../helpers/study-files.ts";

const survey = loadSurvey("surveys/example-survey.yaml");
const biden = { president: "Joe Biden", president_party: "Democrat" };

describe("generatePopulationFrames", () => {
  it("is deterministic in the seed", () => {
    const make = (seed: number) =>
      generatePopulationFrames({ seed, items: survey.items, waves: [{ id: "w1", size: 50, role: "historical", context: biden }] });
    expect(tableToCsv(make(1).waves[0]!.table)).toBe(tableToCsv(make(1).waves[0]!.table));
    expect(tableToCsv(make(2).waves[0]!.table)).not.toBe(tableToCsv(make(1).waves[0]!.table));
  });

  it("makes cross-sections with fresh ids, and panels whose waves share panelists", () => {
    const waves = [
      { id: "a", size: 100, role: "historical" as const, context: biden },
      { id: "b", size: 100, role: "target" as const, context: biden },
    ];
    const cross = generatePopulationFrames({ seed: 3, items: survey.items, waves });
    expect(cross.waves[0]!.table.columns.id![0]).toBe("a-0001");
    expect(cross.waves[1]!.table.columns.id![99]).toBe("b-0100");
    const panel = generatePopulationFrames({ seed: 3, items: survey.items, waves, design: "panel" });
    const idsA = new Set(panel.waves[0]!.table.columns.id);
    const shared = panel.waves[1]!.table.columns.id!.filter((id) => idsA.has(id)).length;
    expect(shared).toBeGreaterThan(50); // 100 of a 140-panelist panel each time
    // A panelist keeps their profile across waves.
    const a = panel.waves[0]!.table;
    const b = panel.waves[1]!.table;
    const id = b.columns.id!.find((x) => idsA.has(x))!;
    const row = (t: typeof a) => t.columns.id!.indexOf(id);
    for (const col of ["party", "region", "age", "education", "gender", "race"]) {
      expect(b.columns[col]![row(b)]).toBe(a.columns[col]![row(a)]);
    }
    // The Pew design's subgroups, relative to the sitting president.
    const party = a.columns.party!;
    a.columns.copartisan!.forEach((c, i) => {
      expect(c).toBe(party[i] === "Independent" ? "Independent" : party[i] === "Democrat" ? "Co-partisan" : "Opposition");
    });
    // Answers only where the wave is historical (or asked for).
    expect(a.columnNames).toContain("approve");
    expect(b.columnNames).not.toContain("approve");
  });

  it("weights average 1 and undo the sample's skew toward the educated", () => {
    const { table } = generatePopulationFrames({ seed: 4, items: [], waves: [{ id: "w", size: 4000, role: "target", context: {} }] }).waves[0]!;
    const w = table.columns.weight as number[];
    expect(w.reduce((a, b) => a + b, 0) / w.length).toBeCloseTo(1, 3);
    const share = (weighted: boolean) => {
      let hs = 0, all = 0;
      table.columns.education!.forEach((e, i) => {
        const x = weighted ? w[i]! : 1;
        all += x;
        if (e === "High school or less") hs += x;
      });
      return hs / all;
    };
    // Population share of "high school or less" ≈ 0.37; the unweighted sample has far fewer.
    expect(share(false)).toBeLessThan(0.3);
    expect(Math.abs(share(true) - 0.37)).toBeLessThan(0.03);
  });

  it("draws real answers from the population's answer distributions (weighted means within 4 SE)", () => {
    const wave = { id: "w2022", size: 3000, role: "historical" as const, context: biden };
    const { table } = generatePopulationFrames({ seed: 5, items: survey.items, waves: [wave], itemNonresponse: 0 }).waves[0]!;
    const frame = frameFromTable(table, { idColumn: "id", weightColumn: "weight", items: survey.items, historical: true });
    for (const item of ["therm_police", "approve", "trust_government"].map((id) => survey.items.find((i) => i.id === id)!)) {
      const real = frame.answers(item);
      let sw = 0, sy = 0, se = 0;
      const expected: number[] = [];
      for (let r = 0; r < frame.size; r++) {
        const mean = distributionMean(populationDistribution(item, frame.profile(r), wave));
        expected.push(mean);
        sw += frame.weights[r]!;
        sy += frame.weights[r]! * real[r]!;
        se += frame.weights[r]! * mean;
      }
      // Linearized SE of the weighted mean of (real − expected), as in R survey.
      const d = expected.map((m, r) => real[r]! - m);
      const dbar = (sy - se) / sw;
      const n = frame.size;
      const variance = (n / (n - 1)) * d.reduce((s, x, r) => s + (frame.weights[r]! * (x - dbar)) ** 2, 0) / sw ** 2;
      expect(Math.abs(dbar), item.id).toBeLessThan(4 * Math.sqrt(variance));
    }
  });

  it("writes CSV and Parquet frames that load back with valid answers", async () => {
    const dir = studyDir({});
    const frames = generatePopulationFrames({ seed: 6, items: survey.items, waves: [{ id: "w1", size: 40, role: "historical", context: biden }] });
    const [csv] = await frames.write(dir, "csv");
    const [parquet] = await frames.write(dir, "parquet");
    expect(csv).toBe(join(dir, "w1.csv"));
    const options = { idColumn: "id", weightColumn: "weight", items: survey.items, historical: true };
    const a = await loadFrame(csv!, options);
    const b = await loadFrame(parquet!, options);
    expect(b.ids).toEqual(a.ids);
    expect(Array.from(b.weights)).toEqual(Array.from(a.weights));
    expect(b.profile(3)).toMatchObject({ party: a.profile(3).party, age: Number(a.profile(3).age) });
    for (const item of survey.items) expect(Array.from(b.answers(item))).toEqual(Array.from(a.answers(item)));
  });
});

describe("the example study's frames", () => {
  it("are exactly what scripts/make-example-frames.ts writes", () => {
    const { frames, frameDir } = exampleFrames();
    for (const { spec, table } of frames.waves) {
      expect(readFileSync(join(frameDir, `${spec.id}.csv`), "utf8"), spec.id).toBe(tableToCsv(table));
    }
  });
});
