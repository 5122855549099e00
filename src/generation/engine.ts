/**
 * The engine: runs a plan's jobs against the providers, through the one
 * place that knows about concurrency, rate limits, retries, money and the
 * store. A job is one item asked of one respondent (with its re-asks after
 * invalid answers) or one respondent's questionnaire as a conversation; each
 * of its requests lives through call.ts (plan → reserve budget → record
 * intent → send → record outcome).
 *
 * Requests go out one by one through each model's router (router.ts,
 * fleet.ts), or, in a batch run, through the batcher (batch.ts), which
 * gathers them into vendor batches at half price: the same jobs, re-asks,
 * retries and store writes either way.
 */
import type { ChatMessage, CompletionChoice } from "../providers/types.ts";
import type { AnswerRow } from "../store/answers.ts";
import type { CachedRequest, ParsedChoice } from "../store/calls.ts";
import { crashPoint } from "../util/crash-points.ts";
import { followUp, invalidAfter, readChoice, toParsed } from "./answer-rows.ts";
import { CallLife } from "./call.ts";
import { CompletedLookup } from "./completed-lookup.ts";
import type { Ask, EngineOptions, EngineTotals, RunControl, StopReason } from "./engine-types.ts";
import type { ConversationJob, ItemJob, Job } from "./plan.ts";
import { reaskMessage } from "./prompt.ts";
import { unitCachedRequest, unitRequestKey } from "./request.ts";
import { Tally } from "./tally.ts";

export type { Ask, BatchOutcome, BatchSender, EngineOptions, EngineTotals, StopReason, WaitingCall } from "./engine-types.ts";

/** Jobs whose first requests are looked up in the store together. */
const LOOKUP_AHEAD = 500;

interface Reask {
  generation: number;
  attempt: number;
  followUp: ChatMessage[];
}

export class Engine implements RunControl {
  stopReason: StopReason | undefined;
  /** The error that stopped the run (bad key, bad request, a bug). */
  fatalError: unknown;

  private readonly options: EngineOptions;
  private readonly stopper = new AbortController();
  private readonly tally: Tally;
  private readonly completed: CompletedLookup;
  private readonly calls: CallLife;
  /** The first request key of the jobs looked up ahead and not started yet. */
  private readonly firstKeys = new Map<Job, string>();

  constructor(options: EngineOptions) {
    this.options = options;
    this.tally = new Tally(options.onProgress);
    this.completed = new CompletedLookup(options.store);
    this.calls = new CallLife(options, this, this.tally, this.completed);
    options.stopSignal?.addEventListener("abort", () => this.stop("stopped"), { once: true });
    if (options.stopSignal?.aborted) this.stop("stopped");
  }

  get totals(): EngineTotals {
    return this.calls.settledTotals();
  }

  get signal(): AbortSignal {
    return this.stopper.signal;
  }

  stopped(): boolean {
    return this.stopReason !== undefined;
  }

  /**
   * Runs the jobs, at most twice `concurrency.max` at once (`batchJobs` in a
   * batch run), until done or stopped. Twice: a job holds a concurrency slot
   * only while its request is out, and hands it on once its outcome is queued
   * for the store (call.ts, handOn); the job that takes it over must already
   * be waiting, or the next intent cannot share the outcome's commit.
   */
  async run(jobs: Job[]): Promise<void> {
    const active = new Set<Promise<void>>();
    const cap = this.options.batcher !== undefined ? (this.options.batchJobs ?? 200_000) : 2 * this.options.concurrency.max;
    for (const [index, job] of jobs.entries()) {
      if (this.stopped()) break;
      if (index % LOOKUP_AHEAD === 0) this.lookAhead(jobs.slice(index, index + LOOKUP_AHEAD));
      while (active.size >= cap) await Promise.race(active);
      if (this.stopped()) break;
      const task: Promise<void> = (job.kind === "conversation" ? this.askConversation(job) : this.askItem(job))
        .catch((error: unknown) => this.fail(error))
        .finally(() => active.delete(task));
      active.add(task);
    }
    await Promise.all(active);
  }

  /** The next jobs' first requests, looked up in the store in one query; their keys kept for their asks. */
  private lookAhead(next: Job[]): void {
    this.firstKeys.clear();
    const requests = next.map((job) => {
      const first = firstRequest(job);
      this.firstKeys.set(job, first.key);
      return first;
    });
    this.completed.prefetch(requests);
  }

  /** The key of a job's first request if it was looked up ahead (computed once). */
  private firstKey(job: Job): { key?: string } {
    const key = this.firstKeys.get(job);
    return key === undefined ? {} : { key };
  }

  stop(reason: StopReason): void {
    if (this.stopReason === undefined) this.stopReason = reason;
    if (!this.stopper.signal.aborted) this.stopper.abort(new Error(`generation ${reason}`));
  }

  /** Stops the run with an error no retry can fix (a rejected key, a batch API that refuses, the store). */
  fail(error: unknown): void {
    if (this.fatalError === undefined) this.fatalError = error;
    this.stop("failed");
    this.options.batcher?.release();
  }

  /** An item job: one request for its n generations, then re-asks of the invalid ones. */
  private async askItem(job: ItemJob): Promise<void> {
    const pending = new Set(job.pending);
    const reasks: Reask[] = [];
    const maxAttempts = this.options.study.study.max_attempts;
    const first: Ask = {
      model: job.model,
      unit: job,
      cellKey: (g) => job.cellKeys[g - job.firstGeneration]!,
      generation: job.firstGeneration,
      n: job.n,
      attempt: 1,
      messages: [{ role: "user", content: job.user }],
      generations: job.pending,
      conversation: false,
      ...this.firstKey(job),
    };
    const result = await this.calls.ask(first, (choices, callId) => {
      const answers: AnswerRow[] = [];
      const parsed: ParsedChoice[] = [];
      for (let i = 0; i < job.n; i++) {
        const generation = job.firstGeneration + i;
        const choice = choices[i];
        const outcome = this.read(job, choice);
        if (choice !== undefined) parsed.push(toParsed(outcome));
        if (!pending.has(generation)) continue;
        if (outcome.status !== "invalid") answers.push(this.calls.answerRow(first, generation, outcome, 1, callId));
        // Fewer choices than n: ask that generation on its own (a different request).
        else if (choice === undefined && job.n > 1) reasks.push({ generation, attempt: 1, followUp: [] });
        else if (choice === undefined || maxAttempts <= 1) answers.push(this.calls.answerRow(first, generation, invalidAfter(1, outcome.reason), 1, callId));
        else reasks.push({ generation, attempt: 2, followUp: followUp(job, choice, outcome.reason) });
      }
      return { answers, parsed };
    });
    if (result.kind !== "response") return;
    await Promise.all(reasks.map((reask) => this.reaskChain(first, reask)));
  }

  /** Re-asks one generation after an invalid answer, up to the study's max_attempts in all. */
  private async reaskChain(first: Ask, start: Reask): Promise<void> {
    const maxAttempts = this.options.study.study.max_attempts;
    const unit = first.unit;
    let current: Reask | undefined = start;
    while (current !== undefined) {
      // An invalid answer is stored (with its call); the re-ask is not sent yet.
      crashPoint("between-reasks");
      const { generation, attempt, followUp: messages } = current;
      let next: Reask | undefined;
      const { key: _firstKey, ...base } = first; // a re-ask is another request, with a key of its own
      const ask: Ask = { ...base, generation, n: 1, attempt, messages: [first.messages[0]!, ...messages], generations: [generation] };
      const result = await this.calls.ask(ask, (choices, callId) => {
        const choice = choices[0];
        const outcome = this.read(unit, choice);
        const parsed = choice === undefined ? [] : [toParsed(outcome)];
        if (outcome.status !== "invalid") return { answers: [this.calls.answerRow(ask, generation, outcome, attempt, callId)], parsed };
        if (attempt >= maxAttempts || choice === undefined) {
          return { answers: [this.calls.answerRow(ask, generation, invalidAfter(attempt, outcome.reason), attempt, callId)], parsed };
        }
        next = { generation, attempt: attempt + 1, followUp: [...messages, ...followUp(unit, choice, outcome.reason)] };
        return { answers: [], parsed };
      });
      current = result.kind === "response" ? next : undefined;
    }
  }

  /**
   * A questionnaire: the respondent's items in turn, in one conversation, each
   * question after the model's earlier answers (re-asks included). Turns
   * already answered are replayed from the store, so a resumed conversation
   * continues exactly where it stopped.
   */
  private async askConversation(job: ConversationJob): Promise<void> {
    const messages: ChatMessage[] = [];
    for (let t = 0; t < job.turns.length; t++) {
      messages.push({ role: "user", content: job.turns[t]!.user });
      const asked = await this.askTurn(job, t, messages);
      if (!asked) return;
    }
  }

  /** One turn of a questionnaire, re-asked until valid; false when the conversation cannot go on. */
  private async askTurn(job: ConversationJob, t: number, messages: ChatMessage[]): Promise<boolean> {
    const maxAttempts = this.options.study.study.max_attempts;
    const unit = job.turns[t]!;
    const pending = job.pending[t]!;
    const g = job.generation;
    for (let attempt = 1; ; attempt++) {
      let reply: CompletionChoice | undefined;
      let again: string | undefined;
      const ask: Ask = {
        model: job.model,
        unit,
        cellKey: () => job.cellKeys[t]!,
        generation: g,
        n: 1,
        attempt,
        messages: [...messages],
        generations: pending ? [g] : [],
        conversation: true,
        ...(t === 0 && attempt === 1 ? this.firstKey(job) : {}),
      };
      const result = await this.calls.ask(ask, (choices, callId) => {
        reply = choices[0];
        const outcome = this.read(unit, reply);
        const parsed = reply === undefined ? [] : [toParsed(outcome)];
        if (outcome.status === "invalid" && attempt < maxAttempts && reply !== undefined) {
          again = outcome.reason;
          return { answers: [], parsed };
        }
        const final = outcome.status === "invalid" ? invalidAfter(attempt, outcome.reason) : outcome;
        return { answers: pending ? [this.calls.answerRow(ask, g, final, attempt, callId)] : [], parsed };
      });
      if (result.kind === "failed") await this.abandonLaterTurns(job, t, ask);
      if (result.kind !== "response") return false;
      messages.push({ role: "assistant", content: reply?.text ?? "" });
      if (again === undefined) return true;
      messages.push({ role: "user", content: reaskMessage(unit.item, again, unit.itemMode) });
    }
  }

  /** Later questions follow answers the vendor never gave: nonresponse for now; a later run asks them again. */
  private async abandonLaterTurns(job: ConversationJob, t: number, ask: Ask): Promise<void> {
    const rows = job.turns
      .map((later, i) => ({ later, i }))
      .filter(({ i }) => i > t && job.pending[i]!)
      .map(({ later, i }) =>
        this.calls.answerRow(
          { ...ask, unit: later, cellKey: () => job.cellKeys[i]! },
          job.generation,
          { status: "nonresponse", reason: "vendor failure on an earlier question of the questionnaire", transient: true },
          0,
          null,
        ),
      );
    await this.options.store.commitAnswers(rows);
    this.tally.answers(rows);
  }

  private read(unit: Ask["unit"], choice: CompletionChoice | undefined) {
    return readChoice(unit, choice, this.options.study.study.temperature);
  }
}

/** A job's first request, known before anything is sent (what is asked later depends on answers). */
function firstRequest(job: Job): CachedRequest {
  if (job.kind === "item") return unitCachedRequest(job, job.model, unitRequestKey(job, job.model, job.firstGeneration, job.n));
  const unit = job.turns[0]!;
  return unitCachedRequest(unit, job.model, unitRequestKey(unit, job.model, job.generation, 1));
}
