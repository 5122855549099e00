/** How a response becomes answers: each choice read, and the answer row a cell gets. */
import type { ChatMessage, CompletionChoice } from "../providers/types.ts";
import type { AnswerRow } from "../store/answers.ts";
import type { ParsedChoice } from "../store/calls.ts";
import type { StoreTime } from "../store/encoding.ts";
import type { Ask } from "./engine-types.ts";
import { parseAnswer, parseLogprobs, type ParseOutcome } from "./parse.ts";
import type { PromptUnit } from "./plan.ts";
import { reaskMessage } from "./prompt.ts";

export type CellOutcome = ParseOutcome | { status: "nonresponse"; reason: string; transient?: boolean };

/** How a choice is read: log-probabilities under logprobs elicitation, else the text; no choice is an invalid answer. */
export function readChoice(unit: PromptUnit, choice: CompletionChoice | undefined, temperature: number): ParseOutcome {
  if (choice === undefined) return { status: "invalid", reason: "no answer returned" };
  return unit.itemMode === "logprobs" ? parseLogprobs(unit.item, choice, unit.answerKeys!, temperature) : parseAnswer(unit.item, choice);
}

/** One cell's answer row, decided by call `callId` (null: by no call). */
export function answerRow(ask: Ask, generation: number, outcome: CellOutcome, attempts: number, callId: number | null, run: { runId: number; at: StoreTime }): AnswerRow {
  const unit = ask.unit;
  const distribution = outcome.status === "answered" ? outcome.distribution : undefined;
  return {
    model: ask.model,
    wave: unit.wave.id,
    respondent: unit.respondentId,
    item: unit.item.id,
    generation,
    cellKey: ask.cellKey(generation),
    value: outcome.status === "answered" ? outcome.value : null,
    distribution: distribution === undefined ? null : JSON.stringify(distribution.probabilities),
    nonOptionMass: distribution === undefined ? null : distribution.nonOptionMass,
    status: outcome.status === "invalid" ? "nonresponse" : outcome.status,
    reason: outcome.status === "answered" ? null : outcome.reason,
    transient: outcome.status === "nonresponse" && "transient" in outcome && outcome.transient === true,
    attempts,
    callId,
    runId: run.runId,
    createdAt: run.at,
  };
}

/** The re-ask after an invalid answer: the model's answer, then what was wrong with it. */
export function followUp(unit: PromptUnit, choice: CompletionChoice, reason: string): ChatMessage[] {
  return [
    { role: "assistant", content: choice.text },
    { role: "user", content: reaskMessage(unit.item, reason, unit.itemMode) },
  ];
}

export function invalidAfter(attempts: number, reason: string): { status: "nonresponse"; reason: string } {
  return {
    status: "nonresponse",
    reason: attempts === 1 ? `invalid answer: ${reason}` : `invalid after ${attempts} attempts: ${reason}`,
  };
}

export function toParsed(outcome: ParseOutcome): ParsedChoice {
  return outcome.status === "answered" ? { status: "answered", value: outcome.value } : { status: outcome.status, reason: outcome.reason };
}
