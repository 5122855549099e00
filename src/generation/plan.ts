/**
 * What a run has to ask. Cells are model × wave × respondent × item ×
 * generation; a job is one first-ask request covering consecutive generations
 * of one (model, wave, respondent, item): all k at once when the provider
 * returns several choices per call (OpenAI `n`), else one each. The grouping
 * depends only on k and the provider, so a resumed run asks exactly the
 * requests the killed one did, and finds their responses in the cache.
 *
 * `preparePrompts` renders every prompt before the store is touched (a
 * template error is bad input and must leave nothing behind); `planJobs` then
 * leaves out the cells the store already holds with the current prompt.
 */
import type { SurveyItem, Wave } from "../config/schema.ts";
import type { AnswerSchema } from "../providers/types.ts";
import { cellId, type StoredCellState } from "../store/answers.ts";
import { cellKey, promptDigest, type AnswerParameters } from "./keys.ts";
import { buildItemPrompt, type PromptMode } from "./prompt.ts";
import type { RenderQuestion, StudyLike } from "./types.ts";

/** OpenAI accepts n up to 128. */
export const MAX_CHOICES_PER_CALL = 128;

/** One (wave, respondent, item) with its rendered prompt. */
export interface PromptUnit {
  waveIndex: number;
  wave: Wave;
  respondentIndex: number;
  respondentId: string;
  item: SurveyItem;
  system: string;
  user: string;
  schema: AnswerSchema | undefined;
  /** promptDigest(system, user). */
  prompt: string;
  parameters: AnswerParameters;
}

export interface PreparedPrompts {
  mode: PromptMode;
  generations: number;
  units: PromptUnit[];
  /** Current cell key of every cell of every study model, by cellId (exports keep only these). */
  currentKeys: Map<string, string>;
}

export interface Job extends PromptUnit {
  model: string;
  firstGeneration: number;
  /** Generations this job's first request asks for (its `n`). */
  n: number;
  /** Cell key of each generation firstGeneration .. firstGeneration + n - 1. */
  cellKeys: string[];
  /** Generations still to answer (the others of the chunk are stored and current). */
  pending: number[];
}

export interface ModelPlan {
  id: string;
  /** Several generations from one call (provider.capabilities.multipleChoices). */
  multipleChoices: boolean;
}

export interface Plan {
  /** Cells of the selected models. */
  cells: number;
  /** Of those, stored with the current prompt (answered, refused, or nonresponse after re-asks). */
  done: number;
  /** Stored, but asked with another prompt or parameters: asked again. */
  stale: number;
  /** Stored as nonresponse after vendor failures: asked again. */
  retried: number;
  /** Cells the jobs will ask. */
  pending: number;
  jobs: Job[];
}

export function parametersOf(study: StudyLike, mode: PromptMode, schema: AnswerSchema | undefined): AnswerParameters {
  return {
    temperature: study.study.temperature,
    maxTokens: study.study.max_tokens,
    seed: study.study.seed,
    elicitation: mode,
    schema: schema === undefined ? "" : JSON.stringify(schema),
  };
}

/**
 * Renders every prompt and computes every cell key of `models` (the study's,
 * plus a --model standing in for a self-hosted server's model).
 */
export function preparePrompts(study: StudyLike, mode: PromptMode, renderQuestion: RenderQuestion, models: readonly string[] = study.study.models): PreparedPrompts {
  const k = study.study.generations;
  const prepared: PreparedPrompts = { mode, generations: k, units: [], currentKeys: new Map() };
  study.waves.forEach(({ wave, frame }, waveIndex) => {
    const questions = study.survey.items.map((item) => {
      const prompt = buildItemPrompt(study.survey, item, renderQuestion(item, wave.context, study.surveyFile), mode);
      return { item, prompt, parameters: parametersOf(study, mode, prompt.schema) };
    });
    for (let r = 0; r < frame.size; r++) {
      const respondentId = frame.ids[r]!;
      const system = study.persona.render(frame.profile(r), wave.context, respondentId);
      for (const { item, prompt, parameters } of questions) {
        const digest = promptDigest(system, prompt.user);
        prepared.units.push({
          waveIndex,
          wave,
          respondentIndex: r,
          respondentId,
          item,
          system,
          user: prompt.user,
          schema: prompt.schema,
          prompt: digest,
          parameters,
        });
        for (const model of models) {
          const identity = { model, wave: wave.id, respondent: respondentId, item: item.id };
          for (let g = 1; g <= k; g++) {
            prepared.currentKeys.set(cellId(model, wave.id, respondentId, item.id, g), cellKey(identity, g, digest, parameters));
          }
        }
      }
    }
  });
  return prepared;
}

/** The jobs for `models`, leaving out cells `stored` holds with their current key. */
export function planJobs(prepared: PreparedPrompts, models: ModelPlan[], stored: Map<string, StoredCellState>): Plan {
  const k = prepared.generations;
  const plan: Plan = { cells: 0, done: 0, stale: 0, retried: 0, pending: 0, jobs: [] };
  for (const unit of prepared.units) {
    for (const model of models) {
      const chunk = model.multipleChoices ? MAX_CHOICES_PER_CALL : 1;
      for (let first = 1; first <= k; first += chunk) {
        const n = Math.min(chunk, k - first + 1);
        const cellKeys: string[] = [];
        const pending: number[] = [];
        for (let g = first; g < first + n; g++) {
          const id = cellId(model.id, unit.wave.id, unit.respondentId, unit.item.id, g);
          const key = prepared.currentKeys.get(id)!;
          cellKeys.push(key);
          plan.cells += 1;
          const state = stored.get(id);
          if (state === undefined) pending.push(g);
          else if (state.cellKey !== key) {
            plan.stale += 1;
            pending.push(g);
          } else if (state.transient) {
            plan.retried += 1;
            pending.push(g);
          } else plan.done += 1;
        }
        if (pending.length === 0) continue;
        plan.pending += pending.length;
        plan.jobs.push({ ...unit, model: model.id, firstGeneration: first, n, cellKeys, pending });
      }
    }
  }
  return plan;
}
