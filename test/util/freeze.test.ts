import { describe, expect, it } from "vitest";
import { deepFreeze, isDeepFrozen } from "../../src/util/freeze.ts";

describe("deepFreeze", () => {
  it("freezes a value and everything it holds, and says so", () => {
    const value = { a: { b: [1, { c: "x" }] }, d: null };
    expect(isDeepFrozen(value)).toBe(false);
    expect(deepFreeze(value)).toBe(value);
    expect(Object.isFrozen(value.a.b[1])).toBe(true);
    expect(isDeepFrozen(value)).toBe(true);
  });

  it("a value frozen only on top is not deeply frozen", () => {
    expect(isDeepFrozen(Object.freeze({ inner: { n: 1 } }))).toBe(false);
    expect(isDeepFrozen(3)).toBe(true);
  });
});
