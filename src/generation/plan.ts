/**
 * What a run has to ask. Cells are model × wave × respondent × item ×
 * generation; a job is one first-ask request covering consecutive generations
 * of one (model, wave, respondent, item): all k at once when the provider
 * returns several choices per call (OpenAI `n`), else one each. The grouping
 * depends only on k and the provider, so a resumed run asks exactly the
 * requests the killed one did, and finds their responses in the cache.
 *
 * In a questionnaire (elicitation `questionnaire`) a job is one conversation:
 * a respondent's items in survey order for one generation, each item's
 * question a turn after the model's earlier answers.
 *
 * Under logprobs elicitation one call gives a respondent's exact answer
 * distribution for a choice item, so such items are asked once (generation 1
 * only, whatever `generations` says); items a token cannot answer are asked
 * as structured, k times.
 *
 * `preparePrompts` renders every prompt before the store is touched (a
 * template error is bad input and must leave nothing behind); `planJobs` then
 * leaves out the cells the store already holds with the current prompt.
 */
import type { SurveyItem, Wave } from "../config/schema.ts";
import type { AnswerSchema } from "../providers/types.ts";
import { cellId, type StoredCellState } from "../store/answers.ts";
import { cellKeys, promptDigest, type AnswerParameters } from "./keys.ts";
import { buildItemPrompt, itemModeOf, TOP_LOGPROBS, type AnswerKey, type ItemMode, type PromptMode } from "./prompt.ts";
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
  /** How this item is asked (a logprobs study asks scales as structured). */
  itemMode: ItemMode;
  system: string;
  user: string;
  schema: AnswerSchema | undefined;
  /** logprobs: the one-token answers. */
  answerKeys: AnswerKey[] | undefined;
  /** Output cap of each ask: 1 token under logprobs, else the study's max_tokens. */
  maxTokens: number;
  topLogprobs: number | undefined;
  /** Generations asked of this item: the study's k, or 1 for a distribution (logprobs). */
  generations: number;
  /**
   * promptDigest(system, user); in a questionnaire, of the system prompt and
   * every question up to this one, so a turn's key changes with any earlier question.
   */
  prompt: string;
  parameters: AnswerParameters;
  /**
   * cellId of each of its cells, by model (in PreparedPrompts.models order)
   * then generation: made once here, so planning looks cells up without
   * spelling their ids again.
   */
  cellIds: string[];
}

export interface PreparedPrompts {
  mode: PromptMode;
  /** The study's k. */
  generations: number;
  /** In survey order within each (wave, respondent). */
  units: PromptUnit[];
  /** Current cell key of every cell of every study model, by cellId (exports keep only these). */
  currentKeys: Map<string, string>;
  /** The models prompts were prepared for. */
  models: readonly string[];
}

/** One first-ask request for consecutive generations of one (model, wave, respondent, item). */
export interface ItemJob extends PromptUnit {
  kind: "item";
  model: string;
  firstGeneration: number;
  /** Generations this job's first request asks for (its `n`). */
  n: number;
  /** Cell key of each generation firstGeneration .. firstGeneration + n - 1. */
  cellKeys: string[];
  /** Generations still to answer (the others of the chunk are stored and current). */
  pending: number[];
}

/** A questionnaire: one respondent's items in one conversation, for one generation. */
export interface ConversationJob {
  kind: "conversation";
  model: string;
  generation: number;
  /** The respondent's units in survey order; `turns[0]` holds the system prompt and the wave. */
  turns: PromptUnit[];
  /** Cell key of each turn's cell. */
  cellKeys: string[];
  /** Whether each turn's cell still needs an answer (answered turns are replayed from the store). */
  pending: boolean[];
}

export type Job = ItemJob | ConversationJob;

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

export function parametersOf(study: StudyLike, mode: PromptMode, itemMode: ItemMode, schema: AnswerSchema | undefined): AnswerParameters {
  const parameters: AnswerParameters = {
    temperature: study.study.temperature,
    maxTokens: itemMode === "logprobs" ? 1 : study.study.max_tokens,
    seed: study.study.seed,
    // A scale in a logprobs study is asked exactly as in a structured one: same keys, same stored answers.
    elicitation: mode === "logprobs" ? itemMode : mode,
    schema: schema === undefined ? "" : JSON.stringify(schema),
  };
  if (itemMode === "logprobs") parameters.topLogprobs = TOP_LOGPROBS;
  return parameters;
}

/**
 * Renders every prompt and computes every cell key of `models` (the study's,
 * plus a --model standing in for a self-hosted server's model).
 */
export function preparePrompts(study: StudyLike, mode: PromptMode, renderQuestion: RenderQuestion, models: readonly string[] = study.study.models): PreparedPrompts {
  const k = study.study.generations;
  const prepared: PreparedPrompts = { mode, generations: k, units: [], currentKeys: new Map(), models };
  study.waves.forEach(({ wave, frame }, waveIndex) => {
    const questions = study.survey.items.map((item) => {
      const itemMode = itemModeOf(mode, item);
      const prompt = buildItemPrompt(study.survey, item, renderQuestion(item, wave.context, study.surveyFile), itemMode);
      return { item, itemMode, prompt, parameters: parametersOf(study, mode, itemMode, prompt.schema) };
    });
    for (let r = 0; r < frame.size; r++) {
      const respondentId = frame.ids[r]!;
      const system = study.persona.render(frame.profile(r), wave.context, respondentId);
      const asked: string[] = [];
      for (const { item, itemMode, prompt, parameters } of questions) {
        asked.push(prompt.user);
        const digest = mode === "questionnaire" ? promptDigest(system, JSON.stringify(asked)) : promptDigest(system, prompt.user);
        const generations = itemMode === "logprobs" ? 1 : k;
        const cellIds: string[] = [];
        prepared.units.push({
          waveIndex,
          wave,
          respondentIndex: r,
          respondentId,
          item,
          itemMode,
          system,
          user: prompt.user,
          schema: prompt.schema,
          answerKeys: prompt.answerKeys,
          maxTokens: parameters.maxTokens,
          topLogprobs: parameters.topLogprobs,
          generations,
          prompt: digest,
          parameters,
          cellIds,
        });
        for (const model of models) {
          const keys = cellKeys({ model, wave: wave.id, respondent: respondentId, item: item.id }, generations, digest, parameters);
          for (let g = 1; g <= generations; g++) {
            const id = cellId(model, wave.id, respondentId, item.id, g);
            cellIds.push(id);
            prepared.currentKeys.set(id, keys[g - 1]!);
          }
        }
      }
    }
  });
  return prepared;
}

type CellCheck = (model: string, unit: PromptUnit, generation: number) => { key: string; pending: boolean };

/** The jobs for `models`, leaving out cells `stored` holds with their current key. */
export function planJobs(prepared: PreparedPrompts, models: ModelPlan[], stored: Map<string, StoredCellState>): Plan {
  const plan: Plan = { cells: 0, done: 0, stale: 0, retried: 0, pending: 0, jobs: [] };
  const check: CellCheck = (model, unit, g) => {
    const m = prepared.models.indexOf(model);
    const id = m < 0 ? cellId(model, unit.wave.id, unit.respondentId, unit.item.id, g) : unit.cellIds[m * unit.generations + g - 1]!;
    const key = prepared.currentKeys.get(id)!;
    plan.cells += 1;
    const state = stored.get(id);
    let pending = true;
    if (state === undefined) pending = true;
    else if (state.cellKey !== key) plan.stale += 1;
    else if (state.transient) plan.retried += 1;
    else pending = false;
    if (pending) plan.pending += 1;
    else plan.done += 1;
    return { key, pending };
  };
  if (prepared.mode === "questionnaire") planConversations(prepared, models, check, plan);
  else planItems(prepared, models, check, plan);
  return plan;
}

function planItems(prepared: PreparedPrompts, models: ModelPlan[], check: CellCheck, plan: Plan): void {
  for (const unit of prepared.units) {
    for (const model of models) {
      const chunk = model.multipleChoices ? MAX_CHOICES_PER_CALL : 1;
      for (let first = 1; first <= unit.generations; first += chunk) {
        const n = Math.min(chunk, unit.generations - first + 1);
        const cellKeys: string[] = [];
        const pending: number[] = [];
        for (let g = first; g < first + n; g++) {
          const cell = check(model.id, unit, g);
          cellKeys.push(cell.key);
          if (cell.pending) pending.push(g);
        }
        if (pending.length > 0) plan.jobs.push({ ...unit, kind: "item", model: model.id, firstGeneration: first, n, cellKeys, pending });
      }
    }
  }
}

function planConversations(prepared: PreparedPrompts, models: ModelPlan[], check: CellCheck, plan: Plan): void {
  const units = prepared.units;
  for (let start = 0; start < units.length; ) {
    let end = start + 1;
    while (end < units.length && units[end]!.waveIndex === units[start]!.waveIndex && units[end]!.respondentIndex === units[start]!.respondentIndex) end++;
    const turns = units.slice(start, end);
    for (const model of models) {
      for (let g = 1; g <= prepared.generations; g++) {
        const cells = turns.map((unit) => check(model.id, unit, g));
        const pending = cells.map((c) => c.pending);
        const first = pending.indexOf(true);
        if (first < 0) continue;
        // Answers after a question asked again followed another conversation: they are asked again too.
        for (let t = first + 1; t < pending.length; t++) {
          if (pending[t]) continue;
          pending[t] = true;
          plan.done -= 1;
          plan.pending += 1;
        }
        plan.jobs.push({ kind: "conversation", model: model.id, generation: g, turns, cellKeys: cells.map((c) => c.key), pending });
      }
    }
    start = end;
  }
}
