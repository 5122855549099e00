/**
 * Simulated respondent frames: survey samples from the population model with
 * real answers drawn from the population's answer distributions (wave shocks
 * included). Used for the example study, the demo and tests; the frames look
 * like what a user brings (id, weight, demographics as labels, one column per
 * item) and load with loadFrame like any other.
 */
import { join } from "node:path";
import { csvText } from "../util/csv-text.ts";
import { parquetWriteBuffer } from "hyparquet-writer";
import type { SurveyItem } from "../config/schema.ts";
import { answerColumn } from "../config/frame.ts";
import type { Cell, DataTable } from "../tables/types.ts";
import { OutputSet, writeFileAtomic } from "../util/atomic-write.ts";
import { sample } from "./distribution.ts";
import { drawSample, type SampledPerson } from "./population.ts";
import { createRng, uniformFromKey } from "./random.ts";
import { populationDistribution, presidentParty } from "./respondent.ts";

export interface WaveSpec {
  id: string;
  /** Respondents in this wave. */
  size: number;
  role: "historical" | "target";
  /**
   * Wave context; `president_party` drives co-partisan effects (e.g. approval)
   * and adds a `copartisan` column: Co-partisan, Opposition or Independent.
   */
  context: Record<string, unknown>;
  /** Include real answer columns; default: only for historical waves. */
  answers?: boolean;
}

export interface PopulationOptions {
  seed: number;
  items: SurveyItem[];
  waves: WaveSpec[];
  /**
   * `cross-section` (ANES-like): fresh respondents each wave, ids `<wave>-0001`.
   * `panel` (Pew ATP-like): one panel of panelists `P00001`…, each wave a subsample of it.
   */
  design?: "cross-section" | "panel";
  /** Share of real answers left missing (item nonresponse); default 0.02. */
  itemNonresponse?: number;
}

export interface GeneratedWave {
  spec: WaveSpec;
  table: DataTable;
}

export interface PopulationFrames {
  waves: GeneratedWave[];
  /** Writes `<dir>/<wave id>.<csv|parquet>` atomically, all or nothing; returns the paths. */
  write(dir: string, format?: "csv" | "parquet"): Promise<string[]>;
}

export const PROFILE_COLUMNS = ["party", "region", "age", "education", "gender", "race"] as const;

export function generatePopulationFrames(options: PopulationOptions): PopulationFrames {
  const design = options.design ?? "cross-section";
  const nonresponse = options.itemNonresponse ?? 0.02;
  const rng = createRng(`population|${options.seed}|${design}`);
  const panelSize = Math.ceil(Math.max(...options.waves.map((w) => w.size)) * 1.4);
  const panel = design === "panel" ? drawSample(rng, panelSize) : [];

  const waves = options.waves.map((spec): GeneratedWave => {
    let people: SampledPerson[];
    let ids: string[];
    if (design === "panel") {
      const chosen = createRng(`panel-wave|${options.seed}|${spec.id}`).sample(panel.length, Math.min(spec.size, panel.length)).sort((a, b) => a - b);
      const mean = chosen.reduce((s, i) => s + panel[i]!.weight, 0) / chosen.length;
      people = chosen.map((i) => ({ ...panel[i]!, weight: panel[i]!.weight / mean }));
      ids = chosen.map((i) => `P${String(i + 1).padStart(5, "0")}`);
    } else {
      people = drawSample(createRng(`cross-section|${options.seed}|${spec.id}`), spec.size);
      ids = people.map((_, i) => `${spec.id}-${String(i + 1).padStart(4, "0")}`);
    }
    const columns: Record<string, Cell[]> = {
      id: ids,
      weight: people.map((p) => Math.round(p.weight * 10_000) / 10_000),
    };
    for (const name of PROFILE_COLUMNS) columns[name] = people.map((p) => p[name]);
    const president = presidentParty(spec.context);
    if (president !== undefined) {
      // The Pew design's subgroups: approval among co-partisans of the sitting president and among the opposition.
      columns["copartisan"] = people.map((p) =>
        p.party === "Independent" ? "Independent" : p.party === president ? "Co-partisan" : "Opposition",
      );
    }
    if (spec.answers ?? spec.role === "historical") {
      const wave = { id: spec.id, context: spec.context };
      for (const item of options.items) {
        columns[answerColumn(item)] = people.map((person, r) => {
          const key = `real|${options.seed}|${spec.id}|${ids[r]}|${item.id}`;
          if (uniformFromKey(`${key}|missing`) < nonresponse) return null;
          return sample(populationDistribution(item, profileOf(person), wave), uniformFromKey(key));
        });
      }
    }
    const columnNames = Object.keys(columns);
    return {
      spec,
      table: { source: spec.id, format: "csv", columnNames, numRows: people.length, columns, valueLabels: {} },
    };
  });

  return {
    waves,
    write: (dir, format = "csv") =>
      OutputSet.write((out) =>
        waves.map(({ spec, table }) => {
          const path = join(dir, `${spec.id}.${format}`);
          out.stage(path, format === "csv" ? tableToCsv(table) : tableToParquet(table));
          return path;
        }),
      ),
  };
}

function profileOf(person: SampledPerson): Record<string, Cell> {
  return { party: person.party, region: person.region, age: person.age, education: person.education, gender: person.gender, race: person.race };
}

/** A table as CSV text (header row; missing cells empty). */
export function tableToCsv(table: DataTable): string {
  const rows: Cell[][] = [];
  for (let r = 0; r < table.numRows; r++) rows.push(table.columnNames.map((name) => table.columns[name]![r] ?? null));
  return csvText(table.columnNames, rows);
}

/** A table as a Parquet file: numeric columns DOUBLE, others STRING, nulls kept. */
export function tableToParquet(table: DataTable): Uint8Array {
  const columnData = table.columnNames.map((name) => {
    const data = table.columns[name]!;
    const numeric = data.every((v) => v === null || typeof v === "number");
    return numeric
      ? { name, data: data as (number | null)[], type: "DOUBLE" as const, nullable: true }
      : { name, data: data.map((v) => (v === null ? null : String(v))), type: "STRING" as const, nullable: true };
  });
  return new Uint8Array(parquetWriteBuffer({ columnData }));
}

/** Writes one table (tests, scripts); CSV or Parquet by extension. */
export function writeTable(path: string, table: DataTable): void {
  writeFileAtomic(path, path.endsWith(".parquet") ? tableToParquet(table) : tableToCsv(table));
}
