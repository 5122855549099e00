/**
 * The report's figures, as inline SVG strings:
 * - intervals per task, naive beside calibrated, against the truth where
 *   known, tasks sorted by it (the method paper's figures);
 * - the 2-D panel of a vector target: calibrated rectangles (Algorithm 3 and
 *   its per-coordinate variant) and the naive one around the truth;
 * - the model comparison: each model's gaps (bias) and its calibrated width.
 */
import { escapeXml, legend, legendLines, legendRows, linearScale, paddedExtent, px, svgFigure, xAxis, type Frame } from "./svg.ts";

export interface IntervalPoint {
  /** The question (short label); consecutive points of one question are drawn under one heading. */
  question: string;
  /** The row's own label: subgroup (and coordinate, wave) — what it is, on the axis. */
  label: string;
  lower: number;
  upper: number;
  naiveLower: number;
  naiveUpper: number;
  /** The bias-corrected point estimate. */
  estimate: number;
  /** The real value the interval should cover, where known. */
  truth?: number;
  /** A pilot item's interval (calibrated on the gaps of the items it is like): drawn apart. */
  pilot?: boolean;
}

/**
 * Legend swatches. Told apart without colour too: the calibrated range is a
 * thick bar, the naive one a thin capped line under it, a covered real value
 * a filled diamond, a missed one a hollow diamond (Okabe–Ito colours).
 */
const SWATCH = {
  calibrated: `<rect class="calibrated-bar" x="0" y="-4" width="16" height="8"/>`,
  naive: `<path class="naive-line" d="M0,-3v6M0,0h16M16,-3v6"/>`,
  truth: `<path class="truth" d="M8,-5l5,5l-5,5l-5,-5z"/>`,
  missed: `<path class="truth missed" d="M8,-5l5,5l-5,5l-5,-5z"/>`,
  pilot: `<rect class="calibrated-bar pilot" x="0" y="-4" width="16" height="8"/>`,
  estimate: `<path class="estimate" d="M4,-3L10,3M4,3L10,-3"/>`,
};

const ROW = 22;
const HEADING = 24;

/**
 * Intervals per task, one row each, labelled on the axis with the question
 * (as a heading over its rows) and the subgroup; the calibrated range as a
 * bar with its estimate, the naive range as a line under it, the real value
 * where known. Rows stay in the order given (grouped by question).
 */
export function intervalFigure(id: string, title: string, points: readonly IntervalPoint[], range: [number, number], unit: string, formatTick: (value: number) => string = tickText): string {
  const headings = points.filter((p, i) => i === 0 || points[i - 1]!.question !== p.question).length;
  const frame: Frame = { width: 760, height: 0, margin: { top: 58, right: 24, bottom: 46, left: 250 } };
  frame.height = frame.margin.top + headings * HEADING + points.length * ROW + frame.margin.bottom;
  const values = points.flatMap((p) => [p.lower, p.upper, p.naiveLower, p.naiveUpper, ...(p.truth === undefined ? [] : [p.truth])]);
  const x = linearScale(paddedExtent(values, range), [frame.margin.left, frame.width - frame.margin.right]);
  const withTruth = points.some((p) => p.truth !== undefined);
  let cursor = frame.margin.top;
  const marks = points.map((p, i) => {
    let heading = "";
    if (i === 0 || points[i - 1]!.question !== p.question) {
      heading = `<text class="row-heading" x="8" y="${px(cursor + HEADING - 7)}">${escapeXml(clip(p.question, 44))}</text>`;
      cursor += HEADING;
    }
    const cy = cursor + ROW / 2 - 3;
    cursor += ROW;
    const covered = p.truth === undefined || (p.truth >= p.lower && p.truth <= p.upper);
    const tip = `${p.question}, ${p.label}: calibrated ${formatTick(p.lower)} to ${formatTick(p.upper)} (estimate ${formatTick(p.estimate)}), naive ${formatTick(p.naiveLower)} to ${formatTick(p.naiveUpper)}${p.truth === undefined ? "" : `, real ${formatTick(p.truth)}${covered ? "" : " (outside)"}`}`;
    const calibrated = Number.isFinite(p.lower)
      ? `<rect class="mark calibrated-bar${p.pilot ? " pilot" : ""}" x="${px(x(p.lower))}" y="${px(cy - 4)}" width="${px(Math.max(1.5, x(p.upper) - x(p.lower)))}" height="8"/>` +
        `<line class="estimate-tick" x1="${px(x(p.estimate))}" x2="${px(x(p.estimate))}" y1="${px(cy - 6)}" y2="${px(cy + 6)}"/>`
      : "";
    const ny = cy + 8;
    const naive =
      `<path class="mark naive-line" d="M${px(x(p.naiveLower))},${px(ny - 3)}v6M${px(x(p.naiveLower))},${px(ny)}H${px(x(p.naiveUpper))}M${px(x(p.naiveUpper))},${px(ny - 3)}v6"/>`;
    const truth = p.truth === undefined ? "" : `<path class="mark truth${covered ? "" : " missed"}" d="M${px(x(p.truth))},${px(cy - 6)}l6,6l-6,6l-6,-6z"/>`;
    return (
      heading +
      `<g class="row"><title>${escapeXml(tip)}</title>` +
      `<line class="row-rule" x1="${frame.margin.left}" x2="${frame.width - frame.margin.right}" y1="${px(cy + ROW / 2 + 2)}" y2="${px(cy + ROW / 2 + 2)}"/>` +
      `<text class="tick row-label" x="${frame.margin.left - 8}" y="${px(cy + 2)}" text-anchor="end" dominant-baseline="middle">${escapeXml(clip(p.label, 34))}${covered ? "" : " ✕"}</text>` +
      naive +
      calibrated +
      truth +
      `</g>`
    );
  });
  const entries = [
    { label: "calibrated range, | its estimate", swatch: SWATCH.calibrated },
    { label: "naive range (synthetic only)", swatch: SWATCH.naive },
    ...(points.some((p) => p.pilot) ? [{ label: "pilot item", swatch: SWATCH.pilot }] : []),
    ...(withTruth ? [{ label: "real value", swatch: SWATCH.truth }, { label: "real value outside (✕)", swatch: SWATCH.missed }] : []),
  ];
  const desc = `${points.length} rows labelled by question and subgroup; bars are calibrated ranges, thin lines naive ranges${withTruth ? ", diamonds the real values" : ""}.`;
  return svgFigure(id, frame, title, desc, legendRows(8, 14, frame.width - 16, entries) + topAxis(x, frame, formatTick) + xAxis(x, frame, unit, 6, true, formatTick) + marks.join(""), "rows");
}

function tickText(value: number): string {
  return String(Number(value.toPrecision(4)));
}

function clip(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

/** Tick labels along the top too, so a tall figure can be read without scrolling to its axis. */
function topAxis(scale: ReturnType<typeof linearScale>, frame: Frame, formatTick: (value: number) => string): string {
  const y = frame.margin.top - 4;
  return scale
    .ticks(6)
    .map((t) => `<text class="tick" x="${px(scale(t))}" y="${y}" text-anchor="middle">${escapeXml(formatTick(t))}</text>`)
    .join("");
}

export interface Rectangle {
  name: string;
  /** CSS class: calibrated, alternative or naive. */
  kind: "calibrated" | "alternative" | "naive";
  x: [number, number];
  y: [number, number];
}

export interface RectanglePanel {
  label: string;
  rectangles: Rectangle[];
  estimate: [number, number];
  truth?: [number, number];
}

/**
 * Small multiples: one square panel per vector task, x and y its two
 * coordinates, two panels a row: large enough that a narrow naive rectangle
 * still shows (drawn at least 4 px a side).
 */
export function rectangleFigure(id: string, title: string, panels: readonly RectanglePanel[], axes: [string, string], range: [number, number], formatTick: (value: number) => string = tickText): string {
  const size = 300;
  const gap = 24;
  const columns = Math.min(2, Math.max(panels.length, 1));
  const rows = Math.ceil(panels.length / columns);
  // Only what is drawn is in the legend: the other rectangle when it ran, the real value when known.
  const entries = [
    { label: "calibrated (chosen)", swatch: `<rect class="calibrated" x="0" y="-5" width="14" height="10"/>` },
    ...(panels.some((p) => p.rectangles.some((r) => r.kind === "alternative"))
      ? [{ label: "other rectangle", swatch: `<rect class="alternative" x="0" y="-5" width="14" height="10"/>` }]
      : []),
    { label: "naive (synthetic only)", swatch: `<rect class="naive" x="0" y="-5" width="14" height="10"/>` },
    { label: "synthetic estimate", swatch: SWATCH.estimate },
    ...(panels.some((p) => p.truth !== undefined) ? [{ label: "real value", swatch: SWATCH.truth }, { label: "real value outside", swatch: SWATCH.missed }] : []),
  ];
  const width = columns * size + (columns - 1) * gap + 20;
  const top = 14 + 18 * legendLines(10, width - 10, entries);
  const frame: Frame = { width, height: top + rows * (size + gap), margin: { top, right: 10, bottom: 6, left: 10 } };
  // One extent per axis, shared by the panels (comparable at a glance), zoomed to what is drawn.
  const extentX = paddedExtent(panels.flatMap((p) => [...p.rectangles.flatMap((r) => r.x), p.estimate[0], ...(p.truth === undefined ? [] : [p.truth[0]])]), range);
  const extentY = paddedExtent(panels.flatMap((p) => [...p.rectangles.flatMap((r) => r.y), p.estimate[1], ...(p.truth === undefined ? [] : [p.truth[1]])]), range);
  const body = panels.map((panel, i) => {
    const ox = frame.margin.left + (i % columns) * (size + gap);
    const oy = frame.margin.top + Math.floor(i / columns) * (size + gap);
    const inner: Frame = { width: size, height: size, margin: { top: 22, right: 10, bottom: 40, left: 56 } };
    const sx = linearScale(extentX, [inner.margin.left, size - inner.margin.right]);
    const sy = linearScale(extentY, [size - inner.margin.bottom, inner.margin.top]);
    const rects = panel.rectangles.map((r) => {
      // A rectangle too small to see at this scale is drawn 4 px a side around its centre.
      const [x0, x1] = atLeast(sx(r.x[0]), sx(r.x[1]), 4);
      const [y0, y1] = atLeast(sy(r.y[1]), sy(r.y[0]), 4);
      return `<rect class="mark ${r.kind}" x="${px(x0)}" y="${px(y0)}" width="${px(x1 - x0)}" height="${px(y1 - y0)}"><title>${escapeXml(`${r.name}: ${axes[0]} ${formatTick(r.x[0])} to ${formatTick(r.x[1])}, ${axes[1]} ${formatTick(r.y[0])} to ${formatTick(r.y[1])}`)}</title></rect>`;
    });
    const est = `<path class="mark estimate" d="M${px(sx(panel.estimate[0]) - 4)},${px(sy(panel.estimate[1]) - 4)}l8,8m0,-8l-8,8"/>`;
    const missed = panel.truth !== undefined && !insideCalibrated(panel);
    const truth =
      panel.truth === undefined
        ? ""
        : `<path class="mark truth${missed ? " missed" : ""}" d="M${px(sx(panel.truth[0]))},${px(sy(panel.truth[1]) - 6)}l6,6l-6,6l-6,-6z"><title>${escapeXml(`real: ${axes[0]} ${formatTick(panel.truth[0])}, ${axes[1]} ${formatTick(panel.truth[1])}${missed ? " (outside the calibrated rectangle)" : ""}`)}</title></path>`;
    return (
      `<g transform="translate(${ox},${oy})"><text class="panel-title" x="${px((inner.margin.left + size - inner.margin.right) / 2)}" y="12" text-anchor="middle">${escapeXml(panel.label)}${missed ? " ✕" : ""}</text>` +
      xAxis(sx, inner, axes[0], 4, true, formatTick) +
      yAxisCompact(sy, inner, axes[1], formatTick) +
      rects.join("") +
      est +
      truth +
      `</g>`
    );
  });
  return svgFigure(id, frame, title, `${panels.length} tasks; x: ${axes[0]}, y: ${axes[1]}; rectangles are joint ranges for both values at once.`, legendRows(12, 14, frame.width - 10, entries) + body.join(""), "panels");
}

function atLeast(a: number, b: number, minimum: number): [number, number] {
  if (b - a >= minimum) return [a, b];
  const centre = (a + b) / 2;
  return [centre - minimum / 2, centre + minimum / 2];
}

/** The real value inside the chosen (calibrated) rectangle: joint coverage, as the evaluation scores it. */
function insideCalibrated(panel: RectanglePanel): boolean {
  const r = panel.rectangles.find((x) => x.kind === "calibrated");
  const t = panel.truth!;
  return r !== undefined && t[0] >= r.x[0] && t[0] <= r.x[1] && t[1] >= r.y[0] && t[1] <= r.y[1];
}

function yAxisCompact(scale: ReturnType<typeof linearScale>, frame: Frame, label: string, formatTick: (value: number) => string): string {
  const x0 = frame.margin.left;
  const x1 = frame.width - frame.margin.right;
  const ticks = scale
    .ticks(4)
    .map((t) => `<line class="grid" x1="${x0}" x2="${x1}" y1="${px(scale(t))}" y2="${px(scale(t))}"/><text class="tick" x="${x0 - 4}" y="${px(scale(t))}" text-anchor="end" dominant-baseline="middle">${escapeXml(formatTick(t))}</text>`);
  const cy = (frame.margin.top + frame.height - frame.margin.bottom) / 2;
  return (
    ticks.join("") +
    `<line class="axis" x1="${x0}" x2="${x0}" y1="${frame.margin.top}" y2="${frame.height - frame.margin.bottom}"/>` +
    `<text class="axis-label" transform="translate(10,${px(cy)}) rotate(-90)" text-anchor="middle">${escapeXml(label)}</text>`
  );
}

export interface ModelGaps {
  model: string;
  gaps: number[];
  q05: number;
  q25: number;
  q50: number;
  q75: number;
  q95: number;
}

/** Each model's gaps (real − synthetic) over its history: a box (quartiles), whiskers (5%–95%) and the gaps as dots. */
export function gapFigure(id: string, title: string, models: readonly ModelGaps[], unit: string): string {
  const row = 46;
  const frame: Frame = { width: 720, height: models.length * row + 96, margin: { top: 42, right: 20, bottom: 44, left: 170 } };
  const x = linearScale(paddedExtent([0, ...models.flatMap((m) => m.gaps)], undefined), [frame.margin.left, frame.width - frame.margin.right]);
  const body = models.map((m, i) => {
    const cy = frame.margin.top + row * (i + 0.5);
    const dots = m.gaps.map((g, j) => `<circle class="mark gap" cx="${px(x(g))}" cy="${px(cy + (((j * 7919) % 17) - 8) * 0.9)}" r="1.8"/>`).join("");
    return (
      `<text class="tick" x="${frame.margin.left - 8}" y="${px(cy)}" text-anchor="end" dominant-baseline="middle">${escapeXml(m.model)}</text>` +
      `<line class="mark whisker" x1="${px(x(m.q05))}" x2="${px(x(m.q95))}" y1="${px(cy)}" y2="${px(cy)}"/>` +
      `<rect class="mark box" x="${px(x(m.q25))}" y="${px(cy - 12)}" width="${px(Math.max(1, x(m.q75) - x(m.q25)))}" height="24"><title>${escapeXml(`${m.model}: median gap ${fmt(m.q50)}, quartiles ${fmt(m.q25)} to ${fmt(m.q75)}, 5%–95% ${fmt(m.q05)} to ${fmt(m.q95)}`)}</title></rect>` +
      `<line class="mark median" x1="${px(x(m.q50))}" x2="${px(x(m.q50))}" y1="${px(cy - 12)}" y2="${px(cy + 12)}"/>` +
      dots
    );
  });
  const zero = `<line class="zero" x1="${px(x(0))}" x2="${px(x(0))}" y1="${frame.margin.top}" y2="${frame.height - frame.margin.bottom}"/>`;
  const entries = [
    { label: "middle half of the gaps", swatch: `<rect class="box" x="0" y="-5" width="16" height="10"/>` },
    { label: "median", swatch: `<line class="median" x1="8" x2="8" y1="-6" y2="6"/>` },
    { label: "5% to 95%", swatch: `<line class="whisker" x1="0" x2="16" y1="0" y2="0"/>` },
    { label: "one past result", swatch: `<circle class="gap" cx="8" cy="0" r="2.5"/>` },
  ];
  return svgFigure(
    id,
    frame,
    title,
    `Distribution of the gap real − synthetic per model, in ${unit}.`,
    legendRows(frame.margin.left, 14, frame.width - frame.margin.right, entries) + xAxis(x, frame, `gap = real − synthetic (${unit}); 0 = no bias`, 6, true) + zero + body.join(""),
  );
}

export interface ModelWidth {
  model: string;
  calibrated: number;
  naive: number;
}

/** Median interval width per model: calibrated (filled) and naive (open). */
export function widthFigure(id: string, title: string, models: readonly ModelWidth[], unit: string): string {
  const row = 30;
  const frame: Frame = { width: 720, height: models.length * row + 84, margin: { top: 34, right: 20, bottom: 44, left: 170 } };
  const x = linearScale([0, Math.max(...models.flatMap((m) => [m.calibrated, m.naive]).filter(Number.isFinite), 1e-9) * 1.08], [frame.margin.left, frame.width - frame.margin.right]);
  const body = models.map((m, i) => {
    const cy = frame.margin.top + row * (i + 0.5);
    return (
      `<text class="tick" x="${frame.margin.left - 8}" y="${px(cy)}" text-anchor="end" dominant-baseline="middle">${escapeXml(m.model)}</text>` +
      `<line class="mark bar" x1="${px(x(0))}" x2="${px(x(m.calibrated))}" y1="${px(cy)}" y2="${px(cy)}"><title>${escapeXml(`${m.model}: calibrated median width ${fmt(m.calibrated)}, naive ${fmt(m.naive)}`)}</title></line>` +
      `<circle class="mark calibrated-dot" cx="${px(x(m.calibrated))}" cy="${px(cy)}" r="5"/>` +
      `<circle class="mark naive-dot" cx="${px(x(m.naive))}" cy="${px(cy)}" r="5"/>`
    );
  });
  const entries = [
    { label: "calibrated median width", swatch: `<circle class="calibrated-dot" cx="7" cy="0" r="5"/>` },
    { label: "naive median width", swatch: `<circle class="naive-dot" cx="7" cy="0" r="5"/>` },
  ];
  return svgFigure(id, frame, title, `Median interval width per model, in ${unit}; narrower at the same coverage means a more useful model.`, legend(frame.margin.left, 14, entries) + xAxis(x, frame, `median width (${unit})`, 6, true) + body.join(""));
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(3)));
}
