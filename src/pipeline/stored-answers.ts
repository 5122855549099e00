/**
 * The synthetic answers of a study from its store (results/<study>/
 * store.sqlite): every answer asked with the study's current prompts (as
 * `silicon generate` exports them), as SyntheticAnswers for the estimands.
 * Every model with stored answers counts, the study's and any a `--model`
 * run added (docs/pilot.md: "the analysis uses every model with stored
 * answers"): answers paid for are never silently left out.
 * A refusal or a nonresponse is a missing answer: the respondent was asked
 * and stays in the synthetic design. Distribution answers (first-token
 * probabilities) become one entry per option.
 */
import { join } from "node:path";
import type { LoadedStudy } from "../config/load.ts";
import { UsageError } from "../errors.ts";
import { preparePrompts } from "../generation/plan.ts";
import type { PromptMode } from "../generation/prompt.ts";
import { renderQuestion } from "../personas/render.ts";
import { ANSWER_STATUSES, type AnswerCells } from "../store/answers.ts";
import { openStoreReadOnly } from "../store/store.ts";
import type { StudyAnswers } from "./study-results.ts";

export interface StoredAnswers extends StudyAnswers {
  /** Cells the study asks for (models × waves × respondents × items × generations), models being the study's and the store's. */
  cells: number;
  /** Of them, cells with a stored answer under the current prompts. */
  stored: number;
}

/** Cell keys already planned for these models (by `silicon generate` earlier in the same command). */
export interface PlannedPrompts {
  models: string[];
  currentKeys: Map<string, string>;
  /** The stored answers generate planned with: read again unless the answers are still those (same answers version). */
  stored?: AnswerCells & { version: number };
}

/** `planned`: the current keys generate just computed; used when they cover exactly the models needed, else planned again. */
export function storedAnswers(study: LoadedStudy, resultsDir: string, planned?: PlannedPrompts): StoredAnswers {
  const dir = join(resultsDir, study.study.name);
  const mode: PromptMode = study.study.elicitation;
  const store = openStoreReadOnly(dir);
  if (store === undefined) {
    throw new UsageError(`no stored answers for study "${study.study.name}" in ${dir}: run silicon generate ${study.file} (or silicon run ${study.file}) first`);
  }
  const id: string[] = [];
  const item: string[] = [];
  const value: number[] = [];
  const model: string[] = [];
  const wave: string[] = [];
  const generation: number[] = [];
  const option: number[] = [];
  let stored = 0;
  let costUsd: number;
  let currentKeys: Map<string, string>;
  try {
    const models = [...new Set([...study.study.models, ...store.models()])];
    currentKeys = sameModels(planned?.models, models) ? planned!.currentKeys : preparePrompts(study, mode, renderQuestion, models).currentKeys;
    const push = (respondent: string, it: string, m: string, w: string, g: number, v: number, o: number) => {
      id.push(respondent);
      item.push(it);
      value.push(v);
      model.push(m);
      wave.push(w);
      generation.push(g);
      option.push(o);
    };
    // A cell key covers its cell (model, wave, respondent, item, generation):
    // a stored key that is any cell's current key is its own cell's.
    const current = new Set(currentKeys.values());
    const reuse = planned?.stored !== undefined && planned.stored.version === store.answersVersion();
    const { names, rows } = reuse ? planned.stored! : store.answerCells();
    for (const row of rows) {
      const [m, w, respondent, it, g, key, code, v, distribution] = row as [number, number, number, number, number, string, number, number | null, string | null];
      if (!current.has(key)) continue;
      stored += 1;
      const answered = ANSWER_STATUSES[code] === "answered";
      if (answered && distribution !== null) {
        const probabilities = JSON.parse(distribution) as Record<string, number>;
        for (const [code, p] of Object.entries(probabilities)) push(names[respondent]!, names[it]!, names[m]!, names[w]!, g, p, Number(code));
      } else {
        push(names[respondent]!, names[it]!, names[m]!, names[w]!, g, answered && v !== null ? v : NaN, NaN);
      }
    }
    costUsd = store.spentUsd();
  } finally {
    store.close();
  }
  if (stored === 0) {
    throw new UsageError(`the store in ${dir} has no answers to the study's current prompts: run silicon generate ${study.file} (or silicon run ${study.file})`);
  }
  const answers = {
    source: join(dir, "store.sqlite"),
    id,
    item,
    value,
    model,
    wave,
    generation,
    ...(option.some((o) => !Number.isNaN(o)) ? { option } : {}),
  };
  return { answers, count: stored, store: answers.source, costUsd, cells: currentKeys.size, stored };
}

function sameModels(planned: string[] | undefined, needed: string[]): boolean {
  return planned !== undefined && planned.length === needed.length && needed.every((model) => planned.includes(model));
}
