/**
 * Seeded randomness for simulations and examples (never Math.random, so every
 * figure can be reproduced). Two styles share one generator:
 * - keyed draws (`uniformFromKey`, `normalFromKey`): a pure function of a text
 *   key (model, seed, respondent, item, generation...), so the simulated
 *   provider gives the same answer to the same request in any order and at
 *   any concurrency;
 * - streams (`createRng`): xoshiro128** seeded through splitmix32, for
 *   sequential work such as drawing a population or a simulation study.
 */
import { zQuantile as standardNormalQuantile } from "../inference/quantiles.ts";

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

/** A standard normal draw determined by `key` (inversion, so one key gives one draw). */
export function normalFromKey(key: string): number {
  return standardNormalQuantile(uniformFromKey(key));
}

export interface Rng {
  /** Uniform on [0, 1) with 53 random bits. */
  next(): number;
  uniform(min: number, max: number): number;
  /** Standard normal (Marsaglia's polar method). */
  normal(): number;
  /** Exact Binomial(n, p) draw. */
  binomial(n: number, p: number): number;
  /** Uniform integer in [0, n). */
  integer(n: number): number;
  /** An index drawn with the given (unnormalized, non-negative) weights. */
  pick(weights: readonly number[]): number;
  /** `k` distinct indices from 0..n-1 (partial Fisher–Yates). */
  sample(n: number, k: number): number[];
}

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A generator seeded by a non-negative integer or by a text key (hashed);
 * equal seeds give equal streams, different keys independent ones.
 */
export function createRng(seed: number | string): Rng {
  const numeric = typeof seed === "string" ? hash53(seed) : seed;
  // Fold the high bits of a 53-bit hash in, so keys differing there differ.
  const init = splitmix32((numeric ^ Math.floor(numeric / 4294967296)) >>> 0);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  if ((a | b | c | d) === 0) a = 1;
  const next32 = () => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  const next = () => ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992;
  let spare: number | undefined;
  const normal = () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * next() - 1;
      v = 2 * next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const factor = Math.sqrt((-2 * Math.log(s)) / s);
    spare = v * factor;
    return u * factor;
  };
  const rng: Rng = {
    next,
    uniform: (min, max) => min + (max - min) * next(),
    normal,
    binomial: (n, p) => binomial(rng, n, p),
    integer: (n) => Math.floor(next() * n),
    pick: (weights) => {
      let total = 0;
      for (const w of weights) total += w;
      let u = next() * total;
      for (let i = 0; i < weights.length; i++) {
        u -= weights[i]!;
        if (u < 0) return i;
      }
      return weights.length - 1;
    },
    sample: (n, k) => {
      const pool = Array.from({ length: n }, (_, i) => i);
      for (let i = 0; i < k; i++) {
        const j = i + Math.floor(next() * (n - i));
        [pool[i], pool[j]] = [pool[j]!, pool[i]!];
      }
      return pool.slice(0, k);
    },
  };
  return rng;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

const LOG_FACTORIAL_TABLE = (() => {
  const table = new Float64Array(256);
  for (let k = 1; k < 256; k++) table[k] = table[k - 1]! + Math.log(k);
  return table;
})();

/** ln k!: a table below 256, Stirling's series (error < 1e-16 relative) above. */
export function logFactorial(k: number): number {
  if (k < 256) return LOG_FACTORIAL_TABLE[k]!;
  const inv = 1 / k;
  const inv2 = inv * inv;
  return k * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI * k) + inv * (1 / 12 - inv2 * (1 / 360 - inv2 / 1260));
}

/**
 * Exact binomial sampling by inversion over the support enumerated outward
 * from the mode (m, m−1, m+1, m−2, …): any fixed enumeration order gives an
 * exact sampler, and starting at the mode takes O(√(np(1−p))) steps.
 */
function binomial(rng: Rng, n: number, p: number): number {
  if (!(n >= 0) || !Number.isInteger(n)) throw new RangeError(`binomial: n must be a non-negative integer, got ${n}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`binomial: p must be in [0, 1], got ${p}`);
  if (p === 0 || n === 0) return 0;
  if (p === 1) return n;
  const q = 1 - p;
  const mode = Math.min(Math.floor((n + 1) * p), n);
  const atMode = Math.exp(logFactorial(n) - logFactorial(mode) - logFactorial(n - mode) + mode * Math.log(p) + (n - mode) * Math.log(q));
  let u = rng.next() - atMode;
  if (u < 0) return mode;
  let down = mode;
  let up = mode;
  let pDown = atMode;
  let pUp = atMode;
  const ratio = p / q;
  while (down > 0 || up < n) {
    if (down > 0) {
      // P(k−1) = P(k)·k/((n−k+1)·ratio)
      pDown *= down / ((n - down + 1) * ratio);
      down -= 1;
      u -= pDown;
      if (u < 0) return down;
    }
    if (up < n) {
      // P(k+1) = P(k)·(n−k)/(k+1)·ratio
      pUp *= ((n - up) / (up + 1)) * ratio;
      up += 1;
      u -= pUp;
      if (u < 0) return up;
    }
  }
  // Rounding left u a hair above the total mass: the mode is the likeliest answer.
  return mode;
}
