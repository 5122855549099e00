/**
 * Loads a study and everything it names, checking all of it before the
 * engine makes a single call: the YAML against the schemas (errors name file,
 * line and field), the survey, the persona template, every wave's frame, and
 * that templates only use fields the frames and wave contexts provide.
 */
import { existsSync, statSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { InputError, type InputLocation } from "../errors.ts";
import { compilePersona, type PersonaTemplate } from "../personas/template.ts";
import { compileQuestion, questionFields } from "../personas/render.ts";
import { simulatedModelProblem } from "../simulation/models.ts";
import { readTable, tableFormatOf } from "../tables/read.ts";
import type { DataTable } from "../tables/types.ts";
import { checkAnalysis, type AnalysisPlan } from "./check-analysis.ts";
import { answerColumn, frameFromTable, waveRows, type Frame } from "./frame.ts";
import { Study, Survey, type Wave } from "./schema.ts";
import { locate, readYamlFile, validateYaml, type YamlPath, type YamlSource } from "./yaml.ts";

export interface LoadedWave {
  wave: Wave;
  frame: Frame;
}

export interface LoadedStudy {
  /** The study file, as the user gave it. */
  file: string;
  /** Its folder; relative paths in the study are resolved against it. */
  dir: string;
  study: Study;
  survey: Survey;
  surveyFile: string;
  persona: PersonaTemplate;
  waves: LoadedWave[];
  /** The estimands and calibration sections, checked and resolved (derived columns computed per wave). */
  analysis: AnalysisPlan;
  /**
   * Where a field of the study file sits, for errors found later (e.g. an
   * unknown model or a missing API key: `locate(["models", 1])`).
   */
  locate(path: YamlPath): InputLocation;
}

const SURVEY_WHAT = "a survey (id, items)";
const STUDY_WHAT = "a study (name, survey, persona, waves, models)";

export function loadSurvey(path: string): Survey {
  const source = readYamlFile(path);
  const survey = validateYaml(source, Survey, SURVEY_WHAT);
  survey.items.forEach((item, i) => {
    try {
      compileQuestion(item, path);
    } catch (error) {
      if (error instanceof InputError) throw new InputError(locate(source, ["items", i, "text"]), error.problem, { cause: error });
      throw error;
    }
  });
  return survey;
}

export async function loadStudy(path: string): Promise<LoadedStudy> {
  const source = readYamlFile(path);
  const study = validateYaml(source, Study, STUDY_WHAT);
  const dir = dirname(path);
  const where = (p: YamlPath) => locate(source, p);

  study.models.forEach((model, i) => {
    const problem = model.startsWith("simulated:") ? simulatedModelProblem(model.slice("simulated:".length)) : undefined;
    if (problem !== undefined) throw new InputError(where(["models", i]), problem);
  });

  const surveyFile = resolveInput(source, dir, study.survey, ["survey"]);
  const personaFile = resolveInput(source, dir, study.persona, ["persona"]);
  const survey = loadSurvey(surveyFile);
  const persona = compilePersona(personaFile);

  const pilotItems = new Set(study.calibration.pilot.flatMap((set) => set.items));
  const tables = new Map<string, Promise<DataTable>>();
  const waves: LoadedWave[] = [];
  for (const [i, wave] of study.waves.entries()) {
    const { file, wave_column: waveColumn, wave_value: waveValue } = wave.frame;
    const fileField: YamlPath = source.doc.hasIn(["waves", i, "frame", "file"]) ? ["waves", i, "frame", "file"] : ["waves", i, "frame"];
    const framePath = resolveInput(source, dir, file, fileField);
    try {
      tableFormatOf(framePath);
    } catch (error) {
      if (error instanceof InputError) throw new InputError(where(fileField), `${framePath}: ${error.problem}`);
      throw error;
    }
    let read = tables.get(framePath);
    if (read === undefined) tables.set(framePath, (read = readTable(framePath)));
    const table = waveColumn === undefined ? await read : waveRows(await read, { column: waveColumn, value: waveValue ?? wave.id, waveId: wave.id });
    const frame = frameFromTable(table, {
      idColumn: study.respondent.id,
      weightColumn: study.respondent.weight,
      items: survey.items,
      historical: wave.role === "historical",
      // Pilot items are new questions: historical waves have no answers to them.
      optionalItems: pilotItems,
      ...(waveColumn === undefined ? {} : { wave: wave.id }),
    });
    checkWave(source, survey, surveyFile, persona, wave, i, frame);
    waves.push({ wave, frame });
  }

  const analysis = checkAnalysis(where, study.estimands, study.calibration, survey, waves);
  return { file: path, dir, study, survey, surveyFile, persona, waves, analysis, locate: where };
}

function resolveInput(source: YamlSource, dir: string, value: string, path: YamlPath): string {
  const resolved = isAbsolute(value) ? value : join(dir, value);
  if (!existsSync(resolved)) throw new InputError(locate(source, path), `file not found: ${resolved}`);
  if (statSync(resolved).isDirectory()) throw new InputError(locate(source, path), `${resolved} is a folder: expected a file`);
  return resolved;
}

/** Everything about one wave that would otherwise fail mid-run: context keys, template fields, every persona. */
function checkWave(
  source: YamlSource,
  survey: Survey,
  surveyFile: string,
  persona: PersonaTemplate,
  wave: Wave,
  index: number,
  frame: Frame,
): void {
  const context = wave.context;
  const contextPath: YamlPath = source.doc.hasIn(["waves", index, "context"]) ? ["waves", index, "context"] : ["waves", index];

  for (const item of survey.items) {
    for (const field of questionFields(item, surveyFile)) {
      if (!Object.hasOwn(context, field) || context[field] === null) {
        throw new InputError(
          locate(source, contextPath),
          `item "${item.id}" of ${surveyFile} uses {{${field}}}, which the context of wave "${wave.id}" does not define`,
        );
      }
    }
  }

  const columns = new Set(frame.columnNames);
  const answerColumns = new Map(survey.items.map((item) => [answerColumn(item), item.id]));
  for (const field of persona.fields) {
    const inFrame = columns.has(field);
    const inContext = Object.hasOwn(context, field);
    if (!inFrame && !inContext) {
      throw new InputError(
        { file: persona.file, field },
        `not a column of ${frame.source} (wave "${wave.id}") nor a key of its context; the frame has: ${frame.columnNames.join(", ")}`,
      );
    }
    if (inFrame && inContext) {
      throw new InputError(
        locate(source, [...contextPath, field]),
        `"${field}" is both a column of ${frame.source} and a context key, and ${persona.file} uses it: rename one`,
      );
    }
    const item = answerColumns.get(field);
    if (inFrame && item !== undefined) {
      throw new InputError(
        { file: persona.file, field },
        `column "${field}" holds the real answers to item "${item}": a persona that shows it leaks the answer into the prompt`,
      );
    }
  }

  // Render every persona now: a missing value must stop the run before the first call, not at respondent 9,000.
  for (let r = 0; r < frame.size; r++) {
    try {
      persona.render(frame.profile(r), context, frame.ids[r]!);
    } catch (error) {
      if (error instanceof InputError) {
        throw new InputError(error.location, `${error.problem} (wave "${wave.id}", ${frame.source} row ${r + 1})`, { cause: error });
      }
      throw error;
    }
  }
}
