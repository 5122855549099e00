/**
 * How the report writes numbers and names for people: values in the units of
 * their scale (shares as percentages, ratings with one decimal), a question's
 * short label, a subgroup as "party: Democrat". The browser test formats the
 * bounds of intervals.csv with these same functions to find them on the page.
 */

/** A value on a scale `range` wide: a share (range within [0, 1]) as a percentage, else with decimals fit to the range. */
export function formatValue(value: number, range: readonly [number, number]): string {
  if (!Number.isFinite(value)) return "—";
  if (isShare(range)) return `${(value * 100).toFixed(1)}%`;
  const span = range[1] - range[0];
  return value.toFixed(span >= 20 ? 1 : 2);
}

/** An axis tick: a share as a whole (or one-decimal) percentage, else the number without float noise. */
export function formatTick(value: number, range: readonly [number, number]): string {
  if (isShare(range)) return `${Number((value * 100).toFixed(1))}%`;
  return String(Number(value.toPrecision(4)));
}

/** An interval as "lower to upper" in the scale's units. */
export function formatRange(lower: number, upper: number, range: readonly [number, number]): string {
  if (!Number.isFinite(lower) || !Number.isFinite(upper)) return "—";
  return `${formatValue(lower, range)} to ${formatValue(upper, range)}`;
}

/** A width (upper − lower) in the scale's units: percentage points for shares. */
export function formatWidth(width: number, range: readonly [number, number]): string {
  if (!Number.isFinite(width)) return "—";
  if (isShare(range)) return `${(width * 100).toFixed(1)} points`;
  // On a 0–100 scale (a thermometer) a width reads as points too.
  return range[1] - range[0] >= 100 ? `${formatValue(width, range)} points` : formatValue(width, range);
}

export function isShare(range: readonly [number, number]): boolean {
  return range[0] >= 0 && range[1] <= 1;
}

/** A share of held-out cases as a whole percentage, with the counts it comes from. */
export function formatShare(covered: number, total: number): string {
  if (total === 0) return "—";
  return `${covered} of ${total} (${Math.round((100 * covered) / total)}%)`;
}

/** An item id as a short label: `therm_democrats` → "therm democrats". */
export function shortLabel(item: string): string {
  return item.replace(/[_.]+/g, " ").trim();
}

/** A subgroup as estimands name it (`all`, `party=Democrat`, `party=Democrat+region=South`) for people. */
export function subgroupLabel(subgroup: string | undefined): string {
  if (subgroup === undefined || subgroup === "" || subgroup === "all") return "everyone";
  return subgroup
    .split("+")
    .map((part) => part.replace("=", ": "))
    .join(", ");
}

/** "1 task" / "3 tasks". */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** A list for prose: "a", "a and b", "a, b and c". */
export function prose(list: readonly string[]): string {
  if (list.length <= 1) return list.join("");
  return `${list.slice(0, -1).join(", ")} and ${list[list.length - 1]}`;
}
