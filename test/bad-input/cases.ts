/**
 * The bad-input corpus: studies, surveys, personas, frames (CSV, Parquet,
 * SAV), tasks tables and estimate inputs with one mistake each, the command
 * that reads them, and the one line it must print (file, then line/row and
 * field/column, then what was expected). Run by corpus.test.ts.
 */
import { readFileSync } from "node:fs";
import { parquetWriteBuffer } from "hyparquet-writer";
import { BASE_FILES } from "../helpers/study-files.ts";

export interface BadInputCase {
  name: string;
  /** Files of the case folder (relative path -> content); `study` cases start from BASE_FILES. */
  files: Record<string, string | Uint8Array>;
  /** Arguments after `silicon`, run in the case folder. */
  args: string[];
  /** The whole stderr, without "silicon: " and the newline. */
  error: RegExp;
  /** Environment for the case (default: no keys or base URLs). */
  env?: Record<string, string>;
  /** A command-line usage error (commander's): there is no stack trace to show with --debug. */
  usage?: true;
}

const SAV = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/bad-input/${name}`, import.meta.url)));

/** An SPSS file whose header declares `cases` cases (the int32 at byte 80). */
function withDeclaredCases(bytes: Uint8Array, cases: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setInt32(80, cases, true);
  return copy;
}

/** A .zsav with 8 bytes of its first zlib block overwritten (the block starts 24 bytes after the dictionary's end). */
function damagedZlibBlock(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  const end = Buffer.from(copy).indexOf(Buffer.from([0xe7, 0x03, 0, 0, 0, 0, 0, 0])) + 8; // record 999, filler 0
  copy.fill(0xff, end + 28, end + 36);
  return copy;
}

/** The base frames w1.csv and w2.csv as one long panel file with a `wave` column. */
const PANEL = [
  "wave," + BASE_FILES["w1.csv"]!.split("\n")[0]!,
  ...BASE_FILES["w1.csv"]!.trimEnd().split("\n").slice(1).map((row) => `w1,${row}`),
  ...BASE_FILES["w2.csv"]!.trimEnd().split("\n").slice(1).map((row) => `w2,${row},,`),
].join("\n") + "\n";

/** The base study with both waves taken from panel.csv; wave w2's rows are those holding `secondValue`. */
function panelStudy(secondValue: string, column = "wave"): string {
  return studyYaml("frame: w1.csv", `frame: { file: panel.csv, wave_column: ${column} }`)
    .replace("frame: w2.csv", `frame: { file: panel.csv, wave_column: ${column}, wave_value: ${secondValue} }`);
}

/** BASE_FILES with some files replaced (undefined removes one). */
function study(overrides: Record<string, string | Uint8Array | undefined> = {}): Record<string, string | Uint8Array> {
  const files: Record<string, string | Uint8Array> = { ...BASE_FILES };
  for (const [name, content] of Object.entries(overrides)) {
    if (content === undefined) delete files[name];
    else files[name] = content;
  }
  return files;
}

/** The base study.yaml with `from` replaced by `to`. */
function studyYaml(from: string | RegExp, to: string): string {
  const text = BASE_FILES["study.yaml"]!;
  const edited = text.replace(from, to);
  if (edited === text) throw new Error(`case setup: ${String(from)} not in study.yaml`);
  return edited;
}

function surveyYaml(from: string | RegExp, to: string): string {
  const text = BASE_FILES["survey.yaml"]!;
  const edited = text.replace(from, to);
  if (edited === text) throw new Error(`case setup: ${String(from)} not in survey.yaml`);
  return edited;
}

/** The base frame w1.csv with line `line` (1 = header) replaced. */
function w1(line: number, replacement: string): string {
  const lines = BASE_FILES["w1.csv"]!.trimEnd().split("\n");
  lines[line - 1] = replacement;
  return lines.join("\n") + "\n";
}

interface ParquetColumn {
  name: string;
  data: unknown[];
  type: "STRING" | "DOUBLE";
}

function parquet(columns: ParquetColumn[]): Uint8Array {
  return new Uint8Array(parquetWriteBuffer({ columnData: columns.map((c) => ({ ...c, nullable: true })) as never }));
}

/** w1.csv as Parquet columns, with `edit` applied. */
function w1Parquet(edit: (columns: ParquetColumn[]) => void = () => {}): Uint8Array {
  const columns: ParquetColumn[] = [
    { name: "id", data: ["r1", "r2", "r3"], type: "STRING" },
    { name: "weight", data: [1.5, 0.5, 1], type: "DOUBLE" },
    { name: "party", data: ["Democrat", "Republican", "Independent"], type: "STRING" },
    { name: "region", data: ["South", "West", "Midwest"], type: "STRING" },
    { name: "age", data: [34, 61, 45], type: "DOUBLE" },
    { name: "approve", data: [1, 0, null], type: "DOUBLE" },
    { name: "therm", data: [80, 20, 50], type: "DOUBLE" },
  ];
  edit(columns);
  return parquet(columns);
}

const withFrame = (file: string) => studyYaml("frame: w1.csv", `frame: ${file}`);

const GENERATE = ["generate", "study.yaml"];

const TASKS = `task,model,role,group,real_est,real_se,real_n,syn_est,syn_se,syn_n
a|all@1,m,history,1,0.50,0.02,500,0.55,0.02,400
b|all@1,m,history,1,0.40,0.02,500,0.42,0.02,400
c|all@1,m,history,1,0.30,0.02,500,0.36,0.02,400
d|all@1,m,history,1,0.60,0.02,500,0.61,0.02,400
e|all@1,m,history,1,0.45,0.02,500,0.50,0.02,400
f|all@1,m,history,1,0.35,0.02,500,0.33,0.02,400
g|all@1,m,history,1,0.55,0.02,500,0.60,0.02,400
h|all@1,m,history,1,0.65,0.02,500,0.70,0.02,400
a|all@2,m,target,2,,,,0.52,0.02,400
`;

/** TASKS with line `line` (1 = header) replaced. */
function tasks(line: number, replacement: string): string {
  const lines = TASKS.trimEnd().split("\n");
  lines[line - 1] = replacement;
  return lines.join("\n") + "\n";
}

const CALIBRATE = (file = "tasks.csv") => ["calibrate", "--tasks", file, "--out", "out/intervals.csv"];

const REAL = `id,weight,party,therm,approve
r1,1.5,Democrat,80,1
r2,0.5,Republican,20,0
r3,1,Independent,55,1
r4,2,Democrat,70,0
`;
const SYN = `id,generation,therm,approve
r1,1,75,1
r1,2,70,1
r2,1,30,0
r2,2,25,0
r3,1,50,1
r3,2,60,0
r4,1,65,1
r4,2,72,0
`;

function lineReplaced(text: string, line: number, replacement: string): string {
  const lines = text.trimEnd().split("\n");
  lines[line - 1] = replacement;
  return lines.join("\n") + "\n";
}

const ESTIMATE = (real = "real.csv", syn = "syn.csv") => [
  "estimate", "--real", real, "--synthetic", syn, "--id", "id", "--weight", "weight", "--items", "therm,approve",
  "--generation", "generation", "--out", "out/tasks.csv",
];

export const CASES: BadInputCase[] = [
  // ---- study.yaml ----
  { name: "study: invalid YAML", files: study({ "study.yaml": "name: test\nwaves: [\n  - id: w1\n" }), args: GENERATE, error: /^study\.yaml: line 3: invalid YAML: block collections are not allowed within flow collections/ },
  { name: "study: empty file", files: study({ "study.yaml": "" }), args: GENERATE, error: /^study\.yaml: the file is empty: expected a study \(name, survey, persona, waves, models\)$/ },
  { name: "study: a list, not a mapping", files: study({ "study.yaml": "- name: test\n" }), args: GENERATE, error: /^study\.yaml: line 1: expected a study \(name, survey, persona, waves, models\), got a list$/ },
  { name: "study: unknown key with a likely typo", files: study({ "study.yaml": studyYaml("models:", "generation: 2\nmodels:") }), args: GENERATE, error: /^study\.yaml: line 13, field "generation": unknown key "generation"; did you mean "generations"\?$/ },
  { name: "study: missing required key", files: study({ "study.yaml": studyYaml("survey: survey.yaml\n", "") }), args: GENERATE, error: /^study\.yaml: line 1, field "survey": missing: expected a text$/ },
  { name: "study: wave role", files: study({ "study.yaml": studyYaml("role: target", "role: forecast") }), args: GENERATE, error: /^study\.yaml: line 11, field "waves\[1\]\.role": expected "historical" or "target", got "forecast"$/ },
  { name: "study: duplicate wave ids", files: study({ "study.yaml": studyYaml("id: w2", "id: w1") }), args: GENERATE, error: /^study\.yaml: line 9, field "waves\[1\]\.id": wave id "w1" appears twice \(also entry 1\)$/ },
  { name: "study: unknown vendor", files: study({ "study.yaml": studyYaml("models: [simulated:biased]", "models: [mistral:large]") }), args: GENERATE, error: /^study\.yaml: line 13, field "models\[0\]": expected vendor:model with vendor anthropic, openai or simulated, got "mistral:large"$/ },
  { name: "study: unknown simulated model", files: study({ "study.yaml": studyYaml("simulated:biased", "simulated:honest") }), args: GENERATE, error: /^study\.yaml: line 13, field "models\[0\]": unknown simulated model "honest": expected one of faithful, biased, polarized, erratic/ },
  { name: "study: temperature out of range", files: study({ "study.yaml": studyYaml("models:", "temperature: 3\nmodels:") }), args: GENERATE, error: /^study\.yaml: line 13, field "temperature": expected a number ≤ 2, got 3$/ },
  { name: "study: generations not a whole number", files: study({ "study.yaml": studyYaml("models:", "generations: two\nmodels:") }), args: GENERATE, error: /^study\.yaml: line 13, field "generations": expected a number, got "two"$/ },
  { name: "study: name with spaces", files: study({ "study.yaml": studyYaml("name: test", "name: my study") }), args: GENERATE, error: /^study\.yaml: line 1, field "name": expected letters, digits, _ \. - \(starting with a letter or _\), got "my study"$/ },
  { name: "study: negative budget", files: study({ "study.yaml": studyYaml("models:", "budget: { max_cost_usd: -5 }\nmodels:") }), args: GENERATE, error: /^study\.yaml: line 13, field "budget\.max_cost_usd": expected a number > 0, got -5$/ },
  { name: "study: survey file missing", files: study({ "survey.yaml": undefined }), args: GENERATE, error: /^study\.yaml: line 2, field "survey": file not found: survey\.yaml$/ },
  { name: "study: frame file missing", files: study({ "w2.csv": undefined }), args: GENERATE, error: /^study\.yaml: line 10, field "waves\[1\]\.frame": file not found: w2\.csv$/ },
  { name: "study: unknown elicitation", files: study({ "study.yaml": studyYaml("models:", "elicitation: telepathy\nmodels:") }), args: GENERATE, error: /^study\.yaml: line 13, field "elicitation": expected "structured", "free_text", "logprobs" or "questionnaire", got "telepathy"$/ },
  {
    name: "study: log-probabilities from a model that has none",
    files: study({ "study.yaml": studyYaml("models: [simulated:biased]", "elicitation: logprobs\nmodels: [anthropic:claude-haiku-5-5]") }),
    args: GENERATE,
    env: { ANTHROPIC_API_KEY: "sk-ant-corpus-000000" },
    error: /^study\.yaml: line 13, field "elicitation": logprobs elicitation reads the first token's log-probabilities, and anthropic:claude-haiku-5-5 has none/,
  },
  {
    name: "study: an endpoint that is not a URL",
    files: study({ "study.yaml": BASE_FILES["study.yaml"] + "endpoints:\n  simulated:biased:\n    - gpu1 port 8000\n" }),
    args: GENERATE,
    error: /^study\.yaml: line 16, field "endpoints\.simulated:biased\[0\]\.base_url": expected an http\(s\) URL, e\.g\. http:\/\/gpu1:8000\/v1, got "gpu1 port 8000"$/,
  },
  {
    name: "study: an endpoint key variable not named like a key",
    files: study({ "study.yaml": BASE_FILES["study.yaml"] + "endpoints:\n  simulated:biased:\n    - { api_key_env: TEAM_KEY }\n" }),
    args: GENERATE,
    error: /^study\.yaml: line 16, field "endpoints\.simulated:biased\[0\]\.api_key_env": expected the name of an environment variable ending in API_KEY, e\.g\. OPENAI_TEAM2_API_KEY, got "TEAM_KEY"$/,
  },
  { name: "generate: --poll-interval not a number", files: study(), args: [...GENERATE, "--batch", "--poll-interval", "soon"], error: /^--poll-interval expects a number of seconds from 0\.001 to 86400 \(24 hours\); got "soon"$/ },
  { name: "generate: --no-wait without --batch", files: study(), args: [...GENERATE, "--no-wait"], error: /^--no-wait only applies to --batch runs$/ },
  {
    name: "study: anthropic model at another temperature",
    files: study({ "study.yaml": studyYaml("models: [simulated:biased]", "temperature: 0.5\nmodels: [anthropic:claude-haiku-5-5]") }),
    args: GENERATE,
    env: { ANTHROPIC_API_KEY: "sk-ant-corpus-000000" },
    error: /^study\.yaml: line 13, field "temperature": anthropic:claude-haiku-5-5 samples at temperature 1 only; set temperature: 1 in the study/,
  },
  { name: "study: API key missing", files: study({ "study.yaml": studyYaml("models: [simulated:biased]", "models: [openai:gpt-6-luna]") }), args: GENERATE, error: /^study\.yaml: line 13, field "models\[0\]": openai:gpt-6-luna needs an API key: set the environment variable OPENAI_API_KEY/ },
  {
    name: "study: no price for a vendor model",
    files: study({ "study.yaml": studyYaml("models: [simulated:biased]", "models: [openai:gpt-6-lunar]") }),
    args: GENERATE,
    env: { OPENAI_API_KEY: "sk-corpus-000000" },
    error: /^study\.yaml: line 13, field "models\[0\]": no known price for openai:gpt-6-lunar \(did you mean openai:gpt-6-luna\?\); if the model name is right, add its price under prices: in the study/,
  },
  { name: "generate: --max-cost not an amount", files: study(), args: [...GENERATE, "--max-cost", "five"], error: /^--max-cost expects a number of US dollars, e\.g\. 5 or 0\.50; got "five"$/ },
  { name: "generate: study file does not exist", files: study(), args: ["generate", "nope.yaml"], error: /^nope\.yaml: file not found$/ },

  // ---- survey.yaml ----
  { name: "survey: unknown item type", files: study({ "survey.yaml": surveyYaml("type: thermometer", "type: scale") }), args: GENERATE, error: /^survey\.yaml: line 10, field "items\[1\]\.type": unknown item type "scale": expected one of binary, single_choice, likert, thermometer, numeric$/ },
  { name: "survey: duplicate item ids", files: study({ "survey.yaml": surveyYaml("id: therm", "id: approve") }), args: GENERATE, error: /^survey\.yaml: line 9, field "items\[1\]\.id": item id "approve" appears twice \(also entry 1\)$/ },
  {
    name: "survey: likert with two options",
    files: study({ "survey.yaml": surveyYaml("type: binary", "type: likert") }),
    args: GENERATE,
    error: /^survey\.yaml: line 7, field "items\[0\]\.options": expected at least 3 items, got 2$/,
  },
  { name: "survey: numeric without a range", files: study({ "survey.yaml": surveyYaml("type: thermometer", "type: numeric") }), args: GENERATE, error: /^survey\.yaml: line 9, field "items\[1\]\.min": missing: expected a number \(and 1 more problem\)$/ },
  {
    name: "survey: duplicate option codes",
    files: study({ "survey.yaml": surveyYaml("type: binary", "type: single_choice").replace("{ code: 0, label: Disapprove }", "{ code: 1, label: Disapprove }") }),
    args: GENERATE,
    error: /^survey\.yaml: line 8, field "items\[0\]\.options\[1\]\.code": code 1 is used twice \(also option 1\)$/,
  },
  { name: "survey: question uses a key no wave defines", files: study({ "survey.yaml": surveyYaml("{{president}}", "{{governor}}") }), args: GENERATE, error: /^study\.yaml: line 8, field "waves\[0\]\.context": item "approve" of survey\.yaml uses \{\{governor\}\}, which the context of wave "w1" does not define$/ },
  { name: "survey: question with a template syntax error", files: study({ "survey.yaml": surveyYaml("{{president}}", "{{#if president}}x") }), args: GENERATE, error: /^survey\.yaml: line 5, field "items\[0\]\.text": invalid template: unexpected end of template \(a block is not closed\?\)$/ },

  // ---- persona.hbs ----
  { name: "persona: field in no frame or context", files: study({ "persona.hbs": "You are {{income}} rich.\n" }), args: GENERATE, error: /^persona\.hbs: field "income": not a column of w1\.csv \(wave "w1"\) nor a key of its context; the frame has: id, weight, party, region, age, approve, therm$/ },
  { name: "persona: syntax error", files: study({ "persona.hbs": "You are\n{{#if age}}old\n" }), args: GENERATE, error: /^persona\.hbs: line 3: invalid template: unexpected end of template \(a block is not closed\?\)$/ },
  { name: "persona: unknown helper", files: study({ "persona.hbs": "You are {{shout party}}.\n" }), args: GENERATE, error: /^persona\.hbs: line 1: unknown helper "shout": silicon provides lowercase, uppercase, capitalize, article, number, with_default, eq, if, unless, each, with$/ },
  { name: "persona: partial", files: study({ "persona.hbs": "You are {{> person}}.\n" }), args: GENERATE, error: /^persona\.hbs: line 1: partials \(\{\{> name\}\}\) are not supported: write the text into the template$/ },
  { name: "persona: uses a real answer", files: study({ "persona.hbs": "You are {{party}}; you said {{approve}}.\n" }), args: GENERATE, error: /^persona\.hbs: field "approve": column "approve" holds the real answers to item "approve": a persona that shows it leaks the answer into the prompt$/ },
  { name: "persona: empty", files: study({ "persona.hbs": "" }), args: GENERATE, error: /^persona\.hbs: the template is empty: expected the persona text$/ },
  { name: "persona: only comments", files: study({ "persona.hbs": "{{!-- describe the respondent here --}}\n" }), args: GENERATE, error: /^persona\.hbs: the template has only comments: expected the persona text$/ },
  { name: "persona: lookup of a field in no frame or context", files: study({ "persona.hbs": 'You are {{lookup this "incomee"}}.\n' }), args: GENERATE, error: /^persona\.hbs: field "incomee": not a column of w1\.csv \(wave "w1"\) nor a key of its context; the frame has: id, weight, party, region, age, approve, therm$/ },
  { name: "persona: a list in the wave context", files: study({ "study.yaml": studyYaml("year: 2022", "year: [2022, 2023]") }), args: GENERATE, error: /^persona\.hbs: field "year": the wave context's "year" is a list \(2022, 2023\), which would print as "2022,2023": print its items with \{\{#each year\}\}\{\{this\}\}\{\{\/each\}\}, or give a text \(wave "w1", w1\.csv row 1\)$/ },
  { name: "persona: ../ above the top of the template", files: study({ "persona.hbs": "You are from the {{../region}}.\n" }), args: GENERATE, error: /^persona\.hbs: line 1: \{\{\.\.\/region\}\} refers above the top of the template: "\.\.\/" reaches out of an \{\{#each\}\} or \{\{#with\}\} block, and there is none here; write \{\{region\}\}$/ },
  { name: "frame csv: a NUL byte in a field", files: study({ "w1.csv": w1(3, "r2,0.5,Repub\u0000lican,West,61,0,20") }), args: GENERATE, error: /^w1\.csv: row 2 \(line 3\), column "party": the value contains a NUL byte \(\\0\): is the file binary or damaged\?$/ },
  { name: "persona: a respondent lacks a printed value", files: study({ "w1.csv": w1(3, "r2,0.5,Republican,,61,0,20") }), args: GENERATE, error: /^persona\.hbs: field "region": respondent "r2" has no value for "region"; if it may be missing, guard it with .* \(wave "w1", w1\.csv row 2\)$/ },

  // ---- frames: CSV ----
  { name: "frame csv: duplicate id", files: study({ "w1.csv": w1(4, "r1,1,Independent,Midwest,45,,50") }), args: GENERATE, error: /^w1\.csv: row 3 \(line 4\), column "id": duplicate respondent id "r1" \(also row 1\): ids must be unique within a frame; a file holding several waves needs frame: \{file, wave_column\}$/ },
  { name: "frame csv: negative weight", files: study({ "w1.csv": w1(3, "r2,-0.5,Republican,West,61,0,20") }), args: GENERATE, error: /^w1\.csv: row 2 \(line 3\), column "weight": expected a non-negative weight, got "-0\.5"$/ },
  { name: "frame csv: missing weight", files: study({ "w1.csv": w1(3, "r2,,Republican,West,61,0,20") }), args: GENERATE, error: /^w1\.csv: row 2 \(line 3\), column "weight": missing value: expected a non-negative weight$/ },
  { name: "frame csv: weight not a number", files: study({ "w1.csv": w1(3, "r2,half,Republican,West,61,0,20") }), args: GENERATE, error: /^w1\.csv: row 2 \(line 3\), column "weight": expected a non-negative weight, got "half"$/ },
  { name: "frame csv: all weights zero", files: study({ "w2.csv": "id,weight,party,region,age\nr1,0,Democrat,South,34\nr4,0,Republican,Northeast,52\n" }), args: GENERATE, error: /^w2\.csv: field "weight": every weight is zero: expected at least one positive weight$/ },
  { name: "frame csv: no id column", files: study({ "w2.csv": "key,weight,party,region,age\nr1,1,Democrat,South,34\n" }), args: GENERATE, error: /^w2\.csv: field "id": missing column \(respondent id; set respondent\.id in the study\); the file has: key, weight, party, region, age$/ },
  { name: "frame csv: answer not an option", files: study({ "w1.csv": w1(2, "r1,1.5,Democrat,South,34,5,80") }), args: GENERATE, error: /^w1\.csv: row 1 \(line 2\), column "approve": expected one of 1 \(Approve\), 0 \(Disapprove\) for item "approve", got "5"$/ },
  { name: "frame csv: thermometer out of range", files: study({ "w1.csv": w1(4, "r3,1,Independent,Midwest,45,,150") }), args: GENERATE, error: /^w1\.csv: row 3 \(line 4\), column "therm": expected a rating from 0 to 100 for item "therm", got "150"$/ },
  { name: "frame csv: ragged row", files: study({ "w1.csv": w1(3, "r2,0.5,Republican,West,61,0") }), args: GENERATE, error: /^w1\.csv: row 2 \(line 3\): not valid CSV: expected 7 fields, as the header has, got 6$/ },
  { name: "frame csv: unclosed quote", files: study({ "w1.csv": w1(3, 'r2,0.5,"Republican,West,61,0,20') }), args: GENERATE, error: /^w1\.csv: row 2 \(line 3\): not valid CSV: a quoted field opened on line 3 is never closed \(a stray " \?\)$/ },

  // ---- frames: Parquet ----
  {
    name: "frame parquet: duplicate id",
    files: study({ "study.yaml": withFrame("w1.parquet"), "w1.parquet": w1Parquet((c) => (c[0]!.data[2] = "r1")) }),
    args: GENERATE,
    error: /^w1\.parquet: row 3, column "id": duplicate respondent id "r1" \(also row 1\): ids must be unique within a frame; a file holding several waves needs frame: \{file, wave_column\}$/,
  },
  {
    name: "frame parquet: negative weight",
    files: study({ "study.yaml": withFrame("w1.parquet"), "w1.parquet": w1Parquet((c) => (c[1]!.data[1] = -2)) }),
    args: GENERATE,
    error: /^w1\.parquet: row 2, column "weight": expected a non-negative weight, got -2$/,
  },
  {
    name: "frame parquet: no weight column",
    files: study({ "study.yaml": withFrame("w1.parquet"), "w1.parquet": w1Parquet((c) => c.splice(1, 1)) }),
    args: GENERATE,
    error: /^w1\.parquet: field "weight": missing column \(respondent weight; set respondent\.weight in the study\); the file has: id, party, region, age, approve, therm$/,
  },
  {
    name: "frame parquet: answer not an option",
    files: study({ "study.yaml": withFrame("w1.parquet"), "w1.parquet": w1Parquet((c) => (c[5]!.data[0] = 7)) }),
    args: GENERATE,
    error: /^w1\.parquet: row 1, column "approve": expected one of 1 \(Approve\), 0 \(Disapprove\) for item "approve", got 7; if 7 means no answer, list it under "missing:" in item "approve"$/,
  },
  { name: "frame parquet: not a Parquet file", files: study({ "study.yaml": withFrame("w1.parquet"), "w1.parquet": "id,weight\nr1,1\n" }), args: GENERATE, error: /^w1\.parquet: not a readable Parquet file: parquet file invalid \(footer != PAR1\)$/ },

  // ---- frames: SAV ----
  { name: "frame sav: code neither an option nor missing", files: study({ "study.yaml": withFrame("w1.sav"), "w1.sav": SAV("undeclared-code.sav") }), args: GENERATE, error: /^w1\.sav: row 2, column "approve": expected one of 1 \(Approve\), 0 \(Disapprove\) for item "approve", got 998 \("Don't know"\); if 998 means no answer, list it under "missing:" in item "approve"$/ },
  { name: "frame sav: duplicate id", files: study({ "study.yaml": withFrame("w1.sav"), "w1.sav": SAV("duplicate-id.sav") }), args: GENERATE, error: /^w1\.sav: row 3, column "id": duplicate respondent id "r1" \(also row 1\): ids must be unique within a frame; a file holding several waves needs frame: \{file, wave_column\}$/ },
  { name: "frame sav: negative weight", files: study({ "study.yaml": withFrame("w1.sav"), "w1.sav": SAV("negative-weight.sav") }), args: GENERATE, error: /^w1\.sav: row 2, column "weight": expected a non-negative weight, got -0\.5$/ },
  { name: "frame sav: thermometer out of range", files: study({ "study.yaml": withFrame("w1.sav"), "w1.sav": SAV("therm-out-of-range.sav") }), args: GENERATE, error: /^w1\.sav: row 3, column "therm": expected a rating from 0 to 100 for item "therm", got 150; if 150 means no answer, list it under "missing:" in item "therm"$/ },
  { name: "frame sav: truncated file", files: study({ "study.yaml": withFrame("w1.sav"), "w1.sav": SAV("duplicate-id.sav").slice(0, 300) }), args: GENERATE, error: /^w1\.sav: not a readable SPSS file: the file ends early, inside a variable record at byte 296 \(truncated or incompletely copied\?\)$/ },
  { name: "frame sav: header declares more cases than the data holds", files: study({ "study.yaml": withFrame("w1.sav"), "w1.sav": withDeclaredCases(SAV("valid.sav"), 4) }), args: GENERATE, error: /^w1\.sav: not a readable SPSS file: its header declares 4 cases but the data holds 3 \(truncated or incompletely copied\?\)$/ },
  { name: "frame sav: header declares fewer cases than the data holds", files: study({ "study.yaml": withFrame("w1.sav"), "w1.sav": withDeclaredCases(SAV("valid.sav"), 2) }), args: GENERATE, error: /^w1\.sav: not a readable SPSS file: its header declares 2 cases but the data holds 3$/ },
  { name: "frame sav: a CSV renamed .sav", files: study({ "study.yaml": withFrame("w1.sav"), "w1.sav": BASE_FILES["w1.csv"]! }), args: GENERATE, error: /^w1\.sav: not a readable SPSS file: it does not start as an SPSS system file does \(\$FL2 or \$FL3\) but with "id,w"; is it another format renamed\?$/ },
  { name: "frame sav: garbage after the header", files: study({ "study.yaml": withFrame("w1.sav"), "w1.sav": new Uint8Array([...SAV("valid.sav").slice(0, 176), ...new Uint8Array(40).fill(0xab)]) }), args: GENERATE, error: /^w1\.sav: not a readable SPSS file: unknown record type -1414812757 at byte 176: the dictionary is damaged$/ },
  { name: "frame zsav: truncated file (no zlib trailer)", files: study({ "study.yaml": withFrame("w1.zsav"), "w1.zsav": SAV("valid.zsav").slice(0, -30) }), args: GENERATE, error: /^w1\.zsav: not a readable SPSS file: the file ends early: its zlib trailer should be at bytes 1080-1128 but the file has 1098 \(truncated or incompletely copied\?\)$/ },
  { name: "frame zsav: damaged zlib block", files: study({ "study.yaml": withFrame("w1.zsav"), "w1.zsav": damagedZlibBlock(SAV("valid.zsav")) }), args: GENERATE, error: /^w1\.zsav: not a readable SPSS file: zlib block 1 of 1 is damaged \(incorrect data check\)$/ },

  // ---- frames: panel waves in one file ----
  { name: "frame panel: a wave with no rows", files: study({ "study.yaml": panelStudy("w3"), "panel.csv": PANEL, "w1.csv": undefined, "w2.csv": undefined }), args: GENERATE, error: /^panel\.csv: field "wave": no rows for wave "w2": expected rows holding "w3", the column holds "w1", "w2"; set wave_value in the wave's frame if the file codes the wave otherwise$/ },
  { name: "frame panel: wave column missing", files: study({ "study.yaml": panelStudy("w2", "round"), "panel.csv": PANEL, "w1.csv": undefined, "w2.csv": undefined }), args: GENERATE, error: /^panel\.csv: field "round": missing column \(the wave of each row, frame\.wave_column of wave "w1"\); the file has: wave, id, weight, party, region, age, approve, therm$/ },
  { name: "frame panel: duplicate id within a wave", files: study({ "study.yaml": panelStudy("w2"), "panel.csv": PANEL.replace("w2,r4", "w2,r1"), "w1.csv": undefined, "w2.csv": undefined }), args: GENERATE, error: /^panel\.csv: row 5 \(line 6\), column "id": duplicate respondent id "r1" in wave "w2" \(also row 4\): ids must be unique within a wave$/ },
  { name: "frame panel: a row without its wave", files: study({ "study.yaml": panelStudy("w2"), "panel.csv": PANEL.replace("w2,r4", ",r4"), "w1.csv": undefined, "w2.csv": undefined }), args: GENERATE, error: /^panel\.csv: row 5 \(line 6\), column "wave": missing wave: every row of a panel file must say which wave it belongs to$/ },

  // ---- tasks tables: calibrate, evaluate, compare ----
  { name: "tasks: missing required column", files: { "tasks.csv": TASKS.replaceAll(",syn_se", "").replace(/,0\.02,400\n/g, ",400\n") }, args: CALIBRATE(), error: /^tasks\.csv: field "syn_se": missing column \(a tasks table needs task, role, real_est, syn_est and syn_se\); the file has: task, model, role, group, real_est, real_se, real_n, syn_est, syn_n$/ },
  { name: "tasks: estimate not a number", files: { "tasks.csv": tasks(4, "c|all@1,m,history,1,high,0.02,500,0.36,0.02,400") }, args: CALIBRATE(), error: /^tasks\.csv: row 3 \(line 4\), column "real_est": expected a number \(the real estimate\), got "high"$/ },
  { name: "tasks: unknown role", files: { "tasks.csv": tasks(3, "b|all@1,m,past,1,0.40,0.02,500,0.42,0.02,400") }, args: CALIBRATE(), error: /^tasks\.csv: row 2 \(line 3\), column "role": expected "history" or "target", got "past"$/ },
  { name: "tasks: negative standard error", files: { "tasks.csv": tasks(5, "d|all@1,m,history,1,0.60,0.02,500,0.61,-0.02,400") }, args: CALIBRATE(), error: /^tasks\.csv: row 4 \(line 5\), column "syn_se": expected a standard error ≥ 0, got "-0\.02"$/ },
  { name: "tasks: history row without a real estimate", files: { "tasks.csv": tasks(6, "e|all@1,m,history,1,,0.02,500,0.50,0.02,400") }, args: CALIBRATE(), error: /^tasks\.csv: row 5 \(line 6\), column "real_est": missing value: a history row needs its real estimate \(use role target for a task without real data\)$/ },
  { name: "tasks: the same task twice", files: { "tasks.csv": tasks(3, "a|all@1,m,history,1,0.40,0.02,500,0.42,0.02,400") }, args: CALIBRATE(), error: /^tasks\.csv: row 2 \(line 3\), column "task": duplicate task "a\|all@1" of model "m" \(first at row 1 \(line 2\)\)$/ },
  { name: "tasks: file does not exist", files: {}, args: CALIBRATE("missing.csv"), error: /^missing\.csv: file not found$/ },
  { name: "tasks: unsupported format", files: { "tasks.xlsx": "PK\u0003\u0004" }, args: CALIBRATE("tasks.xlsx"), error: /^tasks\.xlsx: unknown table format: expected a \.csv, \.parquet, \.sav or \.zsav file$/ },
  {
    name: "tasks parquet: missing required column",
    files: {
      "tasks.parquet": parquet([
        { name: "task", data: ["a", "b"], type: "STRING" },
        { name: "role", data: ["history", "target"], type: "STRING" },
        { name: "syn_est", data: [0.5, 0.4], type: "DOUBLE" },
        { name: "syn_se", data: [0.02, 0.02], type: "DOUBLE" },
      ]),
    },
    args: CALIBRATE("tasks.parquet"),
    error: /^tasks\.parquet: field "real_est": missing column \(a tasks table needs task, role, real_est, syn_est and syn_se\); the file has: task, role, syn_est, syn_se$/,
  },
  { name: "evaluate: bad estimate in the tasks table", files: { "tasks.csv": tasks(7, "f|all@1,m,history,1,0.35,0.02,500,n/a,0.02,400") }, args: ["evaluate", "--tasks", "tasks.csv", "--protocol", "loo", "--out", "out/eval.csv"], error: /^tasks\.csv: row 6 \(line 7\), column "syn_est": expected a number \(the synthetic estimate\), got "n\/a"$/ },
  { name: "evaluate: unknown protocol", files: { "tasks.csv": TASKS }, args: ["evaluate", "--tasks", "tasks.csv", "--protocol", "kfold", "--out", "out/eval.csv"], error: /^--protocol must be loo, chrono or group, got "kfold"$/ },
  { name: "compare: unknown role in the tasks table", files: { "tasks.csv": tasks(9, "a|all@2,m,forecast,2,,,,0.52,0.02,400") }, args: ["compare", "--tasks", "tasks.csv", "--out", "out/compare.csv"], error: /^tasks\.csv: row 8 \(line 9\), column "role": expected "history" or "target", got "forecast"$/ },
  { name: "calibrate: alpha outside (0, 1)", files: { "tasks.csv": TASKS }, args: [...CALIBRATE(), "--alpha", "1.5"], error: /^--alpha must be a number in \(0, 1\), got 1\.5$/ },

  // ---- estimate --real --synthetic ----
  { name: "estimate: real file lacks the id column", files: { "real.csv": REAL.replace("id,weight", "key,weight"), "syn.csv": SYN }, args: ESTIMATE(), error: /^real\.csv: field "id": missing column \(respondent ids, --id\); the file has: key, weight, party, therm, approve$/ },
  { name: "estimate: synthetic answer not a number", files: { "real.csv": REAL, "syn.csv": lineReplaced(SYN, 4, "r2,1,warm,0") }, args: ESTIMATE(), error: /^syn\.csv: row 3 \(line 4\), column "therm": expected a number \(an answer to item "therm"\), got "warm"/ },
  { name: "estimate: negative weight", files: { "real.csv": lineReplaced(REAL, 3, "r2,-0.5,Republican,20,0"), "syn.csv": SYN }, args: ESTIMATE(), error: /^real\.csv: row 2 \(line 3\), column "weight": expected a non-negative weight, got "-0\.5"$/ },
  { name: "estimate: synthetic ids the real file lacks", files: { "real.csv": REAL, "syn.csv": SYN + "x9,1,50,1\n" }, args: ESTIMATE(), error: /^syn\.csv: row 9 \(line 10\), column "id": 1 id matches no respondent of real\.csv \(2 answers\): x9; check the id column, or pass --allow-unmatched to skip them$/ },
  { name: "estimate: two answers in one generation", files: { "real.csv": REAL, "syn.csv": lineReplaced(SYN, 3, "r1,1,70,1") }, args: ESTIMATE(), error: /^syn\.csv: row 2 \(line 3\), column "generation": respondent "r1" answers item "therm" twice in this generation \(first on row 1\); each generation must be one answer$/ },
  { name: "estimate: duplicate real id", files: { "real.csv": lineReplaced(REAL, 4, "r1,1,Independent,55,1"), "syn.csv": SYN }, args: ESTIMATE(), error: /^real\.csv: row 3 \(line 4\), column "id": duplicate respondent id "r1" \(first on row 1\); ids must be unique$/ },
  { name: "estimate: real file is a SAV with a negative weight", files: { "real.sav": SAV("negative-weight.sav"), "syn.csv": SYN.replaceAll("r4", "r3") }, args: ESTIMATE("real.sav"), error: /^real\.sav: row 2, column "weight": expected a non-negative weight, got -0\.5$/ },

  // ---- the command line itself ----
  { name: "generate: unknown option", usage: true, files: study(), args: [...GENERATE, "--dry-rn"], error: /^unknown option '--dry-rn' \(Did you mean --dry-run\?\) \(see silicon generate --help\)$/ },
  { name: "generate: missing study argument", usage: true, files: study(), args: ["generate"], error: /^missing required argument 'study\.yaml' \(see silicon generate --help\)$/ },
  { name: "generate: --concurrency zero", files: study(), args: [...GENERATE, "--concurrency", "0"], error: /^--concurrency expects a whole number of requests, at least 1; got "0"$/ },
  { name: "generate: --timeout negative", files: study(), args: [...GENERATE, "--timeout", "-3"], error: /^--timeout expects a number of seconds from 0\.001 to 86400 \(24 hours\); got "-3"$/ },
  // 3,000,000 s overflows Node's timers (at most 2^31 - 1 ms) to 1 ms: every response would be thrown away.
  { name: "generate: --timeout past what a timer holds", files: study(), args: [...GENERATE, "--timeout", "3000000"], error: /^--timeout expects a number of seconds from 0\.001 to 86400 \(24 hours\); got "3000000"$/ },
  {
    name: "generate: a base URL with a password in it",
    files: study({ "study.yaml": studyYaml("models: [simulated:biased]", "models: [openai:fake-model]") }),
    args: GENERATE,
    env: { OPENAI_BASE_URL: "http://researcher:hunter2-corpus@127.0.0.1:9/v1" },
    error: /^study\.yaml: line 13, field "models\[0\]": OPENAI_BASE_URL http:\/\/\[redacted\]@127\.0\.0\.1:9\/v1 holds a user name or password: silicon never sends credentials in a URL; remove them and put the key in OPENAI_API_KEY$/,
  },
  {
    name: "study: an endpoint URL with a password in it",
    files: study({ "study.yaml": studyYaml("models: [simulated:biased]", "models: [openai:fake-model]") + "endpoints:\n  openai:fake-model:\n    - http://researcher:hunter2-corpus@gpu1:8000/v1\n" }),
    args: GENERATE,
    error: /^study\.yaml: line 16, field "endpoints\.openai:fake-model\[0\]": base URL http:\/\/\[redacted\]@gpu1:8000\/v1 holds a user name or password: silicon never sends credentials in a URL; remove them and put the key in OPENAI_API_KEY$/,
  },
  { name: "silicon: unknown command", usage: true, files: {}, args: ["generat", "study.yaml"], error: /^unknown command 'generat' \(Did you mean generate\?\) \(see silicon --help\)$/ },
  {
    name: "calibrate: unknown method",
    usage: true,
    files: { "tasks.csv": TASKS },
    args: [...CALIBRATE(), "--method", "alg9"],
    error: /^option '--method <name>' argument 'alg9' is invalid\. Allowed choices are alg1, alg2, alg3, alg3-bonferroni, alg3-fitted, alg4, alg5\. \(see silicon calibrate --help\)$/,
  },
  { name: "calibrate: no tasks table", files: {}, args: ["calibrate", "--out", "out/intervals.csv"], error: /^silicon calibrate needs a tasks table: --tasks <file> \(or a <study\.yaml>\)$/ },
  { name: "tasks sav: unknown role", files: { "tasks.sav": SAV("tasks-bad-role.sav") }, args: CALIBRATE("tasks.sav"), error: /^tasks\.sav: row 3, column "role": expected "history" or "target", got "past"$/ },
  {
    name: "calibrate: an existing output is left as it was",
    files: { "tasks.csv": tasks(4, "c|all@1,m,history,1,high,0.02,500,0.36,0.02,400"), "out/intervals.csv": "task,lower,upper\nold,0,1\n" },
    args: CALIBRATE(),
    error: /^tasks\.csv: row 3 \(line 4\), column "real_est": expected a number \(the real estimate\), got "high"$/,
  },
  { name: "estimate: a study file with --real", files: { "real.csv": REAL, "syn.csv": SYN, "study.yaml": "name: x\n" }, args: ["estimate", "study.yaml", ...ESTIMATE().slice(1)], error: /^give either a study file or --real and --synthetic, not both$/ },

  // ---- the pipeline: run, report, demo, and the study forms of estimate, calibrate, evaluate, compare ----
  { name: "run: wave role", files: study({ "study.yaml": studyYaml("role: target", "role: forecast") }), args: ["run", "study.yaml"], error: /^study\.yaml: line 11, field "waves\[1\]\.role": expected "historical" or "target", got "forecast"$/ },
  { name: "run: calibration alpha not below 1", files: study({ "study.yaml": BASE_FILES["study.yaml"] + "calibration:\n  alpha: 2\n" }), args: ["run", "study.yaml"], error: /^study\.yaml: line 15, field "calibration\.alpha": expected a number < 1, got 2$/ },
  { name: "run: --results is a file", files: study({ results: "not a folder\n" }), args: ["run", "study.yaml", "--allow-infeasible"], error: /^cannot write results\/test: part of the path is a file, not a folder$/ },
  { name: "report: no stored answers yet", files: study(), args: ["report", "study.yaml"], error: /^no stored answers for study "test" in results\/test: run silicon generate study\.yaml \(or silicon run study\.yaml\) first$/ },
  { name: "report: estimand of an unknown item", files: study({ "study.yaml": BASE_FILES["study.yaml"] + "estimands:\n  items: [approve, nope]\n" }), args: ["report", "study.yaml"], error: /^study\.yaml: line 15, field "estimands\.items\[1\]": unknown item "nope": the survey's items are approve, therm$/ },
  { name: "report: subgroup column in no frame", files: study({ "study.yaml": BASE_FILES["study.yaml"] + "estimands:\n  by: [income]\n" }), args: ["report", "study.yaml"], error: /^study\.yaml: line 15, field "estimands\.by\[0\]": subgroup column "income" is not a column of w1\.csv \(wave "w1"\) nor a derived column; the frame has: id, weight, party, region, age, approve, therm$/ },
  {
    name: "report: derived column that calls a function",
    files: study({ "study.yaml": BASE_FILES["study.yaml"] + 'estimands:\n  derived:\n    side: "(d) => process.exit(3)"\n' }),
    args: ["report", "study.yaml"],
    error: /^study\.yaml: line 16, field "estimands\.derived\.side": Invalid function call: "process\.exit\(3\)": only arquero's op functions may be called/,
  },
  {
    name: "report: derived column that does not parse",
    files: study({ "study.yaml": BASE_FILES["study.yaml"] + 'estimands:\n  derived:\n    side: "(d) => d.party +"\n' }),
    args: ["report", "study.yaml"],
    error: /^study\.yaml: line 16, field "estimands\.derived\.side": does not parse as an arquero expression: "\(d\) => d\.party \+"; write e\.g\. /,
  },
  {
    name: "report: vector level that occurs in no wave",
    files: study({ "study.yaml": BASE_FILES["study.yaml"] + "estimands:\n  vectors:\n    - name: v\n      item: approve\n      coordinate: party\n      levels: [Democrat, Green]\n" }),
    args: ["report", "study.yaml"],
    error: /^study\.yaml: line 19, field "estimands\.vectors\[0\]\.levels\[1\]": level "Green" of "party" occurs in no wave; its values are: Democrat, Independent, Republican$/,
  },
  { name: "compare: study with alg2 and no decay", files: study({ "study.yaml": BASE_FILES["study.yaml"] + "calibration:\n  method: alg2\n" }), args: ["compare", "study.yaml"], error: /^study\.yaml: line 15, field "calibration\.method": alg2 weighs historical tasks: set calibration\.decay / },
  { name: "calibrate: --range on a study", files: study(), args: ["calibrate", "study.yaml", "--range", "0,1"], error: /^--range: a study's tasks are clipped to each item's own scale .*; it applies to --tasks tables only$/ },
  { name: "evaluate: study without --protocol", files: study(), args: ["evaluate", "study.yaml"], error: /^--protocol is required: loo \(leave one task out\), chrono \(expanding window over group\) or group \(leave one group out, --group-by\)$/ },
  { name: "estimate: study with no stored answers", files: study(), args: ["estimate", "study.yaml"], error: /^no stored answers for study "test" in results\/test: run silicon generate study\.yaml \(or silicon run study\.yaml\) first$/ },
  { name: "demo: --results is a file", files: { results: "not a folder\n" }, args: ["demo"], error: /^cannot write results\/demo\/survey\.yaml: part of the path is a file, not a folder$/ },
  { name: "calibrate: --out is a folder", files: { "tasks.csv": TASKS, "out/intervals.csv/keep": "" }, args: [...CALIBRATE(), "--alpha", "0.5"], error: /^cannot write out\/intervals\.csv: it is a folder; give a file name$/ },
  { name: "estimate: --out inside a file", files: { "real.csv": REAL, "syn.csv": SYN, out: "a file\n" }, args: ESTIMATE(), error: /^cannot write out\/tasks\.csv: part of the path is a file, not a folder$/ },

  // ---- found in review: study-path flags, folders, encodings, overflow ----
  { name: "calibrate: study with --decay above 1", files: study(), args: ["calibrate", "study.yaml", "--method", "alg2", "--decay", "5"], error: /^--decay must be a number in \(0, 1\], got 5$/ },
  { name: "calibrate: study with --strata naming no task column", files: study(), args: ["calibrate", "study.yaml", "--strata", "nosuch"], error: /^--strata: the study's tasks have no column "nosuch"; they have task, item, item_type, subgroup, by, coord, group/ },
  { name: "calibrate: study with --ridge below 0", files: study(), args: ["calibrate", "study.yaml", "--adjust", "--ridge", "-5"], error: /^--ridge must be a number ≥ 0, got -5$/ },
  { name: "calibrate: --interval logit on a study", files: study(), args: ["calibrate", "study.yaml", "--interval", "logit"], error: /^--interval logit applies to --tasks tables only/ },
  { name: "calibrate: the tasks table is a folder", files: { "tasks.csv/keep": "" }, args: CALIBRATE(), error: /^tasks\.csv: is a folder: expected a CSV file$/ },
  { name: "calibrate: a hexadecimal estimate", files: { "tasks.csv": tasks(2, "a|all@1,m,history,1,0x10,0.02,500,0.55,0.02,400") }, args: CALIBRATE(), error: /^tasks\.csv: row 1 \(line 2\), column "real_est": expected a number \(the real estimate\), got "0x10"$/ },
  { name: "calibrate: --out empty", files: { "tasks.csv": TASKS }, args: ["calibrate", "--tasks", "tasks.csv", "--out", "", "--alpha", "0.5"], error: /^cannot write an empty file name: give a file name \(or - for the standard output\)$/ },
  { name: "study: an alias with no anchor", files: study({ "study.yaml": BASE_FILES["study.yaml"] + "seed: *nowhere\n" }), args: GENERATE, error: /^study\.yaml: invalid YAML: unresolved alias/i },
  { name: "study: generations beyond 1000", files: study({ "study.yaml": BASE_FILES["study.yaml"] + "generations: 1e12\n" }), args: GENERATE, error: /^study\.yaml: line \d+, field "generations": expected a number ≤ 1000, got 1000000000000$/ },
  { name: "frame csv: not UTF-8", files: study({ "w1.csv": Buffer.from(w1(3, "r2,0.5,Republican,W\u00e9st,61,0,20"), "latin1") }), args: GENERATE, error: /^w1\.csv: line 3: the file is not UTF-8 text; save it as UTF-8/ },
  { name: "frame csv: a weight that would overflow", files: study({ "w1.csv": w1(3, "r2,1e308,Republican,West,61,0,20") }), args: GENERATE, error: /^w1\.csv: row 2 \(line 3\), column "weight": expected a weight up to 10\^12, got 1e\+308: weighted sums would overflow; rescale the weights \(only their ratios matter\)$/ },
  { name: "persona: not UTF-8", files: study({ "persona.hbs": Buffer.from("You are {{article age}}-year-old {{party}} from the {{region}}, \u00e9 {{year}}.\n", "latin1") }), args: GENERATE, error: /^persona\.hbs: line 1: the file is not UTF-8 text/ },
  { name: "calibrate: --ridge without --adjust", files: { "tasks.csv": TASKS }, args: [...CALIBRATE(), "--ridge", "5"], error: /^--ridge only applies with --adjust$/ },
  { name: "calibrate: --folds without --adjust", files: { "tasks.csv": TASKS }, args: [...CALIBRATE(), "--folds", "5"], error: /^--folds only applies with --adjust$/ },
  { name: "calibrate: --folds below 2", files: { "tasks.csv": TASKS }, args: [...CALIBRATE(), "--adjust", "--folds", "1"], error: /^--folds must be a whole number ≥ 2, got 1$/ },
  { name: "calibrate: --folds with the split variant", files: { "tasks.csv": TASKS }, args: [...CALIBRATE(), "--adjust", "--adjust-split", "--folds", "3"], error: /^--folds applies to the cross-fitted adjustment, not --adjust-split$/ },
  { name: "calibrate: --adjust-split without --adjust", files: { "tasks.csv": TASKS }, args: [...CALIBRATE(), "--adjust-split"], error: /^--adjust-split only applies with --adjust$/ },
  { name: "calibrate: --results with --tasks", files: { "tasks.csv": TASKS }, args: [...CALIBRATE(), "--results", "elsewhere"], error: /^--results applies with a <study\.yaml>; with --tasks the table is read from the file named$/ },
  { name: "evaluate: a tasks table given as the study", files: { "tasks.csv": TASKS }, args: ["evaluate", "tasks.csv", "--protocol", "loo"], error: /^tasks\.csv is a table, not a study file: give a tasks table as --tasks tasks\.csv$/ },
  { name: "generate: --model names an unknown simulated model", files: study(), args: [...GENERATE, "--model", "simulated:nope"], error: /^--model: unknown simulated model "nope": expected one of faithful, biased, polarized, erratic/ },
];
