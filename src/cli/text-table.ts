/** Plain-text tables for the terminal: columns padded, numbers right-aligned. */

export type TableCell = string | number | null | undefined;

/** Formats a number for people: `digits` significant figures, "" for NaN, no exponent for ordinary sizes. */
export function formatNumber(value: number, digits = 3): string {
  if (Number.isNaN(value)) return "";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 1e6 || magnitude < 1e-4) return value.toExponential(digits - 1);
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(magnitude)));
  return value.toFixed(Math.min(decimals, 6));
}

/** Fixed decimals, e.g. coverage 0.900 and widths 0.404. */
export function fixed(value: number, decimals = 3): string {
  return Number.isNaN(value) ? "" : value.toFixed(decimals);
}

/** Renders rows under a header; numeric-looking cells align right. */
export function renderTable(header: readonly string[], rows: readonly (readonly TableCell[])[]): string {
  const text = rows.map((row) => header.map((_, j) => cellText(row[j])));
  const widths = header.map((h, j) => Math.max(h.length, ...text.map((row) => row[j]!.length)));
  const numeric = header.map((_, j) => text.length > 0 && text.every((row) => row[j] === "" || /^[-+]?[\d.]+(e[-+]?\d+)?%?$|^-?inf$/.test(row[j]!)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, j) => (numeric[j] ? c.padStart(widths[j]!) : c.padEnd(widths[j]!)))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...text.map(line)].join("\n") + "\n";
}

function cellText(cell: TableCell): string {
  if (cell === null || cell === undefined) return "";
  return typeof cell === "number" ? formatNumber(cell) : cell;
}
