/**
 * A tiny SVG toolkit for the report's figures: escaping, linear scales with
 * nice ticks, axes and a few marks. Figures are plain strings of inline SVG
 * (no chart library, no script, no network), each with a <title> and a
 * <desc> for screen readers. Data marks carry class="mark" so a test can
 * check that every figure drew something.
 */

export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A number for an SVG attribute: two decimals, no exponent. */
export function px(value: number): string {
  return String(Math.round(value * 100) / 100);
}

export interface LinearScale {
  (value: number): number;
  domain: [number, number];
  range: [number, number];
  ticks(count?: number): number[];
}

export function linearScale(domain: [number, number], range: [number, number]): LinearScale {
  let [d0, d1] = domain;
  if (!(d1 > d0)) {
    d0 -= 0.5;
    d1 += 0.5;
  }
  const [r0, r1] = range;
  const scale = ((value: number) => r0 + ((value - d0) / (d1 - d0)) * (r1 - r0)) as LinearScale;
  scale.domain = [d0, d1];
  scale.range = [r0, r1];
  scale.ticks = (count = 5) => niceTicks(d0, d1, count);
  return scale;
}

/** Ticks at 1, 2 or 5 × a power of ten, inside [lo, hi]. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  const raw = (hi - lo) / Math.max(count, 1);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.push(Math.round(t / step) * step);
  return ticks;
}

/** Pads a [min, max] extent by a share of its width, clamped to `limits`. */
export function paddedExtent(values: readonly number[], limits: [number, number] | undefined, pad = 0.04): [number, number] {
  const finite = values.filter(Number.isFinite);
  let lo = finite.length > 0 ? Math.min(...finite) : (limits?.[0] ?? 0);
  let hi = finite.length > 0 ? Math.max(...finite) : (limits?.[1] ?? 1);
  const width = hi - lo || Math.abs(hi) || 1;
  lo -= width * pad;
  hi += width * pad;
  if (limits !== undefined) {
    lo = Math.max(lo, limits[0]);
    hi = Math.min(hi, limits[1]);
  }
  return [lo, hi];
}

export function tickLabel(value: number): string {
  const rounded = Number(value.toPrecision(6));
  return String(rounded);
}

export interface Frame {
  width: number;
  height: number;
  margin: { top: number; right: number; bottom: number; left: number };
}

/** The <svg> element with its title and description. */
export function svgFigure(id: string, frame: Frame, title: string, description: string, body: string, extraClass = ""): string {
  return (
    `<svg class="figure${extraClass === "" ? "" : ` ${extraClass}`}" id="${escapeXml(id)}" role="img" aria-labelledby="${escapeXml(id)}-title ${escapeXml(id)}-desc" ` +
    `viewBox="0 0 ${frame.width} ${frame.height}" width="${frame.width}" height="${frame.height}" xmlns="http://www.w3.org/2000/svg">` +
    `<title id="${escapeXml(id)}-title">${escapeXml(title)}</title><desc id="${escapeXml(id)}-desc">${escapeXml(description)}</desc>` +
    body +
    `</svg>`
  );
}

/** A left (y) axis with grid lines and a rotated label. */
export function yAxis(scale: LinearScale, frame: Frame, label: string, ticks = 5): string {
  const x0 = frame.margin.left;
  const x1 = frame.width - frame.margin.right;
  const parts = scale.ticks(ticks).map((t) => {
    const y = px(scale(t));
    return `<line class="grid" x1="${x0}" x2="${x1}" y1="${y}" y2="${y}"/><text class="tick" x="${x0 - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(tickLabel(t))}</text>`;
  });
  const cy = (frame.margin.top + frame.height - frame.margin.bottom) / 2;
  parts.push(`<text class="axis-label" transform="translate(${14},${px(cy)}) rotate(-90)" text-anchor="middle">${escapeXml(label)}</text>`);
  parts.push(`<line class="axis" x1="${x0}" x2="${x0}" y1="${frame.margin.top}" y2="${frame.height - frame.margin.bottom}"/>`);
  return parts.join("");
}

/** A bottom (x) axis with tick labels (numbers) and a label. */
export function xAxis(scale: LinearScale, frame: Frame, label: string, ticks = 5, grid = false, format: (value: number) => string = tickLabel): string {
  const y0 = frame.height - frame.margin.bottom;
  const parts = scale.ticks(ticks).map((t) => {
    const x = px(scale(t));
    const gridLine = grid ? `<line class="grid" x1="${x}" x2="${x}" y1="${frame.margin.top}" y2="${y0}"/>` : "";
    return `${gridLine}<line class="axis" x1="${x}" x2="${x}" y1="${y0}" y2="${y0 + 4}"/><text class="tick" x="${x}" y="${y0 + 16}" text-anchor="middle">${escapeXml(format(t))}</text>`;
  });
  parts.push(`<line class="axis" x1="${frame.margin.left}" x2="${frame.width - frame.margin.right}" y1="${y0}" y2="${y0}"/>`);
  parts.push(`<text class="axis-label" x="${px((frame.margin.left + frame.width - frame.margin.right) / 2)}" y="${frame.height - 6}" text-anchor="middle">${escapeXml(label)}</text>`);
  return parts.join("");
}

export interface LegendEntry {
  label: string;
  swatch: string;
}

/** A legend row: swatches and labels, left to right from (x, y). */
export function legend(x: number, y: number, entries: readonly LegendEntry[]): string {
  return legendRows(x, y, Infinity, entries);
}

/** A legend that wraps onto a new line (18 px lower) before passing `right`. */
export function legendRows(x: number, y: number, right: number, entries: readonly LegendEntry[]): string {
  let cursor = x;
  let line = y;
  return entries
    .map(({ label, swatch }) => {
      const width = legendWidth(label);
      if (cursor > x && cursor + width > right) {
        cursor = x;
        line += 18;
      }
      const out = `<g class="legend" transform="translate(${px(cursor)},${px(line)})">${swatch}<text x="20" y="0" dominant-baseline="middle">${escapeXml(label)}</text></g>`;
      cursor += width;
      return out;
    })
    .join("");
}

/** A legend entry's width: swatch, gap, and the label at about 7 px a character (12 px type). */
function legendWidth(label: string): number {
  return 36 + label.length * 7;
}

/** How many lines legendRows takes for `entries` between x and right. */
export function legendLines(x: number, right: number, entries: readonly LegendEntry[]): number {
  let cursor = x;
  let lines = 1;
  for (const { label } of entries) {
    const width = legendWidth(label);
    if (cursor > x && cursor + width > right) {
      cursor = x;
      lines += 1;
    }
    cursor += width;
  }
  return lines;
}
