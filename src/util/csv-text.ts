/**
 * CSV text as silicon writes it: a header row, then the records, every line
 * ended by "\n". A field is quoted when it holds a comma, a quote or a line
 * break, or begins or ends with a space (papaparse's rule; every CSV reader
 * reads such a field back as it was). null and undefined are empty cells;
 * numbers and booleans are spelled as String() spells them.
 *
 * papaparse (silicon's CSV reader too) rather than csv-stringify: the same
 * text, and a table written once per command runs in code not yet compiled
 * hot, where papaparse takes a third of the time (responses.csv of 3,000
 * answers: 17–20 ms against 36–50 ms, measured at the end of `generate`).
 */
import Papa from "papaparse";

export type CsvField = string | number | boolean | null | undefined;

export function csvText(header: readonly string[], records: readonly (readonly CsvField[])[]): string {
  // The header as the first row (not `fields`): papaparse writes nothing at all for fields without data.
  return `${Papa.unparse([header, ...records] as CsvField[][], { newline: "\n" })}\n`;
}
