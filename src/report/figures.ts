/**
 * The report's figures, as inline SVG strings:
 * - intervals per task, naive beside calibrated, against the truth where
 *   known, tasks sorted by it (the method paper's figures);
 * - the 2-D panel of a vector target: calibrated rectangles (Algorithm 3 and
 *   its per-coordinate variant) and the naive one around the truth;
 * - the model comparison: each model's gaps (bias) and its calibrated width.
 */
import { escapeXml, legend, linearScale, paddedExtent, px, svgFigure, xAxis, yAxis, type Frame } from "./svg.ts";

export interface IntervalPoint {
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

const SWATCH = {
  calibrated: `<line class="calibrated" x1="0" x2="14" y1="0" y2="0"/>`,
  naive: `<line class="naive" x1="0" x2="14" y1="0" y2="0"/>`,
  truth: `<circle class="truth" cx="7" cy="0" r="3"/>`,
  missed: `<circle class="truth missed" cx="7" cy="0" r="3"/>`,
  alt: `<line class="alternative" x1="0" x2="14" y1="0" y2="0"/>`,
  pilot: `<line class="calibrated pilot" x1="0" x2="14" y1="0" y2="0"/>`,
  estimate: `<path class="estimate" d="M4,-3L10,3M4,3L10,-3"/>`,
};

/** Intervals per task, sorted by the truth (or by the estimate where no truth is known). */
export function intervalFigure(id: string, title: string, points: readonly IntervalPoint[], range: [number, number], yLabel: string, what = "tasks"): string {
  const withTruth = points.every((p) => p.truth !== undefined);
  const sorted = [...points].sort((a, b) => (withTruth ? a.truth! - b.truth! : a.estimate - b.estimate) || a.label.localeCompare(b.label));
  const width = Math.max(660, Math.min(980, 120 + sorted.length * 7));
  const frame: Frame = { width, height: 300, margin: { top: 28, right: 14, bottom: 44, left: 58 } };
  const values = sorted.flatMap((p) => [p.lower, p.upper, p.naiveLower, p.naiveUpper, ...(p.truth === undefined ? [] : [p.truth])]);
  const y = linearScale(paddedExtent(values, range), [frame.height - frame.margin.bottom, frame.margin.top]);
  const step = (frame.width - frame.margin.left - frame.margin.right) / Math.max(sorted.length, 1);
  const x = (i: number) => frame.margin.left + step * (i + 0.5);
  const offset = Math.min(step * 0.22, 3);
  const marks = sorted.map((p, i) => {
    const cx = x(i);
    const covered = p.truth === undefined || (p.truth >= p.lower && p.truth <= p.upper);
    const tip = `${p.label}: calibrated [${fmt(p.lower)}, ${fmt(p.upper)}], naive [${fmt(p.naiveLower)}, ${fmt(p.naiveUpper)}]${p.truth === undefined ? "" : `, truth ${fmt(p.truth)}`}`;
    return (
      `<g><title>${escapeXml(tip)}</title>` +
      `<line class="mark naive" x1="${px(cx + offset)}" x2="${px(cx + offset)}" y1="${px(y(p.naiveLower))}" y2="${px(y(p.naiveUpper))}"/>` +
      `<line class="mark calibrated${p.pilot ? " pilot" : ""}" x1="${px(cx - offset)}" x2="${px(cx - offset)}" y1="${px(y(p.lower))}" y2="${px(y(p.upper))}"/>` +
      (p.truth === undefined ? "" : `<circle class="mark truth${covered ? "" : " missed"}" cx="${px(cx)}" cy="${px(y(p.truth))}" r="${px(Math.max(1.6, Math.min(3, step / 3)))}"/>`) +
      `</g>`
    );
  });
  const entries = [
    { label: "calibrated", swatch: SWATCH.calibrated },
    { label: "naive (synthetic only)", swatch: SWATCH.naive },
    ...(sorted.some((p) => p.pilot) ? [{ label: "pilot item (calibrated on like items)", swatch: SWATCH.pilot }] : []),
    ...(withTruth ? [{ label: "real estimate", swatch: SWATCH.truth }, { label: "not covered", swatch: SWATCH.missed }] : []),
  ];
  const xLabel = `${sorted.length} ${what}, sorted by ${withTruth ? "the real estimate" : "the calibrated estimate"}`;
  const desc = `${sorted.length} ${what}; vertical bars are intervals (calibrated and naive), dots are the real estimates.`;
  return svgFigure(
    id,
    frame,
    title,
    desc,
    yAxis(y, frame, yLabel) +
      `<line class="axis" x1="${frame.margin.left}" x2="${frame.width - frame.margin.right}" y1="${frame.height - frame.margin.bottom}" y2="${frame.height - frame.margin.bottom}"/>` +
      `<text class="axis-label" x="${px((frame.margin.left + frame.width - frame.margin.right) / 2)}" y="${frame.height - 10}" text-anchor="middle">${escapeXml(xLabel)}</text>` +
      marks.join("") +
      legend(frame.margin.left + 4, 12, entries),
  );
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

/** Small multiples: one square panel per vector task, x and y its two coordinates. */
export function rectangleFigure(id: string, title: string, panels: readonly RectanglePanel[], axes: [string, string], range: [number, number]): string {
  const size = 190;
  const columns = Math.min(4, panels.length);
  const rows = Math.ceil(panels.length / columns);
  const frame: Frame = { width: columns * size + 20, height: rows * (size + 24) + 40, margin: { top: 34, right: 10, bottom: 6, left: 10 } };
  const all = panels.flatMap((p) => [...p.rectangles.flatMap((r) => [...r.x, ...r.y]), ...p.estimate, ...(p.truth ?? [])]);
  const extent = paddedExtent(all, range);
  const body = panels.map((panel, i) => {
    const ox = frame.margin.left + (i % columns) * size;
    const oy = frame.margin.top + Math.floor(i / columns) * (size + 24);
    const inner: Frame = { width: size, height: size, margin: { top: 18, right: 8, bottom: 34, left: 44 } };
    const sx = linearScale(extent, [inner.margin.left, size - inner.margin.right]);
    const sy = linearScale(extent, [size - inner.margin.bottom, inner.margin.top]);
    const rects = panel.rectangles.map(
      (r) =>
        `<rect class="mark ${r.kind}" x="${px(sx(r.x[0]))}" y="${px(sy(r.y[1]))}" width="${px(Math.max(0.5, sx(r.x[1]) - sx(r.x[0])))}" height="${px(Math.max(0.5, sy(r.y[0]) - sy(r.y[1])))}"><title>${escapeXml(`${r.name}: ${axes[0]} [${fmt(r.x[0])}, ${fmt(r.x[1])}], ${axes[1]} [${fmt(r.y[0])}, ${fmt(r.y[1])}]`)}</title></rect>`,
    );
    const est = `<path class="mark estimate" d="M${px(sx(panel.estimate[0]) - 3)},${px(sy(panel.estimate[1]) - 3)}l6,6m0,-6l-6,6"/>`;
    const missed = panel.truth !== undefined && !insideCalibrated(panel);
    const truth =
      panel.truth === undefined
        ? ""
        : `<circle class="mark truth${missed ? " missed" : ""}" cx="${px(sx(panel.truth[0]))}" cy="${px(sy(panel.truth[1]))}" r="3"><title>${escapeXml(`real: ${fmt(panel.truth[0])}, ${fmt(panel.truth[1])}${missed ? " (outside the calibrated rectangle)" : ""}`)}</title></circle>`;
    return (
      `<g transform="translate(${ox},${oy})"><text class="panel-title" x="${size / 2}" y="10" text-anchor="middle">${escapeXml(panel.label)}</text>` +
      xAxis(sx, inner, axes[0], 3) +
      yAxisCompact(sy, inner, axes[1]) +
      rects.join("") +
      est +
      truth +
      `</g>`
    );
  });
  // Only what is drawn is in the legend: the other rectangle when it ran, the real value when known.
  const entries = [
    { label: "calibrated (chosen)", swatch: `<rect class="calibrated" x="0" y="-5" width="14" height="10"/>` },
    ...(panels.some((p) => p.rectangles.some((r) => r.kind === "alternative"))
      ? [{ label: "other rectangle", swatch: `<rect class="alternative" x="0" y="-5" width="14" height="10"/>` }]
      : []),
    { label: "naive", swatch: `<rect class="naive" x="0" y="-5" width="14" height="10"/>` },
    { label: "synthetic estimate", swatch: SWATCH.estimate },
    ...(panels.some((p) => p.truth !== undefined) ? [{ label: "real", swatch: SWATCH.truth }, { label: "not covered", swatch: SWATCH.missed }] : []),
  ];
  return svgFigure(id, frame, title, `${panels.length} tasks; x: ${axes[0]}, y: ${axes[1]}; rectangles are joint confidence regions.`, legend(12, 14, entries) + body.join(""));
}

/** The real value inside the chosen (calibrated) rectangle: joint coverage, as the evaluation scores it. */
function insideCalibrated(panel: RectanglePanel): boolean {
  const r = panel.rectangles.find((x) => x.kind === "calibrated");
  const t = panel.truth!;
  return r !== undefined && t[0] >= r.x[0] && t[0] <= r.x[1] && t[1] >= r.y[0] && t[1] <= r.y[1];
}

function yAxisCompact(scale: ReturnType<typeof linearScale>, frame: Frame, label: string): string {
  const x0 = frame.margin.left;
  const ticks = scale.ticks(3).map((t) => `<text class="tick" x="${x0 - 4}" y="${px(scale(t))}" text-anchor="end" dominant-baseline="middle">${escapeXml(String(Number(t.toPrecision(4))))}</text>`);
  const cy = (frame.margin.top + frame.height - frame.margin.bottom) / 2;
  return (
    ticks.join("") +
    `<line class="axis" x1="${x0}" x2="${x0}" y1="${frame.margin.top}" y2="${frame.height - frame.margin.bottom}"/>` +
    `<text class="axis-label" transform="translate(9,${px(cy)}) rotate(-90)" text-anchor="middle">${escapeXml(label)}</text>`
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
  const frame: Frame = { width: 720, height: models.length * row + 70, margin: { top: 16, right: 20, bottom: 44, left: 170 } };
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
  return svgFigure(id, frame, title, `Distribution of the gap real − synthetic per model, in ${unit}.`, xAxis(x, frame, `gap = real − synthetic (${unit}); 0 = unbiased`, 6, true) + zero + body.join(""));
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
