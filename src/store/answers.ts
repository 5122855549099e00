/** The `answers` table: at most one row per (model, wave, respondent, item, generation) cell. */
import type { DatabaseSync } from "node:sqlite";
import { keyAsText, keyToStore, timeFromStore, timeToStore } from "./encoding.ts";
import { prepareNames, type NameStatements } from "./names.ts";

export type AnswerStatus = "answered" | "nonresponse" | "refusal";

/** How a status is stored in answer_records: its index here (the view `answers` shows the words). */
export const ANSWER_STATUSES: readonly AnswerStatus[] = ["answered", "nonresponse", "refusal"];

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

export function prepareAnswers(db: DatabaseSync, names: NameStatements = prepareNames(db)) {
  const upsert = db.prepare(`INSERT OR REPLACE INTO answer_records (model_id, wave_id, respondent_id, item_id, generation, cell_key,
      value, distribution, non_option_mass, status, reason, transient, attempts, call_id, run_id, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const states = db.prepare(`SELECT model_id, wave_id, respondent_id, item_id, generation, ${keyAsText("cell_key")}, transient FROM answer_records`);
  // Rows as arrays, all at once, names as ids: node:sqlite reads them markedly
  // faster so than as objects, one by one (iterate), or with four strings made for each.
  states.setReturnArrays(true);
  const all = db.prepare(`SELECT a.model_id, a.wave_id, a.respondent_id, a.item_id, a.generation, ${keyAsText("a.cell_key")}, a.value, a.distribution, a.non_option_mass,
      a.status, a.reason, a.transient, a.attempts, a.call_id, a.run_id, a.created_at
    FROM answer_records a ${NAMES_JOIN} ORDER BY m.name, w.name, r.name, i.name, a.generation`);
  all.setReturnArrays(true);
  const current = db.prepare(`SELECT a.model_id, a.wave_id, a.respondent_id, a.item_id, a.generation, ${keyAsText("a.cell_key")}, a.status,
      a.value, a.distribution
    FROM answer_records a ${NAMES_JOIN} ORDER BY m.name, w.name, r.name, i.name, a.generation`);
  current.setReturnArrays(true);

  return {
    upsert(row: AnswerRow): void {
      upsert.run(
        names.idOf(row.model),
        names.idOf(row.wave),
        names.idOf(row.respondent),
        names.idOf(row.item),
        row.generation,
        keyToStore(row.cellKey),
        row.value,
        row.distribution,
        row.nonOptionMass ?? null,
        ANSWER_STATUSES.indexOf(row.status),
        row.reason,
        row.transient ? 1 : 0,
        row.attempts,
        row.callId,
        row.runId,
        timeToStore(row.createdAt),
      );
    },

    /** Every stored cell by `cellId`, for planning what is left to ask. */
    states(): Map<string, StoredCellState> {
      const name = names.byId();
      const map = new Map<string, StoredCellState>();
      for (const row of states.all() as unknown as unknown[][]) {
        const id = cellId(name[row[0] as number]!, name[row[1] as number]!, name[row[2] as number]!, name[row[3] as number]!, row[4] as number);
        map.set(id, { cellKey: row[5] as string, transient: row[6] === 1 });
      }
      return map;
    },

    /** Every stored answer, ordered by model, wave, respondent, item, generation. */
    *all(): Generator<AnswerRow> {
      const rows = all.all() as unknown as unknown[][];
      const name = names.byId();
      for (const row of rows) {
        yield {
          model: name[row[0] as number]!,
          wave: name[row[1] as number]!,
          respondent: name[row[2] as number]!,
          item: name[row[3] as number]!,
          generation: row[4] as number,
          cellKey: row[5] as string,
          value: row[6] as number | null,
          distribution: row[7] as string | null,
          nonOptionMass: row[8] as number | null,
          status: ANSWER_STATUSES[row[9] as number]!,
          reason: row[10] as string | null,
          transient: row[11] === 1,
          attempts: row[12] as number,
          callId: row[13] as number | null,
          runId: row[14] as number,
          createdAt: timeFromStore(row[15]),
        };
      }
    },

    /**
     * What the estimates need of every stored answer, in the order of `all`,
     * one array per row: [model, wave, respondent, item (ids into `names`),
     * generation, cell key, status (an index into ANSWER_STATUSES), value,
     * distribution].
     */
    current(): { names: string[]; rows: unknown[][] } {
      return { names: names.byId(), rows: current.all() as unknown as unknown[][] };
    },
  };
}

const NAMES_JOIN = `JOIN names m ON m.id = a.model_id JOIN names w ON w.id = a.wave_id
  JOIN names r ON r.id = a.respondent_id JOIN names i ON i.id = a.item_id`;

export type AnswerStatements = ReturnType<typeof prepareAnswers>;
