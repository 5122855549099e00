import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadStudy, loadSurvey } from "../../src/config/load.ts";
import { InputError } from "../../src/errors.ts";
import { BASE_FILES, studyDir } from "../helpers/study-files.ts";

/** Loads a study made of the base files with some replaced; returns the error message with the folder as <dir>. */
async function studyError(overrides: Record<string, string>): Promise<string> {
  const dir = studyDir({ ...BASE_FILES, ...overrides });
  try {
    await loadStudy(join(dir, "study.yaml"));
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).exitCode).toBe(2);
    const message = (error as Error).message;
    expect(message).not.toContain("\n");
    return message.split(dir + "/").join("<dir>/");
  }
  throw new Error("expected loadStudy to fail");
}

function studyWith(replace: [string, string][]): string {
  let text = BASE_FILES["study.yaml"]!;
  for (const [from, to] of replace) {
    expect(text).toContain(from);
    text = text.replace(from, to);
  }
  return text;
}

describe("loadStudy", () => {
  it("loads the study, survey, persona and every wave's frame with paths resolved against the study", async () => {
    const dir = studyDir(BASE_FILES);
    const loaded = await loadStudy(join(dir, "study.yaml"));
    expect(loaded.dir).toBe(dir);
    expect(loaded.surveyFile).toBe(join(dir, "survey.yaml"));
    expect(loaded.persona.file).toBe(join(dir, "persona.hbs"));
    expect(loaded.study.generations).toBe(1);
    expect(loaded.study.respondent).toEqual({ id: "id", weight: "weight" });
    expect(loaded.waves.map((w) => [w.wave.id, w.wave.role, w.frame.size])).toEqual([
      ["w1", "historical", 3],
      ["w2", "target", 2],
    ]);
    expect(Array.from(loaded.waves[0]!.frame.answers(loaded.survey.items[0]!))).toEqual([1, 0, NaN]);
    expect(loaded.persona.fields).toEqual(["age", "party", "region", "year"]);
    const w2 = loaded.waves[1]!;
    expect(loaded.persona.render(w2.frame.profile(1), w2.wave.context, w2.frame.ids[1]!)).toBe(
      "You are a 52-year-old Republican from the Northeast, interviewed in 2024.",
    );
    expect(loaded.locate(["models", 0])).toEqual({ file: join(dir, "study.yaml"), line: 13, field: "models[0]" });
  });

  it("loads the shipped example study", async () => {
    const loaded = await loadStudy("surveys/example-study.yaml");
    expect(loaded.survey.items.map((i) => i.type)).toEqual([
      "thermometer", "thermometer", "thermometer", "thermometer", "binary", "likert", "single_choice",
    ]);
    expect(loaded.waves.map((w) => [w.wave.id, w.wave.role, w.frame.size])).toEqual([
      ["w2019", "historical", 300],
      ["w2022", "historical", 300],
      ["w2024", "target", 300],
    ]);
  });

  it("reports invalid YAML with its line", async () => {
    expect(await studyError({ "study.yaml": "name: test\nsurvey: [survey.yaml\npersona: persona.hbs\n" })).toMatchInlineSnapshot(
      `"<dir>/study.yaml: line 3: invalid YAML: flow sequence in block collection must be sufficiently indented and end with a ]"`,
    );
    expect(await studyError({ "study.yaml": "name: a\nname: b\n" })).toBe(
      "<dir>/study.yaml: line 2: invalid YAML: a key appears twice in the same mapping",
    );
  });

  it("names line and field of a schema problem, as the brief's example shows", async () => {
    expect(await studyError({ "study.yaml": studyWith([["role: target", "role: forecast"]]) })).toBe(
      `<dir>/study.yaml: line 11, field "waves[1].role": expected "historical" or "target", got "forecast"`,
    );
  });

  it("counts further problems", async () => {
    expect(
      await studyError({ "study.yaml": studyWith([["role: target", "role: forecast"], ["models: [simulated:biased]", "models: []\ngenerations: 0"]]) }),
    ).toBe(`<dir>/study.yaml: line 11, field "waves[1].role": expected "historical" or "target", got "forecast" (and 2 more problems)`);
  });

  it("suggests the key meant by a typo", async () => {
    expect(await studyError({ "study.yaml": BASE_FILES["study.yaml"] + "generation: 4\n" })).toBe(
      `<dir>/study.yaml: line 14, field "generation": unknown key "generation"; did you mean "generations"?`,
    );
    // A misspelt required key: the unknown key is reported rather than the missing one.
    expect(await studyError({ "study.yaml": studyWith([["persona: persona.hbs", "personna: persona.hbs"]]) })).toBe(
      `<dir>/study.yaml: line 3, field "personna": unknown key "personna"; did you mean "persona"? (and 1 more problem)`,
    );
    expect(await studyError({ "study.yaml": studyWith([["role: target", "role: target\n    colour: red"]]) })).toBe(
      `<dir>/study.yaml: line 12, field "waves[1].colour": unknown key "colour"; allowed keys: id, frame, role, context, date`,
    );
  });

  it("reports a missing required field at its parent", async () => {
    expect(await studyError({ "study.yaml": studyWith([["persona: persona.hbs\n", ""]]) })).toBe(
      `<dir>/study.yaml: line 1, field "persona": missing: expected a text`,
    );
    expect(await studyError({ "study.yaml": studyWith([["    frame: w2.csv\n", ""]]) })).toBe(
      `<dir>/study.yaml: line 9, field "waves[1].frame": missing: expected a text or a mapping (key: value lines)`,
    );
  });

  it("refuses an unknown vendor and an unknown simulated model, with the line", async () => {
    expect(await studyError({ "study.yaml": studyWith([["[simulated:biased]", "[simulated:biased, mistral:large]"]]) })).toBe(
      `<dir>/study.yaml: line 13, field "models[1]": expected vendor:model with vendor anthropic, openai or simulated, got "mistral:large"`,
    );
    expect(await studyError({ "study.yaml": studyWith([["[simulated:biased]", "[simulated:honest]"]]) })).toBe(
      `<dir>/study.yaml: line 13, field "models[0]": unknown simulated model "honest": expected one of faithful, biased, polarized, erratic (optionally with @<number> for another draw of its biases, e.g. biased@2)`,
    );
  });

  it("refuses repeated wave ids and models", async () => {
    expect(await studyError({ "study.yaml": studyWith([["id: w2", "id: w1"]]) })).toBe(
      `<dir>/study.yaml: line 9, field "waves[1].id": wave id "w1" appears twice (also entry 1)`,
    );
  });

  it("names a file the study points to that does not exist", async () => {
    expect(await studyError({ "study.yaml": studyWith([["frame: w2.csv", "frame: frames/w2.csv"]]) })).toBe(
      `<dir>/study.yaml: line 10, field "waves[1].frame": file not found: <dir>/frames/w2.csv`,
    );
    expect(await studyError({ "study.yaml": studyWith([["frame: w2.csv", "frame: survey.yaml"]]) })).toBe(
      `<dir>/study.yaml: line 10, field "waves[1].frame": <dir>/survey.yaml: unknown table format: expected a .csv, .parquet, .sav or .zsav file`,
    );
  });

  it("refuses an unknown item type in the survey, naming the survey file, line and field", async () => {
    expect(await studyError({ "survey.yaml": BASE_FILES["survey.yaml"]!.replace("type: thermometer", "type: slider") })).toBe(
      `<dir>/survey.yaml: line 10, field "items[1].type": unknown item type "slider": expected one of binary, single_choice, likert, thermometer, numeric`,
    );
  });

  it("refuses a persona field that the frame and the context both lack", async () => {
    expect(await studyError({ "persona.hbs": "You earn {{income}} a year." })).toBe(
      `<dir>/persona.hbs: field "income": not a column of <dir>/w1.csv (wave "w1") nor a key of its context; the frame has: id, weight, party, region, age, approve, therm`,
    );
  });

  it("refuses a respondent with an empty value in a field printed without a guard, naming template, field and respondent", async () => {
    const frame = BASE_FILES["w2.csv"]!.replace("r4,2,Republican,Northeast,52", "r4,2,Republican,,52");
    expect(await studyError({ "w2.csv": frame })).toBe(
      `<dir>/persona.hbs: field "region": respondent "r4" has no value for "region"; if it may be missing, guard it with {{#if region}}…{{/if}} or {{with_default region "…"}} (wave "w2", <dir>/w2.csv row 2)`,
    );
    // Guarded, the same frame is fine.
    const dir = studyDir({ ...BASE_FILES, "w2.csv": frame, "persona.hbs": `You live in the {{with_default region "United States"}}. {{age}} {{party}} {{year}}` });
    const loaded = await loadStudy(join(dir, "study.yaml"));
    const w2 = loaded.waves[1]!;
    expect(loaded.persona.render(w2.frame.profile(1), w2.wave.context, "r4")).toBe("You live in the United States. 52 Republican 2024");
  });

  it("refuses a question that uses context the wave lacks", async () => {
    expect(await studyError({ "study.yaml": studyWith([["{ president: Joe Biden, year: 2024 }", "{ year: 2024 }"]]) })).toBe(
      `<dir>/study.yaml: line 12, field "waves[1].context": item "approve" of <dir>/survey.yaml uses {{president}}, which the context of wave "w2" does not define`,
    );
  });

  it("refuses a persona that would show a real answer", async () => {
    expect(await studyError({ "persona.hbs": "{{age}} {{party}} {{region}} {{year}} You approve: {{approve}}" })).toBe(
      `<dir>/persona.hbs: field "approve": column "approve" holds the real answers to item "approve": a persona that shows it leaks the answer into the prompt`,
    );
  });

  it("refuses a field that is both a frame column and a context key", async () => {
    expect(await studyError({ "study.yaml": studyWith([["{ president: Joe Biden, year: 2022 }", "{ president: Joe Biden, year: 2022, age: 40 }"]]) })).toBe(
      `<dir>/study.yaml: line 8, field "waves[0].context.age": "age" is both a column of <dir>/w1.csv and a context key, and <dir>/persona.hbs uses it: rename one`,
    );
  });

  it("passes frame errors through: duplicate ids, missing and negative weights, answers outside the options", async () => {
    expect(await studyError({ "w1.csv": BASE_FILES["w1.csv"]!.replace("r3,", "r1,") })).toBe(
      `<dir>/w1.csv: row 3 (line 4), column "id": duplicate respondent id "r1" (also row 1): ids must be unique within a frame; a file holding several waves needs frame: {file, wave_column}`,
    );
    expect(await studyError({ "w1.csv": BASE_FILES["w1.csv"]!.replace("r2,0.5,", "r2,,") })).toBe(
      `<dir>/w1.csv: row 2 (line 3), column "weight": missing value: expected a non-negative weight`,
    );
    expect(await studyError({ "w1.csv": BASE_FILES["w1.csv"]!.replace("r2,0.5,", "r2,-0.5,") })).toBe(
      `<dir>/w1.csv: row 2 (line 3), column "weight": expected a non-negative weight, got "-0.5"`,
    );
    expect(await studyError({ "w1.csv": BASE_FILES["w1.csv"]!.replace("Democrat,South,34,1,80", "Democrat,South,34,2,80") })).toBe(
      `<dir>/w1.csv: row 1 (line 2), column "approve": expected one of 1 (Approve), 0 (Disapprove) for item "approve", got "2"`,
    );
  });

  it("requires real answers in historical waves only", async () => {
    const frame = "id,weight,party,region,age,approve\nr1,1,Democrat,South,34,1\n";
    expect(await studyError({ "w1.csv": frame })).toBe(
      `<dir>/w1.csv: field "therm": missing column (real answers to item "therm", required in a historical wave); the file has: id, weight, party, region, age, approve`,
    );
  });

  it("accepts a bare year as a wave id and date", async () => {
    const dir = studyDir({ ...BASE_FILES, "study.yaml": studyWith([["id: w1", "id: 2020\n    date: 2020"]]) });
    const loaded = await loadStudy(join(dir, "study.yaml"));
    expect(loaded.waves[0]!.wave.id).toBe("2020");
    expect(loaded.waves[0]!.wave.date).toBe("2020");
  });
});

describe("loadSurvey", () => {
  function surveyError(text: string): string {
    const dir = studyDir({ "survey.yaml": text });
    try {
      loadSurvey(join(dir, "survey.yaml"));
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      return (error as Error).message.split(dir + "/").join("<dir>/");
    }
    throw new Error("expected loadSurvey to fail");
  }

  it("reads every item type with defaults", () => {
    const dir = studyDir({
      "survey.yaml": `id: s
items:
  - { id: b, type: binary, text: Yes or no? }
  - { id: c, type: single_choice, text: Which?, options: [{ code: 1, label: A }, { code: 2, label: B }] }
  - { id: l, type: likert, text: Agree?, options: [{ code: 1, label: No }, { code: 2, label: Maybe }, { code: 3, label: Yes }] }
  - { id: t, type: thermometer, text: Rate them., missing: [998, 999] }
  - { id: n, type: numeric, text: How many?, min: 0, max: 20, integer: true, unit: books }
`,
    });
    const survey = loadSurvey(join(dir, "survey.yaml"));
    expect(survey.items[0]).toMatchObject({ type: "binary", options: [{ code: 1, label: "Yes" }, { code: 0, label: "No" }] });
    expect(survey.items[1]).toMatchObject({ type: "single_choice", ordered: false });
    expect(survey.items[3]).toMatchObject({ type: "thermometer", min: 0, max: 100, missing: [998, 999] });
    expect(survey.items[4]).toMatchObject({ type: "numeric", min: 0, max: 20, integer: true, unit: "books" });
  });

  it("explains problems item by item", () => {
    expect(surveyError("id: s\nitems:\n  - { id: a, type: numeric, text: x, min: 5, max: 1 }\n")).toBe(
      `<dir>/survey.yaml: line 3, field "items[0].max": min must be below max`,
    );
    expect(surveyError("id: s\nitems:\n  - { id: a, type: binary, text: x, options: [{ code: 1, label: Y }, { code: 2, label: N }] }\n")).toBe(
      `<dir>/survey.yaml: line 3, field "items[0].options": binary options must be coded 1 and 0`,
    );
    expect(
      surveyError("id: s\nitems:\n  - id: a\n    type: likert\n    text: x\n    options:\n      - { code: 1, label: Low }\n      - { code: 2, label: Mid }\n      - { code: 2, label: High }\n"),
    ).toBe(`<dir>/survey.yaml: line 9, field "items[0].options[2].code": code 2 is used twice (also option 2)`);
    expect(surveyError("id: s\nitems:\n  - { id: a, type: thermometer, text: x }\n  - { id: a, type: thermometer, text: y }\n")).toBe(
      `<dir>/survey.yaml: line 4, field "items[1].id": item id "a" appears twice (also entry 1)`,
    );
    expect(surveyError("id: s\nitems:\n  - { id: a, type: likert, text: x, options: oops }\n")).toBe(
      `<dir>/survey.yaml: line 3, field "items[0].options": expected a list, got "oops"`,
    );
    expect(surveyError("id: s\nitems: []\n")).toBe(`<dir>/survey.yaml: line 2, field "items": expected at least 1 item, got 0`);
    expect(surveyError("")).toBe(`<dir>/survey.yaml: the file is empty: expected a survey (id, items)`);
    expect(surveyError("- a\n- b\n")).toBe(`<dir>/survey.yaml: line 1: expected a survey (id, items), got a list`);
    expect(surveyError("id: s\nitems:\n  - { id: a, type: thermometer }\n")).toBe(
      `<dir>/survey.yaml: line 3, field "items[0].text": missing: expected a text`,
    );
  });

  it("refuses a question text that is not a valid template, at its line", () => {
    expect(surveyError("id: s\nitems:\n  - id: a\n    type: thermometer\n    text: Rate {{president\n")).toBe(
      `<dir>/survey.yaml: line 5, field "items[0].text": invalid template: unexpected 'invalid'`,
    );
    expect(surveyError("id: s\nitems:\n  - id: a\n    type: thermometer\n    text: Rate {{shout president}}\n")).toBe(
      `<dir>/survey.yaml: line 5, field "items[0].text": unknown helper "shout": silicon provides lowercase, uppercase, capitalize, article, number, with_default, eq, if, unless, each, with`,
    );
  });
});
