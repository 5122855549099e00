/** Options of `silicon estimate --real --synthetic` and what the file adapter learns about the files' layout. */
import type { SubgroupSpec } from "./domains.ts";

export interface ResponseFilesOptions {
  /** Real respondents: CSV, Parquet or SPSS .sav. */
  real: string;
  /** Synthetic answers, one row per respondent (per item, if long) per generation. */
  synthetic: string;
  /** Respondent id column, in both files. */
  id: string;
  /** Weight column of the real file; all 1 when omitted. */
  weight?: string;
  /** Items (wide: their columns); with `long`, a filter on the item column. */
  items?: readonly string[];
  /** Item and value columns of long files. */
  long?: { item: string; value: string };
  /** Long synthetic files: rows with this column set give the probability of that answer option. */
  distribution?: string;
  /** Subgroup specs (their columns are read from either file). */
  by?: readonly SubgroupSpec[];
  /** Generation column of the synthetic file. */
  generation?: string;
  /** Model column of the synthetic file. */
  model?: string;
  /** Wave column: in the real file, and in the synthetic file too when ids repeat across waves. */
  group?: string;
  /** Choice items estimated as proportions per option. */
  perOption?: readonly string[];
}

export interface Layout {
  realLong: boolean;
  /** The synthetic file has the wave column: match on (wave, id). */
  synWave: boolean;
}

export function subgroupColumns(o: ResponseFilesOptions): string[] {
  return [...new Set((o.by ?? []).flatMap((spec) => spec.columns))];
}
