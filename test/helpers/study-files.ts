/** Temporary study folders for tests: write a few files, get their paths, clean up after. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach } from "vitest";

const made: string[] = [];

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writes `files` (relative path → content) into a fresh folder and returns it. */
export function studyDir(files: Record<string, string | Uint8Array>): string {
  const dir = mkdtempSync(join(tmpdir(), "silicon-test-"));
  made.push(dir);
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  return dir;
}

/** A minimal valid survey, persona, frame and study; override any file by name. */
export const BASE_FILES: Record<string, string> = {
  "survey.yaml": `id: s
items:
  - id: approve
    type: binary
    text: Do you approve of {{president}}?
    options:
      - { code: 1, label: Approve }
      - { code: 0, label: Disapprove }
  - id: therm
    type: thermometer
    text: Rate Democrats from 0 to 100.
`,
  "persona.hbs": "You are {{article age}}-year-old {{party}} from the {{region}}, interviewed in {{year}}.\n",
  "w1.csv": `id,weight,party,region,age,approve,therm
r1,1.5,Democrat,South,34,1,80
r2,0.5,Republican,West,61,0,20
r3,1,Independent,Midwest,45,,50
`,
  "w2.csv": `id,weight,party,region,age
r1,1,Democrat,South,34
r4,2,Republican,Northeast,52
`,
  "study.yaml": `name: test
survey: survey.yaml
persona: persona.hbs
waves:
  - id: w1
    frame: w1.csv
    role: historical
    context: { president: Joe Biden, year: 2022 }
  - id: w2
    frame: w2.csv
    role: target
    context: { president: Joe Biden, year: 2024 }
models: [simulated:biased]
`,
};
