/**
 * The study `silicon demo` builds and runs offline: a six-wave panel (Pew
 * ATP-like) asked six ANES-like feeling thermometers and presidential
 * approval, under Trump (2019–2020) and Biden (2021–2024). Five historical
 * waves calibrate the 2024 target wave, whose real answers are kept so the
 * forecast can be checked. Subgroups: party for the thermometers; for
 * approval, the polarized 2-D target of the method paper's Pew experiment —
 * approval among co-partisans of the sitting president and among the
 * opposition (a derived column: it depends on the wave's president) — per
 * region. Two simulated models with known biases answer.
 *
 * Everything is seeded: the same files every time, so a rerun reuses the
 * store's answers.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { SurveyItem } from "../config/schema.ts";
import { generatePopulationFrames, tableToCsv } from "../simulation/frames.ts";
import type { DataTable } from "../tables/types.ts";
import { OutputSet } from "../util/atomic-write.ts";

export const DEMO_SEED = 2026;
export const DEMO_RESPONDENTS = 800;

const GROUPS: [string, string][] = [
  ["therm_democrats", "Democrats"],
  ["therm_republicans", "Republicans"],
  ["therm_scientists", "scientists"],
  ["therm_police", "the police"],
  ["therm_labor_unions", "labor unions"],
  ["therm_big_business", "big business"],
];

export const DEMO_WAVES = [
  { id: "w2019", date: "2019-07", president: "Donald Trump", party: "Republican", period: "July 2019" },
  { id: "w2020", date: "2020-07", president: "Donald Trump", party: "Republican", period: "July 2020" },
  { id: "w2021", date: "2021-07", president: "Joe Biden", party: "Democrat", period: "July 2021" },
  { id: "w2022", date: "2022-07", president: "Joe Biden", party: "Democrat", period: "July 2022" },
  { id: "w2023", date: "2023-07", president: "Joe Biden", party: "Democrat", period: "July 2023" },
  { id: "w2024", date: "2024-07", president: "Joe Biden", party: "Democrat", period: "July 2024", target: true },
];

export const DEMO_MODELS = ["simulated:biased", "simulated:polarized"];

const SURVEY = `# The demo survey: ANES-like feeling thermometers and Pew-like presidential approval.
id: demo_survey
title: Feelings toward groups and presidential approval (silicon demo)
instructions: Please answer as yourself. There are no right or wrong answers.
items:
${GROUPS.map(
  ([id, group]) => `  - id: ${id}
    type: thermometer
    text: >-
      On a feeling thermometer from 0 to 100, where 100 is very warm and
      favorable and 0 is very cold and unfavorable, how would you rate ${group}?`,
).join("\n")}
  - id: approve
    type: binary
    text: Do you approve or disapprove of the way {{president}} is handling his job as president?
    options:
      - { code: 1, label: Approve }
      - { code: 0, label: Disapprove }
`;

const PERSONA = `{{!-- Persona of the silicon demo: one respondent of the panel, in one wave. --}}
You are taking part in a survey of American adults, interviewed in {{field_period}}.
Answer every question as the person described below would, in their own voice.

You are {{article age}}-year-old {{lowercase gender}} living in the {{region}} of the United States.
Your race or ethnicity: {{race}}. Your highest level of education: {{lowercase education}}.
Politically, you think of yourself as {{article party}}.
`;

const STUDY = `# The silicon demo study, written by \`silicon demo\`. Run it again with
#   silicon run results/demo/study.yaml
# Everything below is documented in docs/study.md.
name: demo
description: >-
  Six ANES-like feeling thermometers by party and Pew-like presidential
  approval among co-partisans and the opposition by region, in a six-wave
  panel; the 2024 wave is forecast from 2019-2023.
survey: survey.yaml
persona: persona.hbs
waves:
${DEMO_WAVES.map(
  (w) => `  - id: ${w.id}
    frame: frames/${w.id}.csv
    role: ${w.target ? "target" : "historical"}
    date: ${w.date}
    context: { president: ${w.president}, president_party: ${w.party}, field_period: ${w.period} }`,
).join("\n")}
models: [${DEMO_MODELS.join(", ")}]
generations: 2
# Simulated models answer at once, offline: many requests in flight at a time
# let the store commit them in large groups.
concurrency: 64
seed: ${DEMO_SEED}
estimands:
  # Thermometers: everyone and each party.
  items: [${GROUPS.map(([id]) => id).join(", ")}]
  by: [all, party]
  # A subgroup that depends on the wave: co-partisans of the sitting president.
  derived:
    copartisan: >-
      (d, ctx) => d.party === 'Independent' ? 'Independent'
        : d.party === ctx.president_party ? 'Co-partisan' : 'Opposition'
  # The polarized 2-D target: approval among co-partisans and the opposition, per region and wave.
  vectors:
    - name: approval
      item: approve
      coordinate: copartisan
      levels: [Co-partisan, Opposition]
      by: region
calibration:
  alpha: 0.1
  method: alg1
  vector_method: alg3
  # chrono and group (leave one item out) can fail; leave-one-out alone could not show a failure.
  protocols: [loo, chrono, group]
  group_by: item
`;

/**
 * Writes the demo study into `dir` (study.yaml, survey.yaml, persona.hbs,
 * frames/); returns the study file. A demo already written there, the same
 * files and every frame in place, is reused: the frames are not simulated
 * again.
 */
export async function writeDemoStudy(dir: string): Promise<string> {
  const studyFile = join(dir, "study.yaml");
  if (alreadyWritten(dir)) return studyFile;
  const items = demoItems();
  const frames = generatePopulationFrames({
    seed: DEMO_SEED,
    items,
    design: "panel",
    waves: DEMO_WAVES.map((w) => ({
      id: w.id,
      size: DEMO_RESPONDENTS,
      role: w.target ? "target" : "historical",
      // The target wave keeps its real answers: they score the forecast, never calibrate it.
      answers: true,
      context: { president: w.president, president_party: w.party, field_period: w.period },
    })),
  });
  await OutputSet.write((out) => {
    out.stage(join(dir, "survey.yaml"), SURVEY);
    out.stage(join(dir, "persona.hbs"), PERSONA);
    out.stage(studyFile, STUDY);
    for (const { spec, table } of frames.waves) out.stage(join(dir, "frames", `${spec.id}.csv`), tableToCsv(withoutColumn(table, "copartisan")));
  });
  return studyFile;
}

function alreadyWritten(dir: string): boolean {
  const same = (name: string, text: string) => {
    try {
      return readFileSync(join(dir, name), "utf8") === text;
    } catch {
      return false;
    }
  };
  return same("study.yaml", STUDY) && same("survey.yaml", SURVEY) && same("persona.hbs", PERSONA) && DEMO_WAVES.every((w) => existsSync(join(dir, "frames", `${w.id}.csv`)));
}

/** The survey's items, as the loader will read them. */
function demoItems(): SurveyItem[] {
  return [
    ...GROUPS.map(([id]): SurveyItem => ({ id, type: "thermometer", text: id, min: 0, max: 100 })),
    { id: "approve", type: "binary", text: "approve", options: [{ code: 1, label: "Approve" }, { code: 0, label: "Disapprove" }] },
  ];
}

/** The demo derives co-partisanship from the wave's context instead of shipping it as a column. */
function withoutColumn(table: DataTable, name: string): DataTable {
  const columns = { ...table.columns };
  delete columns[name];
  return { ...table, columnNames: table.columnNames.filter((c) => c !== name), columns };
}
