import Papa from "papaparse";
import { describe, expect, it } from "vitest";
import { csvText } from "../../src/util/csv-text.ts";

describe("csvText", () => {
  it("writes a header and records, each line ended by a newline; null and undefined empty", () => {
    expect(csvText(["a", "b", "c"], [[1, "x", null], [0.1 + 0.2, undefined, true]])).toBe("a,b,c\n1,x,\n0.30000000000000004,,true\n");
  });

  it("writes the header alone for no records", () => {
    expect(csvText(["a", "b"], [])).toBe("a,b\n");
  });

  it("quotes a field with a comma, a quote, a line break or an outer space, and reads back as it was", () => {
    const fields = ["plain", "a,b", 'say "no"', "two\nlines", "cr\rhere", " lead", "trail ", "in side"];
    const text = csvText(["f"], fields.map((field) => [field]));
    expect(text).toBe('f\nplain\n"a,b"\n"say ""no"""\n"two\nlines"\n"cr\rhere"\n" lead"\n"trail "\nin side\n');
    const parsed = Papa.parse<string[]>(text.trimEnd(), { newline: "\n" }).data.slice(1).map((row) => row[0]);
    expect(parsed).toEqual(fields);
  });
});
