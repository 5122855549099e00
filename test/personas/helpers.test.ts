import { describe, expect, it } from "vitest";
import { article, capitalize, eq, lowercase, number, uppercase, withDefault } from "../../src/personas/helpers.ts";

describe("persona helpers", () => {
  it("chooses a or an by sound, for words and for numbers read aloud", () => {
    const cases: [unknown, string][] = [
      ["Democrat", "a Democrat"], ["Independent", "an Independent"], ["Republican", "a Republican"],
      ["engineer", "an engineer"], ["union member", "a union member"], ["uninsured adult", "an uninsured adult"],
      ["hour", "an hour"], ["honest answer", "an honest answer"], ["European", "a European"], ["one-time voter", "a one-time voter"],
      ["FBI agent", "an FBI agent"], ["US citizen", "a US citizen"], ["MBA", "an MBA"],
      [8, "an 8"], [18, "an 18"], [80, "an 80"], [11, "an 11"], [45, "a 45"], [1, "a 1"], [110, "a 110"], [800, "an 800"],
      ["18,000", "an 18,000"], [11000, "an 11000"], [null, ""], ["", ""],
    ];
    for (const [input, expected] of cases) expect(article(input), String(input)).toBe(expected);
  });

  it("changes case and leaves missing values empty", () => {
    expect(lowercase("Bachelor's Degree")).toBe("bachelor's degree");
    expect(uppercase("south")).toBe("SOUTH");
    expect(capitalize("woman")).toBe("Woman");
    expect(lowercase(null)).toBe("");
  });

  it("formats numbers with grouping and optional decimals, passing text through", () => {
    expect(number(45000)).toBe("45,000");
    expect(number("1234.567")).toBe("1,234.57");
    expect(number(12.5, { hash: { decimals: 0 } } as never)).toBe("13");
    expect(number(3, { hash: { decimals: 1 } } as never)).toBe("3.0");
    expect(number("$50k")).toBe("$50k");
  });

  it("falls back for missing values and compares as text", () => {
    expect(withDefault(null, "none")).toBe("none");
    expect(withDefault("  ", "none")).toBe("none");
    expect(withDefault(0, "none")).toBe(0);
    expect(eq("2", 2)).toBe(true);
    expect(eq(null, "")).toBe(false);
  });
});
