/**
 * How a tasks table is cut into calibrations. Each model is calibrated on its
 * own; within a model, a POOL holds the tasks calibrated together (one
 * coordinate for scalar methods, one set of coordinates for joint ones); a
 * pool splits into CELLS, the calibration sets proper: one per stratum
 * (Mondrian) and, with regression adjustment, per cross-fitting half. Both
 * `calibrate` (new targets) and leave-one-out evaluation run on this plan, so
 * the two can never disagree on which tasks calibrate which.
 */
import { InfeasibleError, InputError, SiliconError, UsageError, type InputLocation } from "../errors.ts";
import { defaultFeatures, fitGapModel, splitHalves, type AdjustOptions, type GapModel } from "./adjust.ts";
import { crossFitSupported, fitCrossFit, type CrossFit, type CrossFitChoice } from "./cross-fit.ts";
import type { Algorithm } from "./algorithm.ts";
import type { GapSample } from "./bounds.ts";
import { stratumKey, stratumLabel } from "./mondrian.ts";
import { attributeOf, compareGroups, gapOf, gapSeOf, type TaskRecord } from "./task-record.ts";

/**
 * Algorithm 2's weights: a column of the table, or recency decay γ^age by
 * `group`. Without `from`, age counts the waves before the latest historical
 * one (the forecast's convention: the latest wave weighs 1). With `from` (a
 * held-out task's own group, in leave-one-out and leave-one-group-out),
 * age is the number of waves between a task's group and `from`, either way.
 */
export type WeightSpec = { column: string } | { decay: number; from?: string };

export interface PlanOptions {
  algorithm: Algorithm;
  strata?: readonly string[];
  adjust?: AdjustOptions;
  weights?: WeightSpec;
  /** Locates a row for error messages (file, row, column); without it errors name the task. */
  locate?: (row: TaskRecord, field: string) => InputLocation;
  /**
   * A target whose model or coordinates have no history: an error (default),
   * or skipped and listed in `Plan.unplaced` (the chronological protocol,
   * where early waves may lack a coordinate that later ones have).
   */
  missingHistory?: "error" | "skip";
  /** The α the cross-fitted adjustment's feature search scores widths at (default 0.1). */
  alpha?: number;
}

/** What the cross-fitted adjustment chose in one cell. */
export interface AdjustmentChoice extends CrossFitChoice {
  label: string;
  /** False when plain calibration was kept (nothing narrowed the inner-CV width). */
  applied: boolean;
}

/** One task as calibration sees it: its rows, one per coordinate of its pool, in pool order. */
export interface Unit {
  task: string;
  model: string;
  rows: TaskRecord[];
}

export interface Cell {
  /** Describes the cell in messages: model, coordinates, stratum, half. */
  label: string;
  fold: 0 | 1 | null;
  stratum: string;
  members: Unit[];
  /** shifts[i][k]: the gap model's prediction m(x) for member i, coordinate k (0 unadjusted). */
  shifts: Float64Array[];
  /** The members' gaps minus their shifts, with SEs and weights. */
  sample: GapSample;
  /** Algorithm 3's scales: the residual SD of the gap model per coordinate, when adjusted. */
  scale?: Float64Array;
  /** The cross-fitted adjustment (CV+): targets get their own bounds from it; `sample` holds its out-of-fold residuals. */
  crossFit?: CrossFit;
}

export interface Pool {
  model: string;
  /** Coordinate names ("" for a scalar task without one). */
  coords: string[];
  cells: Map<string, Cell>;
  /** The cell a target is calibrated in (undefined when its stratum has no history) and its shift. */
  place(unit: Unit): { cell: Cell | undefined; shift: Float64Array };
}

export interface Plan {
  pools: Pool[];
  /** Targets grouped into units, in input order, with their pool. */
  targets: { unit: Unit; pool: Pool }[];
  /** Targets without history for their model or coordinates (with missingHistory "skip"). */
  unplaced: { unit: Unit; reason: string }[];
  notes: string[];
  /** Per cell, what the cross-fitted adjustment chose (empty without it). */
  adjustments: AdjustmentChoice[];
}

const SEP = "\u001f";

/** Throws an InputError at the row when rows can be located, else a SiliconError naming the task. */
export function rowError(options: PlanOptions, row: TaskRecord, field: string, problem: string): SiliconError {
  if (options.locate !== undefined) return new InputError(options.locate(row, field), problem);
  return new InputError({ file: "tasks table", field }, `task "${row.task}"${row.model === "" ? "" : ` of model "${row.model}"`}: ${problem}`);
}

/** Runs `fn`, prefixing an infeasibility with the cell it happened in. */
export function inCell<T>(cell: Cell, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof InfeasibleError) throw new InfeasibleError(`${cell.label}: ${error.message}`, { cause: error });
    throw error;
  }
}

function coordOf(row: TaskRecord): string {
  return row.coord ?? "";
}

/** Groups rows into units: single rows for scalar methods, whole tasks (rows sorted by coord) for joint ones. */
function unitsOf(rows: readonly TaskRecord[], joint: boolean): { key: string; unit: Unit }[] {
  if (!joint) return rows.map((row) => ({ key: row.model + SEP + coordOf(row), unit: { task: row.task, model: row.model, rows: [row] } }));
  const byTask = new Map<string, Unit>();
  for (const row of rows) {
    const id = row.model + SEP + row.task;
    const unit = byTask.get(id);
    if (unit === undefined) byTask.set(id, { task: row.task, model: row.model, rows: [row] });
    else unit.rows.push(row);
  }
  return [...byTask.values()].map((unit) => {
    unit.rows.sort((a, b) => (coordOf(a) < coordOf(b) ? -1 : coordOf(a) > coordOf(b) ? 1 : 0));
    return { key: unit.model + SEP + unit.rows.map(coordOf).join(SEP), unit };
  });
}

function describePool(model: string, coords: string[]): string {
  const who = model === "" ? "the tasks" : `model "${model}"`;
  if (coords.length === 1 && coords[0] === "") return who;
  return `${who}, ${coords.length === 1 ? "coordinate" : "coordinates"} ${coords.map((c) => `"${c}"`).join(", ")}`;
}

function weightsOf(history: readonly TaskRecord[], options: PlanOptions): Map<TaskRecord, number> {
  const spec = options.weights ?? { column: "weight" };
  const out = new Map<TaskRecord, number>();
  if ("decay" in spec) {
    const named = history.map((row) => row.group).filter((g): g is string => g !== undefined);
    const groups = [...new Set(spec.from === undefined ? named : [...named, spec.from])].sort(compareGroups);
    const rank = new Map(groups.map((g, i) => [g, i]));
    const origin = spec.from === undefined ? groups.length - 1 : rank.get(spec.from)!;
    for (const row of history) {
      if (row.group === undefined) throw rowError(options, row, "group", "missing value: --decay weights tasks by the age of their group");
      out.set(row, spec.decay ** Math.abs(origin - rank.get(row.group)!));
    }
    return out;
  }
  for (const row of history) {
    const text = spec.column === "weight" ? row.weight : attributeOf(row, spec.column);
    const w = typeof text === "number" ? text : text === undefined ? NaN : Number(text);
    if (text === undefined) throw rowError(options, row, spec.column, `missing value: ${options.algorithm.name} needs a weight in [0, 1] for every historical task`);
    if (!(w >= 0 && w <= 1)) throw rowError(options, row, spec.column, `expected a weight in [0, 1], got ${JSON.stringify(String(text))}`);
    out.set(row, w);
  }
  return out;
}

/** Builds the pools and cells for `history`, and places `targets` in them. */
export function planCalibration(history: readonly TaskRecord[], targets: readonly TaskRecord[], options: PlanOptions): Plan {
  const { algorithm } = options;
  const strata = options.strata ?? [];
  const notes: string[] = [];
  for (const row of [...history, ...targets]) {
    // The tasks-table reader refuses these; a library caller's rows may not have been read from one.
    if (!Number.isFinite(row.syn_est)) throw rowError(options, row, "syn_est", "missing value: expected a number (the synthetic estimate)");
  }
  for (const row of history) {
    if (!Number.isFinite(gapOf(row))) throw rowError(options, row, "real_est", "missing value: a historical task needs its real estimate");
    if (algorithm.needsGapSe && !Number.isFinite(gapSeOf(row))) {
      throw rowError(options, row, "real_se", `missing value: ${algorithm.name} needs each historical task's gap SE: real_se (with syn_se) or gap_se`);
    }
  }
  const weights = algorithm.weighted ? weightsOf(history, options) : undefined;

  const grouped = new Map<string, Unit[]>();
  for (const { key, unit } of unitsOf(history, algorithm.joint)) {
    const list = grouped.get(key);
    if (list === undefined) grouped.set(key, [unit]);
    else list.push(unit);
  }
  const pools = new Map<string, Pool>();
  const adjustments: AdjustmentChoice[] = [];
  for (const [key, units] of grouped) pools.set(key, buildPool(units, options, strata, weights, notes, adjustments));

  if (!algorithm.joint && history.some((row) => row.coord !== undefined && row.coord !== "")) {
    const multi = new Set<string>();
    const seen = new Set<string>();
    for (const row of history) {
      const id = row.model + SEP + row.task;
      if (seen.has(id)) multi.add(id);
      seen.add(id);
    }
    if (multi.size > 0) {
      notes.push(
        `${algorithm.name} calibrates each coordinate of a vector task on its own, against that coordinate's history ` +
          `(coverage per coordinate, not joint); alg3 or alg3-bonferroni give a joint rectangle`,
      );
    }
  }

  const placed: Plan["targets"] = [];
  const unplaced: Plan["unplaced"] = [];
  for (const { key, unit } of unitsOf(targets, algorithm.joint)) {
    const pool = pools.get(key);
    if (pool !== undefined) {
      placed.push({ unit, pool });
      continue;
    }
    const row = unit.rows[0]!;
    const coords = unit.rows.map(coordOf);
    const hasModel = [...pools.values()].some((p) => p.model === unit.model);
    const field = hasModel ? "coord" : "model";
    const reason = !hasModel
      ? `no historical tasks for model "${unit.model}"`
      : algorithm.joint
        ? `no historical task of model "${unit.model}" has the coordinates ${coords.map((c) => `"${c}"`).join(", ")}`
        : `no historical tasks for coordinate "${coords[0]}" of model "${unit.model}"`;
    if (options.missingHistory === "skip") unplaced.push({ unit, reason });
    else throw rowError(options, row, field, reason);
  }
  return { pools: [...pools.values()], targets: placed, unplaced, notes, adjustments };
}

function buildPool(
  units: Unit[],
  options: PlanOptions,
  strata: readonly string[],
  weights: Map<TaskRecord, number> | undefined,
  notes: string[],
  adjustments: AdjustmentChoice[],
): Pool {
  const first = units[0]!;
  const model = first.model;
  const coords = first.rows.map(coordOf);
  const d = coords.length;
  const poolLabel = describePool(model, coords);
  const crossFitting = options.adjust !== undefined && (options.adjust.mode ?? "cv") === "cv" && crossFitSupported(options.algorithm) && d === 1;
  const automatic = options.adjust?.features === "auto";
  if (options.adjust !== undefined && (options.adjust.mode ?? "cv") === "cv" && !crossFitting) {
    notes.push(
      automatic
        ? `${options.algorithm.name} is not cross-fitted (CV+ needs a scalar, unweighted method: alg1, alg4 or alg5), so the automatic adjustment leaves it plain`
        : `${options.algorithm.name} is not cross-fitted (CV+ needs a scalar, unweighted method: alg1, alg4 or alg5); its regression adjustment fits on one half and calibrates on the other`,
    );
  }
  // The split variant (or a method CV+ does not cover, with features named) below; the cross-fitted one per cell further down.
  const adjust = crossFitting || (automatic && (options.adjust?.mode ?? "cv") === "cv") ? undefined : options.adjust;

  // Cross-fitting: a gap model per half and coordinate, each fit on that half only.
  let halves: Map<string, 0 | 1> | undefined;
  let models: [GapModel[], GapModel[]] | undefined;
  let splitBy = adjust?.splitBy ?? "";
  const splitKey = (unit: Unit) => attributeOf(unit.rows[0]!, splitBy) ?? "";
  if (adjust !== undefined) {
    halves = splitHalves(units.map(splitKey), adjust.seed);
    if (halves.size < 2 && adjust.splitByFallback !== undefined) {
      notes.push(`${poolLabel}: a single ${splitBy} in its history, so regression adjustment splits it by ${adjust.splitByFallback}`);
      splitBy = adjust.splitByFallback;
      halves = splitHalves(units.map(splitKey), adjust.seed);
    }
    if (halves.size < 2) {
      throw new UsageError(
        `--split-by ${splitBy}: ${poolLabel} has one value in its history (${JSON.stringify([...halves.keys()][0])}); ` +
          `regression adjustment needs at least two, one to fit the gap model on and one to calibrate`,
      );
    }
    const fitRows = (h: 0 | 1, k: number) => units.filter((u) => halves!.get(splitKey(u)) === h).map((u) => u.rows[k]!);
    const features = adjust.features === "auto" ? defaultFeatures(units.map((u) => u.rows[0]!), splitBy) : adjust.features;
    models = [0, 1].map((h) => coords.map((_, k) => fitGapModel(fitRows(h as 0 | 1, k), features, adjust.ridge))) as [GapModel[], GapModel[]];
  }
  const shiftOf = (unit: Unit, fold: 0 | 1 | null) => {
    const shift = new Float64Array(d);
    if (fold !== null && models !== undefined) {
      const other = models[(1 - fold) as 0 | 1];
      for (let k = 0; k < d; k++) shift[k] = other[k]!.predict(unit.rows[k]!);
    }
    return shift;
  };
  const cellKey = (fold: 0 | 1 | null, stratum: string) => `${fold ?? "-"}${SEP}${stratum}`;

  const members = new Map<string, { fold: 0 | 1 | null; stratum: string; units: Unit[] }>();
  for (const unit of units) {
    const fold = halves === undefined ? null : halves.get(splitKey(unit))!;
    const stratum = stratumKey(unit.rows[0]!, strata);
    const key = cellKey(fold, stratum);
    const entry = members.get(key);
    if (entry === undefined) members.set(key, { fold, stratum, units: [unit] });
    else entry.units.push(unit);
  }
  const cells = new Map<string, Cell>();
  for (const [key, { fold, stratum, units: list }] of members) {
    const shifts = list.map((unit) => shiftOf(unit, fold));
    const sample: GapSample = {
      size: list.length,
      dims: d,
      gap: coords.map((_, k) => Float64Array.from(list, (unit, i) => gapOf(unit.rows[k]!) - shifts[i]![k]!)),
      se: coords.map((_, k) => Float64Array.from(list, (unit) => {
        const se = gapSeOf(unit.rows[k]!);
        return Number.isFinite(se) ? se : 0;
      })),
      ...(weights === undefined ? {} : { weight: Float64Array.from(list, (unit) => weights.get(unit.rows[0]!)!) }),
    };
    const parts = [poolLabel];
    if (strata.length > 0) parts.push(`stratum ${stratumLabel(stratum, strata)}`);
    if (fold !== null) parts.push(`calibration half ${fold + 1} by ${splitBy}`);
    const cell: Cell = { label: parts.join(", "), fold, stratum, members: list, shifts, sample };
    if (fold !== null && models !== undefined) {
      cell.scale = Float64Array.from(models[(1 - fold) as 0 | 1], (m) => (m.residualSd > 0 ? m.residualSd : 1));
    }
    if (crossFitting) crossFitCell(cell, options, adjustments);
    cells.set(key, cell);
  }
  return {
    model,
    coords,
    cells,
    place(unit) {
      // A target from a split group the history never saw uses half 1's calibration (model of half 2).
      const fold = halves === undefined ? null : (halves.get(splitKey(unit)) ?? 0);
      const cell = cells.get(cellKey(fold, stratumKey(unit.rows[0]!, strata)));
      return { cell, shift: shiftOf(unit, fold) };
    },
  };
}

/**
 * Fits the cell's cross-fitted adjustment (folds by the split column, or by
 * task where the cell has a single value of it) and swaps its sample for the
 * out-of-fold residuals; a cell where plain calibration is kept is left as is.
 */
function crossFitCell(cell: Cell, options: PlanOptions, adjustments: AdjustmentChoice[]): void {
  const adjust = options.adjust!;
  const rows = cell.members.map((unit) => unit.rows[0]!);
  let groups = rows.map((row) => attributeOf(row, adjust.splitBy) ?? row.task);
  if (new Set(groups).size < 2 && adjust.splitByFallback !== undefined) groups = rows.map((row) => attributeOf(row, adjust.splitByFallback!) ?? row.task);
  const settings = {
    features: adjust.features,
    ridge: adjust.ridge,
    seed: adjust.seed,
    alpha: options.alpha ?? 0.1,
    algorithm: options.algorithm,
    ...(adjust.folds === undefined ? {} : { folds: adjust.folds }),
  };
  let crossFit: CrossFit | undefined;
  try {
    crossFit = fitCrossFit(rows, groups, settings, (choice) => adjustments.push({ ...choice, label: cell.label, applied: false }));
  } catch (error) {
    // Too few tasks for α: the method itself says so, with its numbers, when the cell is calibrated.
    if (error instanceof InfeasibleError) return;
    throw error;
  }
  if (crossFit === undefined) return;
  adjustments.push({ ...crossFit.choice, label: cell.label, applied: true });
  cell.crossFit = crossFit;
  cell.sample = { ...crossFit.sample, ...(cell.sample.weight === undefined ? {} : { weight: cell.sample.weight }) };
}
