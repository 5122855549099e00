/**
 * The scale an item's estimates live on: proportions in [0, 1] for binary
 * items and per-option shares, 0–100 for thermometers, the code range for
 * Likert and ordered choices, min–max for numeric items. Calibration pools
 * only tasks on one scale (a gap in thermometer points says nothing about a
 * gap in proportions) and clips intervals to it.
 */
import type { SurveyItem } from "./schema.ts";

export interface Scale {
  /** Pools tasks: e.g. `proportion`, `thermometer`, `likert 1-5`, `numeric 0-10`. */
  key: string;
  /** For people, e.g. "proportions (0–1)", "thermometer ratings (0–100)". */
  label: string;
  range: [number, number];
}

/** Whether an item is estimated per option by default: unordered choices have no meaningful mean. */
export function perOptionByDefault(item: SurveyItem): boolean {
  return item.type === "single_choice" && !item.ordered;
}

export function itemScale(item: SurveyItem, perOption: boolean): Scale {
  if (perOption || item.type === "binary") return { key: "proportion", label: "proportions (0–1)", range: [0, 1] };
  switch (item.type) {
    case "thermometer":
      return { key: "thermometer", label: `thermometer ratings (${item.min}–${item.max})`, range: [item.min, item.max] };
    case "numeric":
      return { key: `numeric ${item.min}-${item.max}`, label: `numbers (${item.min}–${item.max}${item.unit ? ` ${item.unit}` : ""})`, range: [item.min, item.max] };
    case "likert":
    case "single_choice": {
      const codes = item.options.map((o) => o.code);
      const lo = Math.min(...codes);
      const hi = Math.max(...codes);
      return { key: `${item.type} ${lo}-${hi}`, label: `${item.type === "likert" ? "Likert" : "ordered choice"} means (${lo}–${hi})`, range: [lo, hi] };
    }
  }
}
