/**
 * `silicon run` end to end on a small study: the same files with the
 * simulated provider and with an OpenAI-compatible server serving the same
 * simulated models over the wire; the tasks table identical to `silicon
 * estimate --real --synthetic` on the exported responses; a rerun that sends
 * nothing; bad study definitions stopped with one located line.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadStudy } from "../../src/config/load.ts";
import { generatePopulationFrames, tableToCsv } from "../../src/simulation/frames.ts";
import type { SurveyItem } from "../../src/config/schema.ts";
import type { FakeVendor } from "../helpers/fake-vendor.ts";
import { realFileOf } from "../helpers/response-files.ts";
import { runCli } from "../helpers/run-cli.ts";
import { startSimulatedVendor } from "../helpers/simulated-vendor.ts";

const SURVEY = `id: wire
items:
  - id: therm_democrats
    type: thermometer
    text: How would you rate Democrats from 0 to 100?
  - id: therm_police
    type: thermometer
    text: How would you rate the police from 0 to 100?
  - id: approve
    type: binary
    text: Do you approve of the way {{president}} is handling his job?
    options:
      - { code: 1, label: Approve }
      - { code: 0, label: Disapprove }
`;
const PERSONA = "Respondent {{id}}, interviewed in {{field_period}}: {{article age}}-year-old {{party}} from the {{region}}.\n";
const WAVES = [
  { id: "w1", role: "historical" as const, context: { president: "Donald Trump", president_party: "Republican", field_period: "2019" } },
  { id: "w2", role: "historical" as const, context: { president: "Joe Biden", president_party: "Democrat", field_period: "2022" } },
  { id: "w3", role: "target" as const, context: { president: "Joe Biden", president_party: "Democrat", field_period: "2024" } },
];

function studyYaml(model: string): string {
  return `name: wire
survey: survey.yaml
persona: persona.hbs
waves:
${WAVES.map((w) => `  - id: ${w.id}\n    frame: ${w.id}.csv\n    role: ${w.role}\n    context: ${JSON.stringify(w.context)}`).join("\n")}
models: [${model}]
generations: 2
seed: 5
estimands:
  by: [all, party, region]
calibration:
  alpha: 0.2
  method: alg4
`;
}

function studyFiles(): Record<string, string> {
  const items: SurveyItem[] = [
    { id: "therm_democrats", type: "thermometer", text: "x", min: 0, max: 100 },
    { id: "therm_police", type: "thermometer", text: "x", min: 0, max: 100 },
    { id: "approve", type: "binary", text: "x", options: [{ code: 1, label: "Approve" }, { code: 0, label: "Disapprove" }] },
  ];
  const frames = generatePopulationFrames({ seed: 11, items, design: "panel", waves: WAVES.map((w) => ({ ...w, size: 80, answers: true })) });
  const files: Record<string, string> = { "survey.yaml": SURVEY, "persona.hbs": PERSONA };
  for (const { spec, table } of frames.waves) files[`${spec.id}.csv`] = tableToCsv(table);
  return files;
}

const OUTPUTS = ["tasks.csv", "intervals.csv", "evaluation.json", "evaluation.csv", "comparison.csv"];

/** An output's text; evaluation.json without its provenance (the command line and the time differ between runs). */
function output(path: string): string {
  const text = readFileSync(path, "utf8");
  if (!path.endsWith("evaluation.json")) return text;
  const { provenance: _, ...rest } = JSON.parse(text);
  return JSON.stringify(rest, null, 2);
}

/** A folder that lives for the whole file (the tests share one run's outputs). */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "silicon-run-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/**
 * `silicon estimate --real --synthetic` on a study's exported responses (long
 * form), with a real file written beside the study from its frames.
 */
async function estimateFromExport(studyFile: string, responses: string, out: string): Promise<Awaited<ReturnType<typeof runCli>>> {
  const study = await loadStudy(studyFile);
  const real = join(dirname(studyFile), "real.csv");
  writeFileSync(real, realFileOf(study, "respondent"));
  return runCli([
    "estimate", "--real", real, "--synthetic", responses, "--id", "respondent", "--weight", "weight",
    "--long", "item,value", "--items", "therm_democrats,therm_police,approve", "--model", "model", "--group", "wave", "--generation", "generation", "--role-of-target", "w3",
    "--by", "all,party,region", "--out", out,
  ]);
}

describe("silicon run", () => {
  const files = studyFiles();
  const dir = folder({ ...files, "study.yaml": studyYaml("simulated:biased"), "openai.yaml": studyYaml("openai:biased") });
  const only = folder({ ...files, "study.yaml": studyYaml("simulated:biased").replace(/role: historical/g, "role: target") });
  let vendor: FakeVendor;
  let simulated: Awaited<ReturnType<typeof runCli>>;
  beforeAll(async () => {
    simulated = await runCli(["run", join(dir, "study.yaml"), "--results", join(dir, "sim"), "--quiet"]);
    vendor = await startSimulatedVendor(await loadStudy(join(dir, "study.yaml")), ["biased"]);
  }, 120_000);
  afterAll(async () => {
    await vendor?.close();
  });

  it("writes the tasks, intervals, evaluation, comparison and report, and prints the coverage table", () => {
    expect(simulated.stderr).not.toMatch(/internal error/);
    expect(simulated.code).toBe(0);
    expect(simulated.stdout).toMatch(/thermometer ratings \(0–100\)\s+alg4\s+chronological\s+simulated:biased\s+\d+\s/);
    expect(simulated.stdout).toMatch(/open .*report\.html in a browser/);
    for (const name of [...OUTPUTS, "report.html", "responses.csv", "store.sqlite"]) expect(readFileSync(join(dir, "sim", "wire", name)).length).toBeGreaterThan(0);
    const evaluation = JSON.parse(readFileSync(join(dir, "sim", "wire", "evaluation.json"), "utf8"));
    expect(evaluation.kinds.map((k: { kind: string }) => k.kind)).toEqual(["thermometer", "proportion"]);
    expect(evaluation.kinds[0].loo.by_model["simulated:biased"].tasks).toBe(32);
  });

  it("records the settings and the provenance in evaluation.json", () => {
    const evaluation = JSON.parse(readFileSync(join(dir, "sim", "wire", "evaluation.json"), "utf8"));
    expect(evaluation.settings).toEqual({
      alpha: 0.2,
      method: "alg4",
      vector_method: "alg3",
      strata: [],
      adjust: { mode: "cv", split_by: "default", features: "auto", ridge: 1, seed: 1 },
      decay: null,
      pilot: [],
      protocols: ["loo", "chrono", "group"],
      group_by: "item",
    });
    const version = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version;
    expect(evaluation.provenance.silicon_version).toBe(version);
    expect(evaluation.provenance.command).toMatch(/^silicon run .*study\.yaml --results .* --quiet$/);
    expect(Date.parse(evaluation.provenance.generated_at)).toBeGreaterThan(Date.parse("2020-01-01"));
  });

  it("gives the same files with an OpenAI-compatible server serving the same model", async () => {
    const env = { OPENAI_BASE_URL: process.env.OPENAI_BASE_URL, SILICON_OPENAI_N: process.env.SILICON_OPENAI_N };
    process.env.OPENAI_BASE_URL = vendor.baseURL;
    process.env.SILICON_OPENAI_N = "true";
    try {
      const wire = await runCli(["run", join(dir, "openai.yaml"), "--results", join(dir, "wire"), "--quiet"]);
      expect(wire.stderr).not.toMatch(/internal error/);
      expect(wire.code).toBe(0);
    } finally {
      for (const [key, value] of Object.entries(env)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    expect(vendor.stats.billed).toBe(3 * 80 * 3);
    for (const name of OUTPUTS) {
      const ours = output(join(dir, "sim", "wire", name));
      const theirs = output(join(dir, "wire", "wire", name)).replaceAll("openai:biased", "simulated:biased");
      expect(theirs, name).toBe(ours);
    }
  }, 120_000);

  it("writes the tasks table silicon estimate --real --synthetic makes from the exported responses", async () => {
    const out = join(dir, "from-files.csv");
    const result = await estimateFromExport(join(dir, "study.yaml"), join(dir, "sim", "wire", "responses.csv"), out);
    expect(result.stderr).toMatch(/wrote 72 task rows \(48 history, 24 target\)/);
    // The same table, but for the study's last column, `kind`: response files do not say an item's scale.
    const study_ = readFileSync(join(dir, "sim", "wire", "tasks.csv"), "utf8").trim().split("\n");
    expect(study_[0]!.endsWith(",kind")).toBe(true);
    expect(study_.slice(1).map((line) => line.slice(line.lastIndexOf(",") + 1))).toEqual(expect.arrayContaining(["thermometer", "proportion"]));
    expect(readFileSync(out, "utf8")).toBe(study_.map((line) => line.slice(0, line.lastIndexOf(","))).join("\n") + "\n");
  });

  it("reuses the store on a rerun: nothing is asked again, the same files come out", async () => {
    const before = OUTPUTS.map((name) => output(join(dir, "sim", "wire", name)));
    const again = await runCli(["run", join(dir, "study.yaml"), "--results", join(dir, "sim")]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/1440 already stored\); this run 0 answered; 0 calls sent/);
    expect(OUTPUTS.map((name) => output(join(dir, "sim", "wire", name)))).toEqual(before);
  }, 60_000);

  it("runs each stage alone on the stored answers: estimate, calibrate, evaluate, compare", async () => {
    const study = join(dir, "study.yaml");
    const results = join(dir, "sim");
    const tasks = await runCli(["estimate", study, "--results", results, "--out", join(dir, "tasks-again.csv")]);
    expect(tasks.stderr).toMatch(/wrote 72 task rows \(48 history, 24 target\) from 1440 stored answers/);
    expect(readFileSync(join(dir, "tasks-again.csv"), "utf8")).toBe(readFileSync(join(results, "wire", "tasks.csv"), "utf8"));

    const calibrated = await runCli(["calibrate", study, "--results", results, "--out", join(dir, "intervals-again.csv")]);
    expect(calibrated.code).toBe(0);
    expect(calibrated.stdout).toMatch(/α = 0\.2; scalar tasks alg4; vector targets alg3/);
    expect(readFileSync(join(dir, "intervals-again.csv"), "utf8")).toBe(readFileSync(join(results, "wire", "intervals.csv"), "utf8"));

    const overridden = await runCli(["calibrate", study, "--results", results, "--method", "alg1", "--alpha", "0.3", "--out", "-"]);
    expect(overridden.stderr).toMatch(/α = 0\.3; scalar tasks alg1/);
    expect(overridden.stdout.split("\n")[0]).toBe("task,model,coord,method,alpha,lower,upper,estimate,naive_lower,naive_upper,kind,group,item,subgroup,syn_est,real_est");
    expect(existsSync("-")).toBe(false);

    const evaluated = await runCli(["evaluate", study, "--results", results, "--protocol", "loo", "--json"]);
    const json = JSON.parse(evaluated.stdout);
    expect(json.protocol).toBe("loo");
    expect(json.kinds.map((k: { kind: string; method: string }) => [k.kind, k.method])).toEqual([["thermometer", "alg4"], ["proportion", "alg4"]]);
    const loo = JSON.parse(readFileSync(join(results, "wire", "evaluation.json"), "utf8")).kinds[0].loo;
    expect(json.kinds[0].by_model).toEqual(loo.by_model);

    const compared = await runCli(["compare", study, "--results", results]);
    expect(compared.stdout).toMatch(/thermometer ratings \(0–100\)\s+simulated:biased\s+32\s/);

    const range = await runCli(["calibrate", study, "--results", results, "--range", "0,1"]);
    expect(range.code).toBe(2);
    expect(range.stderr).toMatch(/--range: a study's tasks are clipped to each item's own scale/);
  }, 60_000);

  it("refuses an α no calibration can meet, leaving the earlier results as they were", async () => {
    const before = OUTPUTS.map((name) => output(join(dir, "sim", "wire", name)));
    const refused = await runCli(["report", join(dir, "study.yaml"), "--results", join(dir, "sim"), "--alpha", "0.001"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split("\n").at(-1)).toMatch(/^silicon: model "simulated:biased": α = 0\.001 needs at least \d+ historical tasks/);
    expect(OUTPUTS.map((name) => output(join(dir, "sim", "wire", name)))).toEqual(before);
  }, 60_000);

  it("analyzes a --model the study does not list beside the study's own: answers paid for are never left out", async () => {
    const results = join(dir, "extra");
    const first = await runCli(["run", join(dir, "study.yaml"), "--results", results, "--quiet"]);
    expect(first.code).toBe(0);
    const extra = await runCli(["run", join(dir, "study.yaml"), "--results", results, "--model", "simulated:faithful", "--quiet"]);
    expect(extra.stderr).not.toMatch(/internal error/);
    expect(extra.code).toBe(0);
    const tasks = readFileSync(join(results, "wire", "tasks.csv"), "utf8");
    expect(tasks).toMatch(/,simulated:faithful,/);
    expect(tasks).toMatch(/,simulated:biased,/);
    const evaluation = JSON.parse(readFileSync(join(results, "wire", "evaluation.json"), "utf8"));
    expect(Object.keys(evaluation.kinds[0].loo.by_model).sort()).toEqual(["simulated:biased", "simulated:faithful"]);
    expect(readFileSync(join(results, "wire", "report.html"), "utf8")).toMatch(/2 AI models \(simulated:biased, simulated:faithful\)/);
  }, 120_000);

  it("calibrates each kind of the study's tasks.csv on its own when read back with --tasks (its kind column is a stratum)", async () => {
    const tasks = join(dir, "sim", "wire", "tasks.csv");
    const out = join(dir, "evaluated-from-tasks.csv");
    const result = await runCli(["evaluate", "--tasks", tasks, "--protocol", "loo", "--alpha", "0.2", "--method", "alg4", "--out", out]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/has 2 kinds of task \(thermometer, proportion\) in its kind column: each is calibrated on its own/);
    const rows = readFileSync(out, "utf8").trim().split("\n").slice(1).map((line) => line.split(","));
    const approve = rows.filter((r) => r[0]!.startsWith("approve|"));
    expect(approve.length).toBe(16);
    // Shares calibrated with shares: widths below 1, not thermometer points.
    for (const r of approve) expect(Number(r[7]) - Number(r[6])).toBeLessThan(1);
    // As the study's own leave-one-out does.
    const study = JSON.parse(readFileSync(join(dir, "sim", "wire", "evaluation.json"), "utf8"));
    const proportion = study.kinds.find((k: { kind: string }) => k.kind === "proportion").loo.by_model["simulated:biased"];
    expect(approve.filter((r) => r[12] === "TRUE").length / approve.length).toBeCloseTo(proportion.coverage, 12);
  });

  it("stops a target wave with no history, naming the file and field, before generating", async () => {
    const result = await runCli(["run", join(only, "study.yaml"), "--results", join(only, "results")]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      `silicon: ${join(only, "study.yaml")}: line 7, field "waves[0].role": wave "w1" is a target, but the study has no historical wave to calibrate it on: add a wave with real answers (role: historical)`,
    );
    const missing = await runCli(["report", join(dir, "study.yaml"), "--results", join(only, "results")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no stored answers for study "wire" in .*: run silicon generate/);
  });
});

describe("silicon run with the other elicitation modes", () => {
  const files = studyFiles();
  const withMode = (mode: string) => studyYaml("simulated:biased").replace("generations: 2", `generations: 2\nelicitation: ${mode}`);
  const dir = folder({ ...files, "logprobs.yaml": withMode("logprobs"), "questionnaire.yaml": withMode("questionnaire") });

  function numericRows(csv: string): string[][] {
    return csv.trim().split("\n").map((line) => line.split(","));
  }

  it("logprobs: estimates use each respondent's exact answer distribution, as the exported expected values do", async () => {
    const run = await runCli(["run", join(dir, "logprobs.yaml"), "--results", join(dir, "lp"), "--quiet"]);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(0);
    const responses = readFileSync(join(dir, "lp", "wire", "responses.csv"), "utf8");
    expect(responses.split("\n")[0]).toMatch(/distribution,non_option_mass$/);
    // approve is asked once per respondent (the distribution is exact); thermometers fall back to structured.
    const approveRows = responses.split("\n").filter((line) => line.includes(",approve,"));
    expect(approveRows).toHaveLength(3 * 80);
    const out = join(dir, "lp-from-files.csv");
    const estimate = await estimateFromExport(join(dir, "logprobs.yaml"), join(dir, "lp", "wire", "responses.csv"), out);
    expect(estimate.code).toBe(0);
    // The study's last column, kind, is the one response files cannot give.
    const fromStore = numericRows(readFileSync(join(dir, "lp", "wire", "tasks.csv"), "utf8")).map((row) => row.slice(0, -1));
    const fromFiles = numericRows(readFileSync(out, "utf8"));
    expect(fromFiles.length).toBe(fromStore.length);
    fromStore.forEach((row, r) =>
      row.forEach((cell, c) => {
        const a = Number(cell);
        const b = Number(fromFiles[r]![c]);
        if (cell === "" || Number.isNaN(a)) expect(fromFiles[r]![c]).toBe(cell);
        else expect(Math.abs(a - b), `row ${r} column ${fromStore[0]![c]}`).toBeLessThan(1e-12 * Math.max(1, Math.abs(a)));
      }),
    );
    const approve = fromStore.filter((row) => row[0]!.startsWith("approve|"));
    expect(approve.length).toBeGreaterThan(0);
    const synSe = fromStore[0]!.indexOf("syn_se");
    for (const row of approve) expect(Number(row[synSe])).toBeGreaterThan(0);
  }, 120_000);

  it("questionnaire: one conversation per respondent and generation, every item answered and calibrated", async () => {
    const run = await runCli(["run", join(dir, "questionnaire.yaml"), "--results", join(dir, "q"), "--quiet"]);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(0);
    const tasks = readFileSync(join(dir, "q", "wire", "tasks.csv"), "utf8").trim().split("\n");
    expect(tasks).toHaveLength(1 + 72);
    const intervals = readFileSync(join(dir, "q", "wire", "intervals.csv"), "utf8").trim().split("\n");
    expect(intervals.length).toBeGreaterThan(1);
  }, 120_000);
});
