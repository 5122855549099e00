/**
 * The 2-D panels of a vector target: a real value outside the chosen
 * rectangle is marked as missed (as the 1-D figures do), and the legend lists
 * only what is drawn (the other rectangle only when it ran).
 */
import { describe, expect, it } from "vitest";
import { rectangleFigure, type RectanglePanel } from "../../src/report/figures.ts";

const panel = (truth: [number, number] | undefined, alternative: boolean): RectanglePanel => ({
  label: "t",
  rectangles: [
    { name: "naive", kind: "naive", x: [0.4, 0.5], y: [0.4, 0.5] },
    ...(alternative ? [{ name: "alg3-bonferroni", kind: "alternative" as const, x: [0.25, 0.75] as [number, number], y: [0.25, 0.75] as [number, number] }] : []),
    { name: "alg3", kind: "calibrated", x: [0.3, 0.7], y: [0.3, 0.7] },
  ],
  estimate: [0.45, 0.45],
  ...(truth === undefined ? {} : { truth }),
});

describe("rectangleFigure", () => {
  it("marks a real value outside the calibrated rectangle as missed, and one inside as covered", () => {
    const svg = rectangleFigure("f", "x", [panel([0.5, 0.8], false), panel([0.5, 0.5], false)], ["a", "b"], [0, 1]);
    expect(svg.match(/<path class="mark truth missed"/g)).toHaveLength(1);
    expect(svg.match(/<path class="mark truth"/g)).toHaveLength(1);
    expect(svg).toMatch(/real value outside/);
  });

  it("shows the other rectangle in the legend only when one is drawn", () => {
    expect(rectangleFigure("f", "x", [panel(undefined, false)], ["a", "b"], [0, 1])).not.toMatch(/other rectangle/);
    expect(rectangleFigure("f", "x", [panel(undefined, true)], ["a", "b"], [0, 1])).toMatch(/other rectangle/);
  });
});
