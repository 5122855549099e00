/** How the report writes values, ranges, widths, subgroups and warnings: shares as percentages, 0–100 scales with one decimal, diagnostics in words. */
import { describe, expect, it } from "vitest";
import { formatRange, formatShare, formatTick, formatValue, formatWidth, subgroupLabel } from "../../src/report/format.ts";
import { plainWarning } from "../../src/report/words.ts";

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

describe("warnings in plain words", () => {
  it("words the drift diagnostics' warnings", () => {
    expect(
      plainWarning(
        "thermometer ratings (0–100): model simulated:biased: the gap differs between waves more than chance allows (p = 0.002; mean gap from −7.4 points in w2022 to −2.3 points in w2021): tasks of a wave share a shock, so leave-one-out overstates what a new wave will see; trust --protocol chrono or --protocol group",
      ),
    ).toBe('thermometer ratings (0–100): simulated:biased\'s errors differed between past waves more than chance allows, so the forecast wave may differ again; see the drift check under "Should I trust these ranges?".');
    expect(plainWarning("approval: model m, coordinate Opposition: the gap grows 2.1 points a wave over 5 waves (p = 0.001): history may not be exchangeable")).toMatch(
      /^approval: m's errors for Opposition grew 2.1 points a wave, so the forecast wave may differ again/,
    );
  });

  it("words an infeasible step's message, with or without the kind in front", () => {
    expect(
      plainWarning(
        "approval: calibration skipped 4 tasks of model m: α = 0.05 needs at least 40 historical tasks for a finite interval (2/(T+1) < α; 49 for the default split α_e = 0.8α), but there are 20; with 20 the smallest feasible α is above 0.0952",
      ),
    ).toBe("approval: The forecast of 4 questions and subgroups for m: not run — a range at this confidence needs at least 40 past results, and there are only 20.");
    expect(plainWarning("calibration skipped 1 task of model m: α = 0.1 needs at least 19 historical tasks for a finite interval (…), but there are 5; …")).toBe(
      "The forecast of 1 question and subgroup for m: not run — a range at this confidence needs at least 19 past results, and there are only 5.",
    );
  });
});
