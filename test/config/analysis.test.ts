/**
 * The study's estimands and calibration sections: defaults, derived columns
 * with wave context, and one-line errors naming file, line and field for
 * every way they can be wrong.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadStudy } from "../../src/config/load.ts";
import { InputError } from "../../src/errors.ts";
import { BASE_FILES, studyDir } from "../helpers/study-files.ts";

const THREE_WAVES = {
  "w0.csv": `id,weight,party,region,age,approve,therm
r1,1,Democrat,South,34,1,80
r2,1,Republican,West,61,0,20
r3,1,Independent,Midwest,45,1,50
`,
};

function study(extra: string, waves = ""): string {
  return `name: test
survey: survey.yaml
persona: persona.hbs
waves:${waves}
  - id: w1
    frame: w1.csv
    role: historical
    context: { president: Joe Biden, president_party: Democrat, year: 2022 }
  - id: w2
    frame: w2.csv
    role: target
    context: { president: Joe Biden, president_party: Democrat, year: 2024 }
models: [simulated:biased]
${extra}`;
}

async function load(extra: string, waves = "") {
  const dir = studyDir({ ...BASE_FILES, ...THREE_WAVES, "study.yaml": study(extra, waves) });
  return { dir, loaded: await loadStudy(join(dir, "study.yaml")) };
}

async function error(extra: string, waves = ""): Promise<string> {
  const dir = studyDir({ ...BASE_FILES, ...THREE_WAVES, "study.yaml": study(extra, waves) });
  try {
    await loadStudy(join(dir, "study.yaml"));
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const message = (e as Error).message;
    expect(message).not.toContain("\n");
    return message.split(dir + "/").join("<dir>/");
  }
  throw new Error("expected loadStudy to fail");
}

describe("estimands and calibration sections", () => {
  it("default to every item by everyone, calibrated with alg1 at α = 0.1 by scale", async () => {
    const { loaded } = await load("");
    expect(loaded.study.calibration).toMatchObject({ alpha: 0.1, method: "alg1", vector_method: "alg3", adjust: true, pilot: [], protocols: ["loo", "chrono", "group"], group_by: "item" });
    expect(loaded.analysis.items.map((p) => [p.item.id, p.perOption, p.scale.key, p.scale.range, p.by.map((b) => b.columns)])).toEqual([
      ["approve", false, "proportion", [0, 1], [[]]],
      ["therm", false, "thermometer", [0, 100], [[]]],
    ]);
  });

  it("computes derived columns per wave from the row and the wave's context", async () => {
    const { loaded } = await load(`estimands:
  by: [copartisan, party+copartisan]
  derived:
    copartisan: "(d, ctx) => d.party === 'Independent' ? 'Independent' : d.party === ctx.president_party ? 'Co-partisan' : 'Opposition'"
    older: "d => d.age >= 50 ? 'yes' : null"
`);
    expect(loaded.analysis.derived[0]).toEqual({ copartisan: ["Co-partisan", "Opposition", "Independent"], older: [null, "yes", null] });
    expect(loaded.analysis.derived[1]).toEqual({ copartisan: ["Co-partisan", "Opposition"], older: [null, "yes"] });
    expect(loaded.analysis.items[0]!.by.map((b) => b.columns)).toEqual([["copartisan"], ["party", "copartisan"]]);
  });

  it("the wave's president changes who is a co-partisan", async () => {
    const waves = `
  - id: w0
    frame: w0.csv
    role: historical
    context: { president: Donald Trump, president_party: Republican, year: 2019 }`;
    const { loaded } = await load(`estimands:
  derived:
    copartisan: "(d, ctx) => d.party === ctx.president_party ? 'Co-partisan' : 'Other'"
`, waves);
    expect(loaded.analysis.derived.map((d) => d["copartisan"])).toEqual([
      ["Other", "Co-partisan", "Other"],
      ["Co-partisan", "Other", "Other"],
      ["Co-partisan", "Other"],
    ]);
  });

  it("rejects a subgroup column that does not exist, naming file, line and field", async () => {
    expect(await error(`estimands:\n  by: [all, partyx]\n`)).toBe(
      '<dir>/study.yaml: line 15, field "estimands.by[1]": subgroup column "partyx" is not a column of <dir>/w1.csv (wave "w1") nor a derived column; the frame has: id, weight, party, region, age, approve, therm',
    );
  });

  it("rejects an expression that does not parse, an unknown column or context key, and a call", async () => {
    expect(await error(`estimands:\n  derived:\n    side: "d => d.party ==="\n`)).toBe(
      `<dir>/study.yaml: line 16, field "estimands.derived.side": does not parse as an arquero expression: "d => d.party ==="; write e.g. "(d, ctx) => d.party === ctx.president_party ? 'Co-partisan' : 'Opposition'"`,
    );
    expect(await error(`estimands:\n  derived:\n    side: "d => d.partyx === 'a'"\n`)).toMatch(
      /field "estimands\.derived\.side": unknown column: "d\.partyx" in wave "w1"; <dir>\/w1\.csv has: id, weight/,
    );
    expect(await error(`estimands:\n  derived:\n    side: "(d, ctx) => ctx.governor"\n`)).toMatch(
      /field "estimands\.derived\.side": unknown context key: "ctx\.governor": wave "w1" has context president, president_party, year \(and wave, date\)/,
    );
    expect(await error(`estimands:\n  derived:\n    side: "d => process.exit(1)"\n`)).toMatch(/Invalid function call: "process\.exit\(1\)": only arquero's op functions/);
    expect(await error(`estimands:\n  derived:\n    party: "d => d.region"\n`)).toMatch(/field "estimands\.derived\.party": derived column "party" has the name of a column/);
  });

  it("rejects unknown items, per-option on a scale, vectors with bad levels or columns", async () => {
    expect(await error(`estimands:\n  items: [approve, therm2]\n`)).toMatch(/line 15, field "estimands\.items\[1\]": unknown item "therm2": the survey's items are approve, therm$/);
    expect(await error(`estimands:\n  items: [{ item: therm, per_option: true }]\n`)).toMatch(/field "estimands\.items\[0\]\.per_option": item "therm" is a thermometer item/);
    const vector = (body: string) => `estimands:\n  vectors:\n    - name: approval\n      item: approve\n${body}`;
    expect(await error(vector("      coordinate: party\n      levels: [Democrat, Republicans]\n      by: region\n"))).toMatch(
      /line 19, field "estimands\.vectors\[0\]\.levels\[1\]": level "Republicans" of "party" occurs in no wave; its values are: Democrat, Independent, Republican$/,
    );
    expect(await error(vector("      coordinate: side\n      levels: [a, b]\n"))).toMatch(/field "estimands\.vectors\[0\]\.coordinate": coordinate column "side" is not a column/);
    expect(await error(vector("      coordinate: party\n      levels: [Democrat, Republican]\n      by: party\n"))).toMatch(/"party" is the coordinate column/);
  });

  it("rejects strata that name no task column, alg2 without decay, and pilot sets across scales", async () => {
    expect(await error(`calibration:\n  strata: [item_kind]\n`)).toMatch(/field "calibration\.strata\[0\]": unknown task column "item_kind": strata may be task, item, item_type, subgroup, by, coord, group$/);
    expect(await error(`calibration:\n  method: alg2\n`)).toMatch(/field "calibration\.method": alg2 weighs historical tasks: set calibration\.decay/);
    expect(await error(`calibration:\n  pilot:\n    - items: [approve]\n      like: [therm]\n`)).toMatch(
      /field "calibration\.pilot\[0\]\.like\[0\]": item "therm" is on another scale \(thermometer ratings \(0–100\)\) than the pilot items \(proportions \(0–1\)\)/,
    );
    expect(await error(`calibration:\n  method: alg3\n`)).toMatch(/field "calibration\.method": expected "alg1", "alg2", "alg4" or "alg5", got "alg3"/);
  });

  it("lets a historical frame lack the answer column of a pilot item", async () => {
    const files = {
      ...BASE_FILES,
      "survey.yaml": `${BASE_FILES["survey.yaml"]!}  - id: therm_new
    type: thermometer
    text: Rate the new party from 0 to 100.
`,
      "study.yaml": study(`calibration:\n  pilot:\n    - items: [therm_new]\n      like: [therm]\n`),
    };
    const loaded = await loadStudy(join(studyDir(files), "study.yaml"));
    expect(loaded.analysis.items.map((p) => p.item.id)).toEqual(["approve", "therm", "therm_new"]);
    expect(Array.from(loaded.waves[0]!.frame.answers(loaded.survey.items[2]!))).toEqual([NaN, NaN, NaN]);
  });
});
