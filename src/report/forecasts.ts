/**
 * The forecasts themselves, first on the page: per target wave and model, a
 * table of every target task (question, subgroup, the calibrated estimate and
 * range, the naive range, n), grouped by question, sortable by the page's
 * small script, downloadable as CSV through a data URI (the page stays
 * self-contained). A vector task (approval among co-partisans and the
 * opposition) is one row listing both coordinates.
 */
import { toCsv } from "../cli/csv-output.ts";
import type { TaskRow } from "../config/tasks.ts";
import type { IntervalRow } from "../inference/calibrate.ts";
import type { KindAnalysis } from "../pipeline/analyze.ts";
import { formatRange, formatValue, shortLabel, subgroupLabel } from "./format.ts";
import { escapeXml } from "./svg.ts";

/** One coordinate of a forecast (the only one of a scalar task, coord ""). */
export interface ForecastCell {
  coord: string;
  target: TaskRow;
  /** Absent when the task's calibration was skipped (too little history). */
  interval?: IntervalRow;
}

export interface ForecastRow {
  kind: KindAnalysis;
  task: string;
  model: string;
  wave: string;
  item: string;
  subgroup: string;
  cells: ForecastCell[];
}

export interface QuestionText {
  id: string;
  text: string;
}

/** Every target task of every kind, one row per task and model (both coordinates of a vector task in one row). */
export function forecastRows(kinds: readonly KindAnalysis[]): ForecastRow[] {
  const rows = new Map<string, ForecastRow>();
  for (const kind of kinds) {
    const intervalOf = new Map(kind.intervals.map((i) => [key(i.model, i.task, i.coord), i]));
    for (const target of kind.targets) {
      const id = `${kind.kind.key}\u001f${key(target.model, target.task, "")}`;
      let row = rows.get(id);
      if (row === undefined) {
        row = { kind, task: target.task, model: target.model, wave: target.group ?? "", item: target.item ?? target.task, subgroup: target.subgroup ?? "", cells: [] };
        rows.set(id, row);
      }
      const interval = intervalOf.get(key(target.model, target.task, target.coord ?? ""));
      row.cells.push({ coord: target.coord ?? "", target, ...(interval === undefined ? {} : { interval }) });
    }
  }
  for (const row of rows.values()) row.cells.sort((a, b) => coordOrder(row.kind, a.coord) - coordOrder(row.kind, b.coord));
  return [...rows.values()];
}

function key(model: string, task: string, coord: string): string {
  return `${model}\u001f${task}\u001f${coord}`;
}

function coordOrder(kind: KindAnalysis, coord: string): number {
  return kind.kind.vector?.coords.indexOf(coord) ?? 0;
}

/** Rows by wave, then model, in the order first seen. */
export function byWaveAndModel(rows: readonly ForecastRow[]): { wave: string; model: string; rows: ForecastRow[] }[] {
  const out = new Map<string, { wave: string; model: string; rows: ForecastRow[] }>();
  for (const row of rows) {
    const id = `${row.wave}\u001f${row.model}`;
    let entry = out.get(id);
    if (entry === undefined) out.set(id, (entry = { wave: row.wave, model: row.model, rows: [] }));
    entry.rows.push(row);
  }
  return [...out.values()];
}

/** The forecasts table of one wave and model, grouped by question (one tbody each), with a CSV download. */
export function forecastTable(
  rows: readonly ForecastRow[],
  questions: readonly QuestionText[],
  confidence: number,
  file: string,
  meanings: Readonly<Record<string, string>> = {},
  pilotItems: ReadonlySet<string> = new Set(),
): string {
  const textOf = new Map(questions.map((q) => [q.id, q.text]));
  const withReal = rows.some((r) => r.cells.some((c) => c.target.real_est !== undefined));
  const percent = Math.round(confidence * 100);
  const headers = [
    ["question", "text"],
    ["subgroup", "text"],
    ["forecast", "number"],
    [`${percent}% range (calibrated)`, "number"],
    ["naive range (synthetic only)", "number"],
    ...(withReal ? [["real value (known afterwards)", "number"]] : []),
    ["n", "number"],
  ] as const;
  const head = headers
    .map(([label, type], i) => `<th scope="col" class="${i === 0 ? "question-col" : ""}${type === "number" ? " num" : ""}" aria-sort="none"><button type="button" class="sort" data-column="${i}" data-type="${type}">${escapeXml(label)}</button></th>`)
    .join("");
  const groups = groupByQuestion(rows).map(([item, group]) => {
    const text = textOf.get(item) ?? "";
    const pilot = pilotItems.has(item) ? ` <span class="pilot-note">(new question: its ranges are learned from the questions it is like)</span>` : "";
    const title = `<tr class="question-row"><th colspan="${headers.length}" scope="rowgroup"><span class="question-label">${escapeXml(shortLabel(item))}</span>${pilot}${text === "" ? "" : ` <span class="question-text">${escapeXml(text)}</span>`}</th></tr>`;
    return `<tbody>${title}${group.map((row) => forecastRow(row, text, withReal, meanings, percent)).join("")}</tbody>`;
  });
  const csv = forecastCsv(rows, questions, confidence);
  return (
    `<div class="table-tools"><a class="button" download="${escapeXml(file)}" href="data:text/csv;charset=utf-8,${encodeURIComponent(csv)}">Download this table as CSV</a>` +
    `<span class="hint">Click a column heading to sort; rows stay grouped by question.</span></div>` +
    `<div class="table-wrap"><table class="forecasts sortable"><thead><tr>${head}</tr></thead>${groups.join("")}</table></div>`
  );
}

function groupByQuestion(rows: readonly ForecastRow[]): [string, ForecastRow[]][] {
  const groups = new Map<string, ForecastRow[]>();
  for (const row of rows) {
    const id = row.kind.kind.vector === undefined ? row.item : `${row.item}\u001f${row.kind.kind.key}`;
    let group = groups.get(id);
    if (group === undefined) groups.set(id, (group = []));
    group.push(row);
  }
  return [...groups.values()].map((group) => [group[0]!.item, group]);
}

function forecastRow(row: ForecastRow, text: string, withReal: boolean, meanings: Readonly<Record<string, string>>, percent: number): string {
  const range = row.kind.kind.range;
  // One line per coordinate in every cell; the subgroup cell names the coordinate, the number cells line up with it.
  // (data-coord: a narrow screen, where the cells stack, prefixes each number line with its coordinate.)
  const lines = (cell: (c: ForecastCell) => string) =>
    `<span class="lines">${row.cells.map((c) => `<span class="line"${c.coord === "" ? "" : ` data-coord="${escapeXml(c.coord)}"`}>${cell(c)}</span>`).join("")}</span>`;
  const first = row.cells[0]!;
  const sortValue = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? "" : String(value));
  const missing = row.cells.some((c) => c.interval === undefined);
  const cells = [
    `<td class="question-col" data-label="question" title="${escapeXml(text)}" data-value="${escapeXml(shortLabel(row.item))}">${escapeXml(shortLabel(row.item))}</td>`,
    `<td data-label="subgroup" data-value="${escapeXml(subgroupLabel(row.subgroup))}">${lines((c) => `${escapeXml(subgroupLabel(row.subgroup))}${coordSuffix(c, meanings)}`)}</td>`,
    `<td class="num forecast" data-label="forecast" data-value="${sortValue(first.interval?.estimate)}">${lines((c) => (c.interval === undefined ? "not calibrated" : formatValue(c.interval.estimate, range)))}</td>`,
    `<td class="num calibrated-range" data-label="${percent}% range" data-value="${sortValue(first.interval?.lower)}">${lines((c) => (c.interval === undefined ? "—" : formatRange(c.interval.lower, c.interval.upper, range)))}</td>`,
    `<td class="num naive-range" data-label="naive range" data-value="${sortValue(first.interval?.naive_lower)}">${lines((c) => (c.interval === undefined ? "—" : formatRange(c.interval.naive_lower, c.interval.naive_upper, range)))}</td>`,
    ...(withReal ? [`<td class="num" data-label="real value" data-value="${sortValue(first.target.real_est)}">${lines((c) => (c.target.real_est === undefined ? "—" : realValue(c, range)))}</td>`] : []),
    `<td class="num" data-label="n" data-value="${sortValue(first.target.syn_n)}">${lines((c) => (c.target.syn_n === undefined ? "—" : String(c.target.syn_n)))}</td>`,
  ];
  return `<tr class="forecast-row${missing ? " skipped" : ""}" data-task="${escapeXml(row.task)}" data-model="${escapeXml(row.model)}">${cells.join("")}</tr>`;
}

function coordSuffix(cell: ForecastCell, meanings: Readonly<Record<string, string>>): string {
  return cell.coord === "" ? "" : `, <span class="coord">${escapeXml(coordLabel(cell.coord, meanings))}</span>`;
}

/** A coordinate with what it means in the wave, where the frame shows it: "Co-partisan (party Democrat)". */
export function coordLabel(coord: string, meanings: Readonly<Record<string, string>>): string {
  const meaning = meanings[coord];
  return meaning === undefined ? coord : `${coord} (${meaning})`;
}

/** The real value, marked when the calibrated range missed it (a word, not only a colour). */
function realValue(cell: ForecastCell, range: [number, number]): string {
  const real = cell.target.real_est!;
  const text = formatValue(real, range);
  const interval = cell.interval;
  if (interval === undefined || !Number.isFinite(interval.lower)) return text;
  return real >= interval.lower && real <= interval.upper ? text : `<strong class="missed-text">${text} (outside)</strong>`;
}

export const FORECAST_CSV_COLUMNS = [
  "wave",
  "model",
  "question",
  "question_text",
  "subgroup",
  "coord",
  "method",
  "confidence",
  "estimate",
  "lower",
  "upper",
  "naive_lower",
  "naive_upper",
  "syn_est",
  "syn_n",
  "real_est",
  "task",
] as const;

/** The table as CSV, one line per task and coordinate, numbers unrounded. */
export function forecastCsv(rows: readonly ForecastRow[], questions: readonly QuestionText[], confidence: number): string {
  const textOf = new Map(questions.map((q) => [q.id, q.text]));
  const records = rows.flatMap((row) =>
    row.cells.map((c) => ({
      wave: row.wave,
      model: row.model,
      question: row.item,
      question_text: textOf.get(row.item) ?? "",
      subgroup: row.subgroup,
      coord: c.coord,
      method: c.interval?.method ?? "",
      confidence,
      estimate: c.interval?.estimate,
      lower: c.interval?.lower,
      upper: c.interval?.upper,
      naive_lower: c.interval?.naive_lower,
      naive_upper: c.interval?.naive_upper,
      syn_est: c.target.syn_est,
      syn_n: c.target.syn_n,
      real_est: c.target.real_est,
      task: row.task,
    })),
  );
  return toCsv(FORECAST_CSV_COLUMNS, records);
}
