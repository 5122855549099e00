/**
 * Deterministic randomness for the simulator. Every draw is a pure function
 * of a text key (model, seed, respondent, item, generation...), so the same
 * request always gets the same answer, in any order and at any concurrency.
 */
import { zQuantile } from "../inference/quantiles.ts";

/** cyrb53: a fast, well-mixed 53-bit string hash (public domain, bryc). */
export function hash53(key: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < key.length; i++) {
    const ch = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** A uniform draw in (0, 1) determined by `key` (never exactly 0 or 1). */
export function uniformFromKey(key: string): number {
  return (hash53(key) + 0.5) / 2 ** 53;
}

/** A standard normal draw determined by `key`. */
export function normalFromKey(key: string): number {
  return zQuantile(uniformFromKey(key));
}

/**
 * A seeded stream (sfc32) for sequential work such as drawing a population.
 * Seeded from a key, so two streams with different keys are independent.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(key: string) {
    const h = hash53(key);
    this.a = h >>> 0;
    this.b = Math.floor(h / 4294967296) >>> 0;
    this.c = hash53(key, 1) >>> 0;
    this.d = 1;
    for (let i = 0; i < 15; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  normal(): number {
    return zQuantile((Math.floor(this.next() * 2 ** 32) + 0.5) / 2 ** 32);
  }

  /** An index drawn with the given (unnormalized, non-negative) weights. */
  pick(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let u = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i]!;
      if (u < 0) return i;
    }
    return weights.length - 1;
  }

  /** `k` distinct indices from 0..n-1 (partial Fisher–Yates). */
  sample(n: number, k: number): number[] {
    const pool = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(this.next() * (n - i));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    return pool.slice(0, k);
  }
}
