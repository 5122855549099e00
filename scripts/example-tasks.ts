/**
 * Regenerates examples/tasks.csv from the seeded simulator
 * (src/simulation/example.ts): `node scripts/example-tasks.ts [out.csv]`.
 */
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { tasksTableCsv } from "../src/config/tasks.ts";
import { exampleTasks } from "../src/simulation/example.ts";
import { writeFileAtomic } from "../src/util/atomic-write.ts";

const out = process.argv[2] ?? relative(process.cwd(), fileURLToPath(new URL("../examples/tasks.csv", import.meta.url)));
const rows = exampleTasks();
writeFileAtomic(out, tasksTableCsv(rows));
console.log(`wrote ${rows.length} rows to ${out}`);
