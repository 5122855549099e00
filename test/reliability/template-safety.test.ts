/**
 * Template safety end to end: profile values, SPSS value labels, wave
 * context and option labels that look like handlebars (blocks, partials,
 * triple staches, comments, lookups, prototype access, a context key) reach
 * the vendor exactly as written — from CSV, Parquet and SAV frames, through
 * the real loader, persona templates, question rendering and the OpenAI
 * provider — and are stored that way. Nothing in the data is ever compiled.
 */
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parquetWriteBuffer } from "hyparquet-writer";
import { afterEach, expect, it } from "vitest";
import { loadStudy } from "../../src/config/load.ts";
import { generate } from "../../src/generation/run.ts";
import { startFakeVendor, type FakeVendor } from "../helpers/fake-vendor.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir("silicon-templates-");
let vendor: FakeVendor | undefined;
afterEach(async () => {
  await vendor?.close();
  vendor = undefined;
});

/** Values a template engine would act on if it compiled them. */
const NASTY = [
  "{{#each this}}{{@key}}{{/each}}",
  "{{> evil}}",
  "{{{raw}}}",
  "{{constructor.constructor 'return process'}}",
  "\\{{escaped}} & <b>",
  "{{!-- hidden --}}",
  '{{lookup . "party"}}',
  "{{president}}",
];
const SAV_FIXTURE = new URL("../fixtures/reliability/handlebars-frame.sav", import.meta.url);
/** The SAV fixture's rows (handlebars-frame.sps): names, and party value labels by code. */
const SAV_ROWS = [
  { id: "s1", name: "{{#each this}}{{@key}}{{/each}}", party: "{{{raw}}}" },
  { id: "s2", name: "{{> evil}}", party: '{{lookup . "name"}}' },
  { id: "s3", name: "{{constructor.constructor 'return process'}}", party: "{{!-- hidden --}}" },
];
const CONTEXT_PRESIDENT = "{{name}} {{> partial}}";

function csvField(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

it("prints handlebars syntax in data as text, from CSV, Parquet and SAV, in personas, questions and options", async () => {
  const prompts: { system: string; user: string }[] = [];
  vendor = await startFakeVendor({
    script: (request) => {
      const [system, user] = request.body.messages;
      prompts.push({ system: String(system!.content), user: String(user!.content) });
      return undefined;
    },
  });
  const dir = tempDir();
  const csvRows = NASTY.map((value, i) => ({ id: `c${i + 1}`, name: value, party: NASTY[(i + 3) % NASTY.length]! }));
  const parquetRows = NASTY.map((value, i) => ({ id: `p${i + 1}`, name: NASTY[(i + 5) % NASTY.length]!, party: value }));
  writeFileSync(join(dir, "w1.csv"), ["id,weight,party,name", ...csvRows.map((r) => [r.id, "1", csvField(r.party), csvField(r.name)].join(","))].join("\n") + "\n");
  writeFileSync(
    join(dir, "w2.parquet"),
    new Uint8Array(
      parquetWriteBuffer({
        columnData: [
          { name: "id", data: parquetRows.map((r) => r.id), type: "STRING" },
          { name: "weight", data: parquetRows.map(() => 1), type: "DOUBLE" },
          { name: "party", data: parquetRows.map((r) => r.party), type: "STRING" },
          { name: "name", data: parquetRows.map((r) => r.name), type: "STRING" },
        ],
      }),
    ),
  );
  copyFileSync(SAV_FIXTURE, join(dir, "w3.sav"));
  writeFileSync(join(dir, "persona.hbs"), "You are {{name}}, a {{lowercase party}}. Your president: {{president}}.\n");
  writeFileSync(
    join(dir, "survey.yaml"),
    `id: s
items:
  - id: approve
    type: binary
    text: Do you approve of {{president}}?
    options:
      - { code: 1, label: "{{#if president}}Approve{{/if}}" }
      - { code: 0, label: "{{> disapprove}}" }
`,
  );
  writeFileSync(
    join(dir, "study.yaml"),
    `name: templates
survey: survey.yaml
persona: persona.hbs
waves:
  - { id: w1, frame: w1.csv, role: target, context: { president: ${JSON.stringify(CONTEXT_PRESIDENT)} } }
  - { id: w2, frame: w2.parquet, role: target, context: { president: ${JSON.stringify(CONTEXT_PRESIDENT)} } }
  - { id: w3, frame: w3.sav, role: target, context: { president: ${JSON.stringify(CONTEXT_PRESIDENT)} } }
models: [openai:fake-model]
`,
  );

  const study = await loadStudy(join(dir, "study.yaml"));
  const summary = await generate(study, { env: { OPENAI_BASE_URL: vendor.baseURL }, resultsDir: join(dir, "results") });
  expect(summary.kind === "run" && summary.status).toBe("completed");

  const persona = (name: string, party: string) => `You are ${name}, a ${party.toLowerCase()}. Your president: ${CONTEXT_PRESIDENT}.`;
  const expected = [...csvRows, ...parquetRows, ...SAV_ROWS].map((r) => persona(r.name, r.party)).sort();
  expect(prompts.map((p) => p.system).sort()).toEqual(expected);
  const question = `Do you approve of ${CONTEXT_PRESIDENT}?\n\n1 = {{#if president}}Approve{{/if}}\n0 = {{> disapprove}}\n\n`;
  for (const { user } of prompts) expect(user.startsWith(question), user).toBe(true);

  const db = new DatabaseSync(join(dir, "results/templates/store.sqlite"), { readOnly: true });
  const stored = (db.prepare("SELECT system_prompt FROM calls_with_texts ORDER BY system_prompt").all() as { system_prompt: string }[]).map((r) => r.system_prompt);
  db.close();
  expect(stored).toEqual(expected);
});
