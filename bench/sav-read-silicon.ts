/**
 * The SPSS bench's silicon side: readTable of the bench file, all columns or
 * those named ("" for none), then one line per column as bench/sav-read-r.R
 * prints it: name, cells not missing, and their sum (numbers) or total UTF-8
 * bytes (strings).
 * Usage: node bench/sav-read-silicon.ts file.sav all|name,name,...
 */
import { readTable } from "../src/tables/read.ts";

const [path, names] = process.argv.slice(2) as [string, string];
const table = await readTable(path, names === "all" ? {} : { columns: names === "" ? [] : names.split(",") });
const lines = [`cases\t${table.numRows}`];
for (const name of table.columnNames) {
  let kept = 0;
  let sum = 0;
  for (const cell of table.columns[name]!) {
    if (cell === null) continue;
    kept += 1;
    sum += typeof cell === "string" ? Buffer.byteLength(cell) : Number(cell);
  }
  lines.push(`${name}\t${kept}\t${sum}`);
}
console.log(lines.join("\n"));
