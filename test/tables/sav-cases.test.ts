/**
 * The case decoders on hand-made data, cut into pieces every possible way: a
 * case, a block of compression codes, or a raw slot split between two pieces
 * must decode as in one piece, and data that stops inside one must say where.
 */
import { describe, expect, it } from "vitest";
import { caseDecoder } from "../../src/tables/sav-cases.ts";
import type { SavDictionary } from "../../src/tables/sav-dictionary.ts";

/** Two slots per case: a number, then an 8-byte string. */
function dictionary(compression: SavDictionary["compression"]): SavDictionary {
  return {
    littleEndian: true, compression, declaredCases: 3, bias: 100, sysmis: -Number.MAX_VALUE, slotsPerCase: 2,
    variables: [], valueLabels: {}, dataOffset: 0, decoder: new TextDecoder("utf-8"),
  };
}

const double = (value: number) => {
  const bytes = Buffer.alloc(8);
  bytes.writeDoubleLE(value);
  return bytes;
};
const text = (value: string) => Buffer.from(value.padEnd(8, " "), "latin1");

/** 5 and "hello", 1.5 and all spaces, system-missing and "xyz": codes 105 253 253 254 255 253 252, then the raw slots. */
const BYTECODE = Buffer.concat([Buffer.from([105, 253, 253, 254, 255, 253, 252, 0]), text("hello"), double(1.5), text("xyz")]);
const PLAIN = Buffer.concat([double(5), text("hello"), double(1.5), text(""), double(-Number.MAX_VALUE), text("xyz")]);
const CASES = [[5, "hello   "], [1.5, "        "], [-Number.MAX_VALUE, "xyz     "]];

/** Decodes `data` pushed in pieces of `size` bytes: the cases seen, as [number, string]. */
function decode(data: Buffer, size: number, compression: SavDictionary["compression"], wantedSlots = new Uint8Array([1, 1])) {
  const seen: [number, string][] = [];
  const decoder = caseDecoder(dictionary(compression), wantedSlots, (bytes, start) => {
    seen.push([bytes.readDoubleLE(start), bytes.toString("latin1", start + 8, start + 16)]);
  });
  for (let position = 0; position < data.length; position += size) decoder.push(data.subarray(position, position + size));
  return { seen, count: () => decoder.end() };
}

describe("caseDecoder", () => {
  it.each([1, 2, 3, 5, 7, 8, 9, 16, 31, 32, 64])("bytecode in pieces of %i bytes decodes every case", (size) => {
    const { seen, count } = decode(BYTECODE, size, "bytecode");
    expect(count()).toBe(3);
    expect(seen).toEqual(CASES);
  });

  it.each([1, 3, 7, 8, 15, 16, 17, 48])("plain slots in pieces of %i bytes decode every case", (size) => {
    const { seen, count } = decode(PLAIN, size, "none");
    expect(count()).toBe(3);
    expect(seen).toEqual(CASES);
  });

  it("ignores whatever follows the end code, however it is cut", () => {
    for (const size of [1, 5, 40]) {
      const { seen, count } = decode(Buffer.concat([BYTECODE, Buffer.alloc(13, 0xab)]), size, "bytecode");
      expect([count(), seen.length]).toEqual([3, 3]);
    }
  });

  it("writes only the wanted slots of a compressed case", () => {
    const { seen } = decode(BYTECODE, 3, "bytecode", new Uint8Array([1, 0]));
    expect(seen.map(([number, string]) => [number, string === "\0".repeat(8)])).toEqual(CASES.map(([number]) => [number, true]));
  });

  it.each([1, 4, 64])("data that stops inside a raw slot, a block of codes or a case says so (pieces of %i bytes)", (size) => {
    const withoutEnd = Buffer.from(BYTECODE);
    withoutEnd[6] = 0; // no end code: the data must end on a case boundary
    expect(() => decode(withoutEnd.subarray(0, 20), size, "bytecode").count()).toThrow(/^the data ends in the middle of case 2 \(truncated/);
    expect(() => decode(withoutEnd.subarray(0, 28), size, "bytecode").count()).toThrow(/^the data ends in the middle of case 3 \(truncated/);
    expect(() => decode(Buffer.concat([withoutEnd, Buffer.from([105, 105, 105])]), size, "bytecode").count()).toThrow(
      /^the data ends in the middle of a block of compression codes, in case 4 \(truncated/,
    );
    expect(() => decode(Buffer.concat([withoutEnd, Buffer.from([105, 0, 0, 0, 0, 0, 0, 0])]), size, "bytecode").count()).toThrow(
      /^the data ends in the middle of case 4 \(truncated/,
    );
    expect(() => decode(PLAIN.subarray(0, 40), size, "none").count()).toThrow(/^the data ends in the middle of case 3 \(truncated/);
  });
});
