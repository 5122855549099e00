/** The `answers` table: at most one row per (model, wave, respondent, item, generation) cell. */
import type { DatabaseSync } from "node:sqlite";

export type AnswerStatus = "answered" | "nonresponse" | "refusal";

export interface AnswerRow {
  model: string;
  wave: string;
  respondent: string;
  item: string;
  generation: number;
  cellKey: string;
  value: number | null;
  /**
   * JSON {code: probability}, for distribution elicitation (logprobs): the
   * answer's exact distribution over the option codes, summing to 1. `value`
   * then holds its expected value Σ code·p (what a mean estimand uses).
   */
  distribution: string | null;
  /** logprobs elicitation: probability the model put on tokens that are not options (before renormalising). */
  nonOptionMass?: number | null;
  status: AnswerStatus;
  reason: string | null;
  /** Nonresponse after transient vendor failures: a later run asks again. */
  transient: boolean;
  attempts: number;
  callId: number | null;
  runId: number;
  createdAt: string;
}

/** What planning needs to know about a stored cell. */
export interface StoredCellState {
  cellKey: string;
  transient: boolean;
}

export function cellId(model: string, wave: string, respondent: string, item: string, generation: number): string {
  return `${model}\u0000${wave}\u0000${respondent}\u0000${item}\u0000${generation}`;
}

export function prepareAnswers(db: DatabaseSync) {
  const upsert = db.prepare(`INSERT OR REPLACE INTO answers (model, wave, respondent, item, generation, cell_key,
      value, distribution, non_option_mass, status, reason, transient, attempts, call_id, run_id, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const states = db.prepare("SELECT model, wave, respondent, item, generation, cell_key, transient FROM answers");
  const all = db.prepare(`SELECT model, wave, respondent, item, generation, cell_key, value, distribution, non_option_mass, status,
      reason, transient, attempts, call_id, run_id, created_at FROM answers
    ORDER BY model, wave, respondent, item, generation`);

  return {
    upsert(row: AnswerRow): void {
      upsert.run(
        row.model,
        row.wave,
        row.respondent,
        row.item,
        row.generation,
        row.cellKey,
        row.value,
        row.distribution,
        row.nonOptionMass ?? null,
        row.status,
        row.reason,
        row.transient ? 1 : 0,
        row.attempts,
        row.callId,
        row.runId,
        row.createdAt,
      );
    },

    /** Every stored cell by `cellId`, for planning what is left to ask. */
    states(): Map<string, StoredCellState> {
      const map = new Map<string, StoredCellState>();
      for (const row of states.iterate() as Iterable<Record<string, string | number>>) {
        map.set(cellId(String(row.model), String(row.wave), String(row.respondent), String(row.item), Number(row.generation)), {
          cellKey: String(row.cell_key),
          transient: row.transient === 1,
        });
      }
      return map;
    },

    /** Every stored answer, ordered by model, wave, respondent, item, generation. */
    *all(): Generator<AnswerRow> {
      for (const row of all.iterate() as Iterable<Record<string, string | number | null>>) {
        yield {
          model: String(row.model),
          wave: String(row.wave),
          respondent: String(row.respondent),
          item: String(row.item),
          generation: Number(row.generation),
          cellKey: String(row.cell_key),
          value: row.value === null ? null : Number(row.value),
          distribution: row.distribution === null ? null : String(row.distribution),
          nonOptionMass: row.non_option_mass === null ? null : Number(row.non_option_mass),
          status: row.status as AnswerStatus,
          reason: row.reason === null ? null : String(row.reason),
          transient: row.transient === 1,
          attempts: Number(row.attempts),
          callId: row.call_id === null ? null : Number(row.call_id),
          runId: Number(row.run_id),
          createdAt: String(row.created_at),
        };
      }
    },
  };
}

export type AnswerStatements = ReturnType<typeof prepareAnswers>;
