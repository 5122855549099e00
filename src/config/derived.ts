/**
 * Derived subgroup columns: arquero table expressions over a respondent row
 * and the wave's context, computed per wave, e.g. co-partisans of the
 * sitting president:
 *
 *   copartisan: "(d, ctx) => d.party === ctx.president_party ? 'Co-partisan' : d.party === 'Independent' ? 'Independent' : 'Opposition'"
 *
 * arquero parses the expression itself (no `eval` of arbitrary code: only
 * column references, the second parameter's keys, literals, operators and
 * arquero's `op` functions), so a study file cannot run code. Columns hold
 * SPSS labels where there are some; a column whose every value is a number is
 * numeric (`d.age < 30` compares numbers). Results are text; null, undefined,
 * NaN and "" are missing (the respondent is in no subgroup of that column).
 */
import { table, type ColumnTable } from "arquero";
import { InputError, type InputLocation } from "../errors.ts";
import type { Cell } from "../tables/types.ts";
import type { Frame } from "./frame.ts";
import type { Wave } from "./schema.ts";

export type SubgroupValues = (string | null)[];

/**
 * The frame as an arquero table: labelled values, numeric-looking columns as
 * numbers. With `mentioned`, only columns whose name occurs in that text (an
 * expression can only use a column it names; a 1,000-column ANES frame need
 * not be converted whole).
 */
export function frameTable(frame: Frame, mentioned?: string): ColumnTable {
  const columns: Record<string, Cell[]> = {};
  for (const name of frame.columnNames) {
    if (mentioned === undefined || mentioned.includes(name)) columns[name] = numericIfAll(frame.labelled(name));
  }
  if (Object.keys(columns).length === 0) columns[frame.columnNames[0]!] = frame.labelled(frame.columnNames[0]!);
  return table(columns);
}

function numericIfAll(cells: Cell[]): Cell[] {
  let numbers = 0;
  for (const cell of cells) {
    if (cell === null || (typeof cell === "string" && cell.trim() === "")) continue;
    if (typeof cell === "number") numbers += 1;
    else if (typeof cell === "string" && Number.isFinite(Number(cell))) numbers += 1;
    else return cells;
  }
  if (numbers === 0) return cells;
  return cells.map((cell) => (cell === null || (typeof cell === "string" && cell.trim() === "") ? null : Number(cell)));
}

/** A subgroup value as text; null for missing. */
export function subgroupText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "number" && Number.isNaN(value)) return null;
  const text = String(value);
  return text.trim() === "" ? null : text;
}

/**
 * Evaluates the derived columns on one wave's frame, in order (a derived
 * column may use an earlier one). The expression's second parameter holds
 * the wave's context plus `wave` (its id) and `date`, unless the context
 * defines those keys itself.
 */
export function deriveColumns(
  frame: Frame,
  wave: Wave,
  derived: Readonly<Record<string, string>>,
  where: (name: string) => InputLocation,
  base?: ColumnTable,
): Record<string, SubgroupValues> {
  const out: Record<string, SubgroupValues> = {};
  // Most studies derive nothing: don't build a table of every column of a wide (ANES-sized) frame for nothing.
  if (Object.keys(derived).length === 0) return out;
  const params: Record<string, unknown> = { wave: wave.id, ...(wave.date === undefined ? {} : { date: wave.date }), ...wave.context };
  let data = (base ?? frameTable(frame, Object.values(derived).join("\n"))).params(params);
  for (const [name, expression] of Object.entries(derived)) {
    if (frame.columnNames.includes(name)) {
      throw new InputError(where(name), `derived column "${name}" has the name of a column of ${frame.source} (wave "${wave.id}"): rename it`);
    }
    let values: unknown[];
    try {
      data = data.derive({ [name]: expression });
      values = data.array(name) as unknown[];
    } catch (error) {
      throw new InputError(where(name), expressionProblem(error, expression, frame, wave), { cause: error });
    }
    out[name] = values.map(subgroupText);
  }
  return out;
}

function expressionProblem(error: unknown, expression: string, frame: Frame, wave: Wave): string {
  const message = (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
  if (message.startsWith("Expression parse error")) {
    return `does not parse as an arquero expression: ${JSON.stringify(expression)}; write e.g. "(d, ctx) => d.party === ctx.president_party ? 'Co-partisan' : 'Opposition'"`;
  }
  if (message.startsWith("Invalid column reference")) {
    return `${message.replace("Invalid column reference", "unknown column")} in wave "${wave.id}"; ${frame.source} has: ${frame.columnNames.join(", ")}`;
  }
  if (message.startsWith("Invalid param reference")) {
    const keys = Object.keys(wave.context);
    return `${message.replace("Invalid param reference", "unknown context key")}: wave "${wave.id}" has context ${keys.length === 0 ? "no keys" : keys.join(", ")} (and wave, date)`;
  }
  if (message.startsWith("Invalid function call")) {
    return `${message}: only arquero's op functions may be called (e.g. op.lower(d.party))`;
  }
  return `cannot be evaluated in wave "${wave.id}": ${message}`;
}
