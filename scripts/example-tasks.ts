/**
 * Regenerates examples/tasks.csv from the seeded simulator
 * (src/simulation/example.ts): `node scripts/example-tasks.ts [out.csv]`.
 */
import { tasksTableCsv } from "../src/config/tasks.ts";
import { exampleTasks } from "../src/simulation/example.ts";
import { writeFileAtomic } from "../src/util/atomic-write.ts";

const out = process.argv[2] ?? new URL("../examples/tasks.csv", import.meta.url).pathname;
const rows = exampleTasks();
writeFileAtomic(out, tasksTableCsv(rows));
console.log(`wrote ${rows.length} rows to ${out}`);
