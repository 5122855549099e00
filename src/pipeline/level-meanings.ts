/**
 * What a derived subgroup's level means in a wave, read off the frame: when
 * every respondent of "Co-partisan" in w2024 has party Democrat, the report
 * can say so, and a reader looking for Democrats' approval finds it. Only
 * the frame columns the derived expression names are looked at, and a level
 * gets a meaning only when all its respondents share one value of such a
 * column (a meaning is a fact about this frame, never a guess).
 */
import type { LoadedStudy } from "../config/load.ts";

/** wave id → level → "party Democrat". */
export type LevelMeanings = Record<string, Record<string, string>>;

export function levelMeanings(study: LoadedStudy): LevelMeanings {
  const expressions = Object.entries(study.study.estimands?.derived ?? {});
  const out: LevelMeanings = {};
  study.waves.forEach(({ wave, frame }, w) => {
    const derived = study.analysis.derived[w] ?? {};
    const meanings: Record<string, string> = {};
    for (const [name, expression] of expressions) {
      const values = derived[name];
      if (values === undefined) continue;
      const columns = frame.columnNames.filter((c) => c !== name && new RegExp(`\\b${escapeRegExp(c)}\\b`).test(String(expression)));
      for (const level of new Set(values.filter((v): v is string => v !== null))) {
        for (const column of columns) {
          const meaning = sharedValue(values, level, frame.labelled(column));
          if (meaning === undefined) continue;
          if (meaning !== level) meanings[level] = `${column} ${meaning}`;
          break;
        }
      }
    }
    if (Object.keys(meanings).length > 0) out[wave.id] = meanings;
  });
  return out;
}

/** The one value `column` takes among the respondents of `level`, or undefined when they differ. */
function sharedValue(levels: readonly (string | null)[], level: string, column: readonly unknown[]): string | undefined {
  let shared: string | undefined;
  for (let i = 0; i < levels.length; i++) {
    if (levels[i] !== level) continue;
    const value = column[i];
    if (value === null || value === undefined) return undefined;
    const text = String(value);
    if (shared === undefined) shared = text;
    else if (shared !== text) return undefined;
  }
  return shared;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
