/**
 * The `names` table (store schema 4): each distinct study, model, wave,
 * respondent and item name once; calls and answers refer to it by id rather
 * than repeating the names in every row. Ids are remembered once looked up:
 * a study has few names, each used by thousands of rows.
 */
import type { DatabaseSync } from "node:sqlite";
import { onRollback } from "./db.ts";

export function prepareNames(db: DatabaseSync) {
  const find = db.prepare("SELECT id FROM names WHERE name = ?");
  const add = db.prepare("INSERT INTO names (name) VALUES (?)");
  const every = db.prepare("SELECT id, name FROM names");
  let known = new Map<string, number>();
  // A rolled-back insert's id is handed out again: what was remembered may be wrong.
  onRollback(db, () => (known = new Map()));
  const findId = (name: string): number | undefined => {
    const remembered = known.get(name);
    if (remembered !== undefined) return remembered;
    const row = find.get(name) as { id: number } | undefined;
    if (row !== undefined) known.set(name, row.id);
    return row?.id;
  };
  return {
    /** The id of `name`, added to the table if new (inside the caller's write transaction). */
    idOf(name: string): number {
      const stored = findId(name);
      if (stored !== undefined) return stored;
      const id = Number(add.run(name).lastInsertRowid);
      known.set(name, id);
      return id;
    },

    /** The id of `name` if it is stored (a read: nothing is added). */
    find: findId,

    /** Every name by id, as of now (for decoding rows read in bulk). */
    byId(): string[] {
      const names: string[] = [];
      for (const row of every.all() as { id: number; name: string }[]) names[row.id] = row.name;
      return names;
    },
  };
}

export type NameStatements = ReturnType<typeof prepareNames>;
