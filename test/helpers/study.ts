/**
 * A hand-built study for engine tests: no files, a persona that names the
 * respondent, a question renderer that substitutes {{key}} from the context.
 */
import { Study, Survey, type SurveyItem } from "../../src/config/schema.ts";
import type { RenderQuestion, StudyLike } from "../../src/generation/types.ts";
import type { Cell } from "../../src/tables/types.ts";

export const ITEMS: unknown[] = [
  { id: "approve", type: "binary", text: "Do you approve of the way {{president}} is handling the job?" },
  {
    id: "economy",
    type: "likert",
    text: "The economy is getting better.",
    options: [
      { code: 1, label: "Strongly agree" },
      { code: 2, label: "Agree" },
      { code: 3, label: "Neither agree nor disagree" },
      { code: 4, label: "Disagree" },
      { code: 5, label: "Strongly disagree" },
    ],
  },
  { id: "therm_dem", type: "thermometer", text: "How warm do you feel toward Democrats?" },
];

export interface TestStudyOptions {
  respondents?: number;
  waves?: number;
  items?: unknown[];
  study?: Record<string, unknown>;
  file?: string;
}

export function makeStudy(options: TestStudyOptions = {}): StudyLike {
  const respondents = options.respondents ?? 4;
  const waveCount = options.waves ?? 1;
  const survey = Survey.parse({ id: "test-survey", instructions: "Answer as yourself.", items: options.items ?? ITEMS });
  const waves = Array.from({ length: waveCount }, (_, w) => ({
    id: `w${w + 1}`,
    frame: `w${w + 1}.csv`,
    role: w === waveCount - 1 ? "target" : "historical",
    context: { president: w % 2 === 0 ? "Joe Biden" : "Donald Trump" },
  }));
  const study = Study.parse({
    name: "test-study",
    survey: "survey.yaml",
    persona: "persona.hbs",
    waves,
    models: ["openai:fake-model"],
    ...options.study,
  });
  const parties = ["Democrat", "Republican", "Independent"];
  const profiles: Record<string, Cell>[] = Array.from({ length: respondents }, (_, i) => ({
    id: `r${i + 1}`,
    party: parties[i % 3]!,
    age: 20 + ((i * 7) % 60),
  }));
  const frame = {
    source: "frame.csv",
    size: respondents,
    ids: profiles.map((p) => String(p.id)),
    profile: (i: number) => profiles[i]!,
  };
  return {
    file: options.file ?? "study.yaml",
    dir: ".",
    study,
    survey,
    surveyFile: "survey.yaml",
    persona: {
      file: "persona.hbs",
      render: (profile, _context, id) => `You are respondent ${id}, a ${profile.age}-year-old ${profile.party}.`,
    },
    waves: study.waves.map((wave) => ({ wave, frame })),
  };
}

export const renderQuestion: RenderQuestion = (item: SurveyItem, context: Record<string, unknown>) =>
  item.text.replace(/\{\{(\w+)\}\}/g, (_m, key: string) => String(context[key]));
