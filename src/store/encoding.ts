/**
 * How keys and times are stored in calls and answers (store schema 4): a
 * request or cell key, 64 hex digits in memory, as the 32 bytes it spells; a
 * time, an ISO 8601 UTC string in memory, as integer milliseconds since
 * 1970. A value of another form (a test's "k1", a time that is not a
 * millisecond ISO string) is stored as it is, so every value reads back
 * exactly as it was written.
 */
import { hash } from "node:crypto";

const LOWER_HEX = /^(?:[0-9a-f]{2})*$/;

export function keyToStore(key: string): Uint8Array | string {
  return isStoredAsBytes(key) ? Buffer.from(key, "hex") : key;
}

/** Whether `keyToStore` stores `key` as the bytes it spells (lowercase hex) rather than as text. */
export function isStoredAsBytes(key: string): boolean {
  return LOWER_HEX.test(key);
}

export function keyFromStore(stored: unknown): string {
  return stored instanceof Uint8Array ? Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength).toString("hex") : String(stored);
}

/*
 * Times come in runs: a group commit writes many rows stamped in the same
 * millisecond, and answers are read back cell by cell, generations of one
 * call together. The last conversion each way is remembered.
 */
let lastIso = "";
let lastMs: number | string = "";
let lastRead = NaN;
let lastReadIso = "";

/** A time as the store is given it: ISO 8601 text, or milliseconds since the epoch (the engine's clock, unconverted). */
export type StoreTime = string | number;

export function timeToStore(time: StoreTime): number | string {
  if (typeof time === "number") return Number.isFinite(time) ? Math.trunc(time) : String(time);
  const iso = time;
  if (iso === lastIso) return lastMs;
  const ms = Date.parse(iso);
  lastIso = iso;
  lastMs = Number.isFinite(ms) && new Date(ms).toISOString() === iso ? ms : iso;
  return lastMs;
}

export function timeFromStore(stored: unknown): string {
  if (typeof stored !== "number") return String(stored);
  if (stored !== lastRead) {
    lastRead = stored;
    lastReadIso = new Date(stored).toISOString();
  }
  return lastReadIso;
}

/** SQL reading a stored key column back as `keyFromStore` does (hex, in SQLite's own code: faster than per row in JavaScript). */
export function keyAsText(sql: string): string {
  return `CASE typeof(${sql}) WHEN 'blob' THEN lower(hex(${sql})) ELSE ${sql} END`;
}

/**
 * What `texts` is looked up by: the first 48 bits of a text's sha256, as an
 * integer (an index of these is a fraction of an index of the texts
 * themselves; equal digests are told apart by comparing the texts).
 */
export function textDigest(text: string): number {
  return hash("sha256", text, "buffer").readUIntBE(0, 6);
}
