/** The `answers` table: at most one row per (model, wave, respondent, item, generation) cell. */
import type { DatabaseSync } from "node:sqlite";
import { keyAsText, keyToStore, timeFromStore, timeToStore, type StoreTime } from "./encoding.ts";
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
  createdAt: StoreTime;
}

/**
 * Every stored answer as planning and the report read it, one array per
 * row: [model, wave, respondent, item (ids into `names`), generation, cell
 * key, status (an index into ANSWER_STATUSES), value, distribution,
 * transient (1 or 0)], ordered by model, wave, respondent, item, generation.
 */
export interface AnswerCells {
  names: string[];
  rows: unknown[][];
}

/** The cells of `cells` by `cellId`, as planning looks them up (also what `states` returns, from its own lighter query). */
export function cellStatesOf({ names, rows }: AnswerCells): Map<string, StoredCellState> {
  const map = new Map<string, StoredCellState>();
  for (const row of rows) {
    const id = cellId(names[row[0] as number]!, names[row[1] as number]!, names[row[2] as number]!, names[row[3] as number]!, row[4] as number);
    map.set(id, { cellKey: row[5] as string, transient: row[9] === 1 });
  }
  return map;
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
  // The columns of `current` that planning reads, at the same places (the others NULL), so that `cellStatesOf` decodes both.
  const states = db.prepare(`SELECT model_id, wave_id, respondent_id, item_id, generation, ${keyAsText("cell_key")}, NULL, NULL, NULL, transient FROM answer_records`);
  // Rows as arrays, all at once, names as ids: node:sqlite reads them markedly
  // faster so than as objects, one by one (iterate), or with four strings made for each.
  states.setReturnArrays(true);
  // Both read in the table's order and are put in the order of the names here (sortByNames).
  const all = db.prepare(`SELECT model_id, wave_id, respondent_id, item_id, generation, ${keyAsText("cell_key")}, value, distribution, non_option_mass,
      status, reason, transient, attempts, call_id, run_id, created_at FROM answer_records`);
  all.setReturnArrays(true);
  const current = db.prepare(`SELECT model_id, wave_id, respondent_id, item_id, generation, ${keyAsText("cell_key")}, status, value, distribution,
      transient FROM answer_records`);
  current.setReturnArrays(true);
  const nameOrder = db.prepare("SELECT id FROM names ORDER BY name");
  nameOrder.setReturnArrays(true);
  const inNameOrder = (rows: unknown[][]) => sortByNames(rows, (nameOrder.all() as unknown as [number][]).map(([id]) => id));

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
      // Rows first, then names: names only grow, so every id a row holds is named (a writer may commit in between).
      const rows = states.all() as unknown as unknown[][];
      return cellStatesOf({ names: names.byId(), rows });
    },

    /** Every stored answer, ordered by model, wave, respondent, item, generation. */
    *all(): Generator<AnswerRow> {
      const rows = inNameOrder(all.all() as unknown as unknown[][]);
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

    /** What planning and the report need of every stored answer (see AnswerCells), in the order of `all`. */
    current(): AnswerCells {
      const rows = inNameOrder(current.all() as unknown as unknown[][]); // before the names, as in `states`
      return { names: names.byId(), rows };
    },
  };
}

/**
 * Rows whose first five columns are model, wave, respondent and item ids and
 * the generation, ordered by model, wave, respondent and item name (as
 * SQLite orders text: `byName` lists the ids in that order), then generation.
 * Sorting here takes half the time of an ORDER BY joining the names in SQLite.
 */
function sortByNames(rows: unknown[][], byName: number[]): unknown[][] {
  const rank = new Float64Array(byName.reduce((max, id) => Math.max(max, id), 0) + 1);
  byName.forEach((id, position) => (rank[id] = position));
  const n = rows.length;
  const modelWave = new Float64Array(n);
  const respondent = new Float64Array(n);
  const item = new Float64Array(n);
  const generation = new Float64Array(n);
  rows.forEach((row, j) => {
    modelWave[j] = rank[row[0] as number]! * byName.length + rank[row[1] as number]!;
    respondent[j] = rank[row[2] as number]!;
    item[j] = rank[row[3] as number]!;
    generation[j] = row[4] as number;
  });
  const order = Uint32Array.from(rows.keys());
  order.sort((a, b) => modelWave[a]! - modelWave[b]! || respondent[a]! - respondent[b]! || item[a]! - item[b]! || generation[a]! - generation[b]!);
  return Array.from(order, (j) => rows[j]!);
}

export type AnswerStatements = ReturnType<typeof prepareAnswers>;
