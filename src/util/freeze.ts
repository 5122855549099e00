/**
 * Deep freezing, for values made once and shared by many requests (answer
 * schemas and what is derived from them): a frozen value can be cached by
 * identity, since nothing can change it afterwards.
 */

/** Freezes `value` and everything it holds; returns it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Whether `value` and everything it holds are frozen (a primitive is). */
export function isDeepFrozen(value: unknown): boolean {
  if (value === null || typeof value !== "object") return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen);
}
