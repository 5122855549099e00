/**
 * Exchangeability diagnostics on a tasks table's history, per model and
 * coordinate (each calibration pool): a trend of the mean gap across waves
 * and heterogeneity of the gaps between waves (and, when asked, between the
 * values of another column such as item). The tests are in
 * src/inference/exchangeability.ts; this module runs them on table rows,
 * holds the family-wise false-alarm rate at DIAGNOSTIC_LEVEL by Bonferroni
 * over every test it runs, and words the warnings: direction and size, p,
 * and what to do.
 */
import { heterogeneityTest, trendTest, type HeterogeneityTest, type TrendTest } from "../inference/exchangeability.ts";
import { attributeOf, compareGroups, gapOf, hasColumn, type TaskRecord } from "../inference/task-record.ts";
import { createRng } from "../simulation/random.ts";

/** Family-wise false-alarm rate of one set of diagnostics. */
export const DIAGNOSTIC_LEVEL = 0.05;
export const DIAGNOSTIC_PERMUTATIONS = 999;
const DIAGNOSTIC_SEED = 20240601;

export interface PoolDiagnostics {
  model: string;
  coord: string;
  /** Values of the `by` columns, when given. */
  by?: Record<string, string>;
  tasks: number;
  trend?: TrendTest & { flagged: boolean };
  /** By column (group: the waves). */
  heterogeneity: Record<string, HeterogeneityTest & { flagged: boolean; labels: string[] }>;
}

export interface ExchangeabilityDiagnostics {
  /** Family-wise false-alarm rate, and the level of each test after Bonferroni. */
  level: number;
  tests: number;
  per_test_level: number;
  method: string;
  pools: PoolDiagnostics[];
  /** One per flagged test: direction, size, p, and a remedy. */
  warnings: string[];
}

export interface DiagnosticsOptions {
  /** Columns to test heterogeneity between (default ["group"], the waves). */
  columns?: readonly string[];
  /** The scale of the estimates: [0, 1] reports sizes in percentage points. */
  range?: readonly [number, number] | null;
  /** Names the pool in warnings, e.g. with the kind of task. */
  prefix?: string;
  /** Further columns that split the tests (e.g. kind: gaps on different scales are never pooled). */
  by?: readonly string[];
  level?: number;
  permutations?: number;
  seed?: number;
}

export const DIAGNOSTIC_METHOD =
  "trend: least-squares slope of the per-wave mean gap on the wave's rank, Student t on W − 2 df (waves, not tasks, are the independent units); " +
  "heterogeneity: permutation test of the between-group sum of squares of the gaps, labels permuted among tasks of the same item and subgroup; " +
  "family-wise false-alarm rate held by Bonferroni over all tests";

export function exchangeabilityDiagnostics(history: readonly TaskRecord[], options: DiagnosticsOptions = {}): ExchangeabilityDiagnostics {
  const level = options.level ?? DIAGNOSTIC_LEVEL;
  const columns = options.columns ?? ["group"];
  const random = createRng(options.seed ?? DIAGNOSTIC_SEED).next;
  const pools = new Map<string, TaskRecord[]>();
  for (const row of history) {
    if (!Number.isFinite(gapOf(row))) continue;
    const key = [row.model, row.coord ?? "", ...(options.by ?? []).map((c) => attributeOf(row, c) ?? "")].join("\u001f");
    const list = pools.get(key);
    if (list === undefined) pools.set(key, [row]);
    else list.push(row);
  }
  const results: PoolDiagnostics[] = [];
  for (const rows of pools.values()) {
    const gaps = Float64Array.from(rows, gapOf);
    const out: PoolDiagnostics = { model: rows[0]!.model, coord: rows[0]!.coord ?? "", tasks: rows.length, heterogeneity: {} };
    if (options.by !== undefined && options.by.length > 0) out.by = Object.fromEntries(options.by.map((c) => [c, attributeOf(rows[0]!, c) ?? ""]));
    const waves = labelsOf(rows, "group");
    if (waves !== undefined) {
      const trend = trendTest(gaps, waves.index);
      if (trend !== undefined) out.trend = { ...trend, flagged: false };
    }
    const within = withinKey(rows);
    for (const column of columns) {
      const labels = labelsOf(rows, column);
      if (labels === undefined) continue;
      const test = heterogeneityTest(gaps, labels.index, random, {
        permutations: options.permutations ?? DIAGNOSTIC_PERMUTATIONS,
        // Items and subgroups are what a column other than the wave would be confounded with.
        ...(column === "group" && within !== undefined ? { within } : {}),
      });
      if (test !== undefined) out.heterogeneity[column] = { ...test, flagged: false, labels: labels.names };
    }
    results.push(out);
  }
  const tests = results.reduce((n, r) => n + (r.trend === undefined ? 0 : 1) + Object.keys(r.heterogeneity).length, 0);
  const perTest = tests === 0 ? level : level / tests;
  const warnings: string[] = [];
  const unit = unitOf(options.range);
  for (const r of results) {
    const who = `${options.prefix ?? ""}${describePool(r)}`;
    if (r.trend !== undefined && r.trend.p <= perTest) {
      r.trend.flagged = true;
      warnings.push(trendWarning(who, r.trend, unit));
    }
    for (const [column, test] of Object.entries(r.heterogeneity)) {
      if (test.p > perTest) continue;
      test.flagged = true;
      warnings.push(heterogeneityWarning(who, column, test, unit));
    }
  }
  return { level, tests, per_test_level: perTest, method: DIAGNOSTIC_METHOD, pools: results, warnings };
}

/** Each row's index among the column's distinct values in natural order; undefined unless every row has one and there are two or more. */
function labelsOf(rows: readonly TaskRecord[], column: string): { index: Int32Array; names: string[] } | undefined {
  const values = rows.map((r) => attributeOf(r, column));
  if (values.some((v) => v === undefined)) return undefined;
  const names = [...new Set(values as string[])].sort(compareGroups);
  if (names.length < 2) return undefined;
  const at = new Map(names.map((n, i) => [n, i]));
  return { index: Int32Array.from(values, (v) => at.get(v!)!), names };
}

/** item × subgroup as a stratum index, when every row has both (the same question asked of the same people each wave). */
function withinKey(rows: readonly TaskRecord[]): Int32Array | undefined {
  if (rows.some((r) => r.item === undefined)) return undefined;
  const keys = rows.map((r) => `${r.item}\u001f${r.subgroup ?? ""}`);
  const at = new Map([...new Set(keys)].map((k, i) => [k, i]));
  return Int32Array.from(keys, (k) => at.get(k)!);
}

function describePool(r: PoolDiagnostics): string {
  const parts = [r.model === "" ? "the tasks" : `model ${r.model}`];
  if (r.coord !== "") parts.push(`coordinate ${r.coord}`);
  for (const [column, value] of Object.entries(r.by ?? {})) parts.push(`${column} ${value}`);
  return parts.join(", ");
}

/** One line for a summary: what was tested and what it showed. */
export function diagnosticsSummary(d: ExchangeabilityDiagnostics): string {
  if (d.tests === 0) return "exchangeability diagnostics: not run (they need history in two or more waves)";
  const flagged = d.warnings.length;
  return (
    `exchangeability diagnostics (trend across waves, heterogeneity between groups; ${d.tests} test${d.tests === 1 ? "" : "s"}, ` +
    `family-wise false-alarm rate ${d.level}): ${flagged === 0 ? "nothing detected" : `${flagged} flagged, see the warnings`}`
  );
}

interface Unit {
  factor: number;
  name: string;
}

function unitOf(range: readonly [number, number] | null | undefined): Unit {
  if (range !== undefined && range !== null && range[0] === 0 && range[1] === 1) return { factor: 100, name: " points" };
  if (range !== undefined && range !== null) return { factor: 1, name: " points" };
  return { factor: 1, name: "" };
}

function size(value: number, unit: Unit): string {
  const scaled = Math.abs(value * unit.factor);
  return `${scaled >= 10 ? scaled.toFixed(0) : scaled >= 0.1 ? scaled.toFixed(1) : scaled.toPrecision(2)}${unit.name}`;
}

function signed(value: number, unit: Unit): string {
  return `${value < 0 ? "−" : "+"}${size(value, unit)}`;
}

export function formatP(p: number): string {
  return p < 0.001 ? "p < 0.001" : `p = ${p < 0.01 ? p.toFixed(3) : p.toFixed(2)}`;
}

function trendWarning(who: string, trend: TrendTest, unit: Unit): string {
  return (
    `${who}: the gap ${trend.slope > 0 ? "grows" : "falls"} ${size(trend.slope, unit)} a wave over ${trend.waves} waves (${formatP(trend.p)}): ` +
    `history may not be exchangeable with the target wave; consider --method alg2 --decay or chronological evaluation (--protocol chrono)`
  );
}

function heterogeneityWarning(who: string, column: string, test: HeterogeneityTest & { labels: string[] }, unit: Unit): string {
  let low = 0;
  let high = 0;
  test.means.forEach((m, g) => {
    if (m < test.means[low]!) low = g;
    if (m > test.means[high]!) high = g;
  });
  const spread = `mean gap from ${signed(test.means[low]!, unit)} in ${test.labels[low]} to ${signed(test.means[high]!, unit)} in ${test.labels[high]}`;
  if (column === "group") {
    return (
      `${who}: the gap differs between waves more than chance allows (${formatP(test.p)}; ${spread}): tasks of a wave share a shock, ` +
      `so leave-one-out overstates what a new wave will see; trust --protocol chrono or --protocol group`
    );
  }
  return (
    `${who}: the gap differs between values of ${column} more than chance allows (${formatP(test.p)}; ${spread}): ` +
    `a new ${column} is not like a random one of these; --protocol group --group-by ${column} shows what that costs`
  );
}

/** The diagnostics a tasks-table command runs: split by kind when the table has one (gaps on different scales are never pooled). */
export function tableDiagnostics(history: readonly TaskRecord[], range: readonly [number, number] | null | undefined, columns: readonly string[]): ExchangeabilityDiagnostics {
  const byKind = hasColumn(history, "kind");
  return exchangeabilityDiagnostics(history, {
    columns: [...new Set(["group", ...columns])],
    ...(byKind ? { by: ["kind"] } : { range: range ?? null }),
  });
}
