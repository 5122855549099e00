/** The calibration methods by name, as the command line offers them. */
import type { Algorithm, MethodName } from "./algorithm.ts";
import { algorithm1 } from "./algorithm1.ts";
import { algorithm2 } from "./algorithm2.ts";
import { algorithm4 } from "./algorithm4.ts";
import { algorithm5 } from "./algorithm5.ts";
import { algorithm3, algorithm3Bonferroni, algorithm3Fitted } from "./rectangles.ts";

export const METHODS: Readonly<Record<MethodName, Algorithm>> = {
  alg1: algorithm1,
  alg2: algorithm2,
  alg3: algorithm3,
  "alg3-bonferroni": algorithm3Bonferroni,
  "alg3-fitted": algorithm3Fitted,
  alg4: algorithm4,
  alg5: algorithm5,
};

export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(METHODS, name);
}

/** Error level of the naive synthetic-only interval per coordinate: α, or α/d for a joint rectangle. */
export function naiveLevel(algorithm: Algorithm, alpha: number, dims: number): number {
  return algorithm.joint ? alpha / dims : alpha;
}
