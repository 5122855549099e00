/**
 * Running the real command line in a child process, and writing small study
 * folders for it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../bin/silicon.js", import.meta.url));
export const REPO = fileURLToPath(new URL("../../", import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment for a child: no real keys or base URLs leak in from the parent. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(OPENAI|ANTHROPIC|SILICON)_/.test(name) || /API_KEY$/.test(name)) continue;
    env[name] = value;
  }
  return { ...env, NO_COLOR: "1", ...extra };
}

export function spawnCli(args: string[], options: { cwd: string; env?: Record<string, string> }): ChildProcess & { result: Promise<CliResult> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: childEnv(options.env), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const result = new Promise<CliResult>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return Object.assign(child, { result });
}

export function runCli(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<CliResult> {
  return spawnCli(args, options).result;
}

export interface StudyFilesOptions {
  respondents?: number;
  models?: string[];
  generations?: number;
  extra?: string;
}

/**
 * Writes study.yaml, survey.yaml, persona.hbs and frame.csv into `dir`: one
 * target wave, three items (binary, Likert, thermometer), a persona that
 * names the respondent (so every request body is distinct).
 */
export function writeStudy(dir: string, options: StudyFilesOptions = {}): string {
  mkdirSync(dir, { recursive: true });
  const respondents = options.respondents ?? 6;
  const parties = ["Democrat", "Republican", "Independent"];
  const rows = Array.from({ length: respondents }, (_, i) => `R${String(i + 1).padStart(3, "0")},${(0.5 + (i % 5) / 5).toFixed(2)},${parties[i % 3]},${25 + ((i * 11) % 55)}`);
  writeFileSync(join(dir, "frame.csv"), ["id,weight,party,age", ...rows].join("\n") + "\n");
  writeFileSync(
    join(dir, "persona.hbs"),
    "You are respondent {{id}}, {{article age}}-year-old {{party}} living in the United States, interviewed about {{president}}.\n",
  );
  writeFileSync(
    join(dir, "survey.yaml"),
    `id: cli_survey
instructions: Answer as yourself.
items:
  - id: approve
    type: binary
    text: Do you approve of the way {{president}} is handling the job?
  - id: economy
    type: likert
    text: The economy is getting better.
    options:
      - { code: 1, label: Strongly agree }
      - { code: 2, label: Agree }
      - { code: 3, label: Disagree }
      - { code: 4, label: Strongly disagree }
  - id: therm
    type: thermometer
    text: How warm do you feel toward scientists?
`,
  );
  const models = options.models ?? ["openai:fake-model"];
  writeFileSync(
    join(dir, "study.yaml"),
    `name: cli-study
survey: survey.yaml
persona: persona.hbs
waves:
  - id: w1
    frame: frame.csv
    role: target
    context: { president: Joe Biden }
models:
${models.map((m) => `  - ${m}`).join("\n")}
generations: ${options.generations ?? 2}
concurrency: 4
${options.extra ?? ""}
`,
  );
  return join(dir, "study.yaml");
}
