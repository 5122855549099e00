import { describe, expect, it } from "vitest";
import { InputError } from "../../src/errors.ts";
import { surveyDesign, withAttributes } from "../../src/estimands/design.ts";
import { domainsOf, EVERYONE, parseSubgroupSpecs, subgroupLabel } from "../../src/estimands/domains.ts";
import { domainMeans } from "../../src/estimands/mean.ts";
import { weightedMean } from "../../src/inference/survey.ts";

describe("surveyDesign", () => {
  it("defaults weights to 1 and has one design per wave", () => {
    const design = surveyDesign({ id: ["a", "b", "a", "c", "d"], wave: ["w2", "w2", "w10", "w10", "w10"] });
    expect(Array.from(design.weights)).toEqual([1, 1, 1, 1, 1]);
    expect(design.waves).toEqual(["w2", "w10"]);
    expect(Array.from(design.waveSizes)).toEqual([2, 3]);
    expect(design.rowOf("a", "w10")).toBe(2);
    expect(design.rowOf("a")).toBe("ambiguous");
    expect(design.rowOf("c")).toBe(3);
    expect(design.rowOf("c", "w2")).toBe("missing");
  });

  it("rejects a negative or missing weight, naming the row", () => {
    expect(() => surveyDesign({ source: "f.csv", id: ["a", "b"], weight: [1, -2] })).toThrow(
      new InputError({ file: "f.csv", row: 2, field: "weight" }, "expected a non-negative weight, got -2"),
    );
    expect(() => surveyDesign({ source: "f.csv", id: ["a", "b"], weight: [NaN, 1] })).toThrow(/row 1, column "weight": expected a non-negative weight, got a missing value/);
  });

  it("rejects duplicate ids within a wave, not across waves", () => {
    expect(() => surveyDesign({ source: "f.csv", id: ["a", "b", "a"] })).toThrow(/f\.csv: row 3, column "id": duplicate respondent id "a" \(first on row 1\)/);
    expect(() => surveyDesign({ id: ["a", "a"], wave: ["1", "2"] })).not.toThrow();
  });

  it("adds attributes without touching the original", () => {
    const design = surveyDesign({ id: ["a", "b"], attributes: { party: ["D", "R"] } });
    const more = withAttributes(design, { region: ["N", null] }, { region: ["S", "N"] });
    expect(more.data.columnNames()).toEqual(["party", "region"]);
    expect(design.data.columnNames()).toEqual(["party"]);
    expect(more.levels.region).toEqual(["S", "N"]);
  });
});

describe("subgroup specs and domains", () => {
  it("parses columns, crossings, several specs and everyone", () => {
    expect(parseSubgroupSpecs(["party, party+region", "all,party"]).map((s) => s.columns)).toEqual([["party"], ["party", "region"], []]);
    expect(() => parseSubgroupSpecs("party++region")).toThrow(/empty column name/);
    expect(() => parseSubgroupSpecs("party,,region")).toThrow(/empty subgroup spec/);
    expect(() => parseSubgroupSpecs("party+party")).toThrow(/names a column twice/);
  });

  const design = surveyDesign({
    id: ["1", "2", "3", "4", "5", "6", "7"],
    weight: [1, 2, 1, 3, 1, 2, 1],
    wave: ["2020", "2020", "2020", "2020", "2024", "2024", "2024"],
    attributes: { party: ["Rep", "Dem", null, "Rep", "Ind", "Dem", "Dem"], region: ["S", "S", "N", "N", "N", "S", "S"] },
    levels: { party: ["Rep", "Dem", "Ind"] },
  });

  it("orders domains by wave, then by the given level order, and leaves out missing values", () => {
    const domains = domainsOf(design, { columns: ["party", "region"] });
    expect(domains.levels.map((l) => `${design.waves[l.wave]}:${subgroupLabel(domains.spec, l)}`)).toEqual([
      "2020:party=Rep+region=N",
      "2020:party=Rep+region=S",
      "2020:party=Dem+region=S",
      "2024:party=Dem+region=S",
      "2024:party=Ind+region=N",
    ]);
    expect(domains.index[2]).toBe(-1);
    expect(Array.from(domainsOf(design, EVERYONE).index)).toEqual([0, 0, 0, 0, 1, 1, 1]);
  });

  it("estimates each domain over its own wave's n, as svyby over per-wave designs", () => {
    const y = [10, 20, 30, 40, 50, 60, NaN];
    const domains = domainsOf(design, { columns: ["party"] });
    const estimates = domainMeans(design, domains, y);
    const dem2024 = domains.levels.findIndex((l) => l.wave === 1 && l.values[0] === "Dem");
    // Wave 2024 alone: units 5..7, domain Dem = units 6 and 7 (7 missing).
    expect(estimates[dem2024]).toEqual(weightedMean([50, 60, NaN], [1, 2, 1], [false, true, true]));
    const rep2020 = domains.levels.findIndex((l) => l.wave === 0 && l.values[0] === "Rep");
    expect(estimates[rep2020]).toEqual(weightedMean([10, 20, 30, 40], [1, 2, 1, 3], [true, false, false, true]));
  });
});
