/** How the report writes values, ranges, widths and subgroups: shares as percentages, 0–100 scales with one decimal. */
import { describe, expect, it } from "vitest";
import { formatRange, formatShare, formatTick, formatValue, formatWidth, subgroupLabel } from "../../src/report/format.ts";

describe("report formats", () => {
  it("writes shares as percentages and ratings with decimals fit to the scale", () => {
    expect(formatValue(0.92763, [0, 1])).toBe("92.8%");
    expect(formatValue(35.8329, [0, 100])).toBe("35.8");
    expect(formatValue(3.256, [1, 5])).toBe("3.26");
    expect(formatValue(NaN, [0, 1])).toBe("—");
    expect(formatRange(0.614, 1, [0, 1])).toBe("61.4% to 100.0%");
    expect(formatTick(0.5, [0, 1])).toBe("50%");
    expect(formatTick(20, [0, 100])).toBe("20");
  });

  it("writes widths in points on shares and 0–100 scales", () => {
    expect(formatWidth(0.396, [0, 1])).toBe("39.6 points");
    expect(formatWidth(29.1, [0, 100])).toBe("29.1 points");
    expect(formatWidth(0.8, [1, 5])).toBe("0.80");
  });

  it("writes counts with their share, and subgroups for people", () => {
    expect(formatShare(119, 120)).toBe("119 of 120 (99%)");
    expect(formatShare(0, 0)).toBe("—");
    expect(subgroupLabel("all")).toBe("everyone");
    expect(subgroupLabel("party=Democrat")).toBe("party: Democrat");
    expect(subgroupLabel("party=Democrat+region=South")).toBe("party: Democrat, region: South");
  });
});
