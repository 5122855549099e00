import { describe, expect, it } from "vitest";
import { loadSurvey } from "../../src/config/load.ts";
import { BadRequestError, InputError, UsageError } from "../../src/errors.ts";
import { answerText, createSimulatedProvider } from "../../src/providers/simulated.ts";
import type { CompletionRequest, SimulationSubject } from "../../src/providers/types.ts";
import { distributionMean } from "../../src/simulation/distribution.ts";
import { siliconDistribution } from "../../src/simulation/respondent.ts";

const survey = loadSurvey("surveys/example-survey.yaml");
const item = (id: string) => survey.items.find((i) => i.id === id)!;
const wave = { id: "w2024", context: { president: "Joe Biden", president_party: "Democrat" } };
const respondent = { id: "P00001", party: "Republican", region: "South", age: 66, education: "Bachelor's degree", gender: "Man", race: "White" };
const signal = new AbortController().signal;

function request(over: Omit<Partial<CompletionRequest>, "subject"> & { subject?: Partial<SimulationSubject> } = {}): CompletionRequest {
  const { subject, ...rest } = over;
  return {
    system: "You are a 66-year-old man.",
    messages: [{ role: "user", content: "How would you rate the police?" }],
    maxTokens: 50,
    temperature: 1,
    seed: 7,
    n: 1,
    ...rest,
    subject: { respondent, respondentId: "P00001", item: item("therm_police"), wave, generation: 1, ...subject },
  };
}

describe("simulated provider", () => {
  it("names itself and its capabilities", () => {
    const p = createSimulatedProvider("biased");
    expect([p.vendor, p.model, p.id]).toEqual(["simulated", "biased", "simulated:biased"]);
    expect(p.capabilities).toEqual({ multipleChoices: true, answerSchema: true, logprobs: true, promptCaching: false });
  });

  it("refuses unknown model names, listing the known ones", () => {
    expect(() => createSimulatedProvider("honest")).toThrow(InputError);
    expect(() => createSimulatedProvider("honest")).toThrow(
      'simulated:honest: unknown simulated model "honest": expected one of faithful, biased, polarized, erratic (optionally with @<number> for another draw of its biases, e.g. biased@2)',
    );
    expect(createSimulatedProvider("erratic@12").id).toBe("simulated:erratic@12");
  });

  it("is deterministic: the same request gives the same answer, and n choices equal n single calls", async () => {
    const p = createSimulatedProvider("biased");
    const a = await p.complete(request({ n: 6 }), { signal });
    const b = await p.complete(request({ n: 6 }), { signal });
    expect(b).toEqual(a);
    const singles = [];
    for (let g = 1; g <= 6; g++) singles.push((await p.complete(request({ subject: { generation: g } }), { signal })).choices[0]!.text);
    expect(a.choices.map((c) => c.text)).toEqual(singles);
    expect(new Set(singles).size).toBeGreaterThan(1);
    // Another seed, another model: other draws.
    const other = await p.complete(request({ n: 6, seed: 8 }), { signal });
    expect(other.choices.map((c) => c.text)).not.toEqual(singles);
  });

  it("never reads the prompt", async () => {
    const p = createSimulatedProvider("polarized");
    const a = await p.complete(request({ n: 3 }), { signal });
    const b = await p.complete(request({ n: 3, system: "Ignore all that.", messages: [{ role: "user", content: "Say 100." }] }), { signal });
    expect(b.choices).toEqual(a.choices);
  });

  it("answers follow the model's exact distribution (mean of 4,000 generations within 4 SE)", async () => {
    const p = createSimulatedProvider("biased");
    const result = await p.complete(request({ n: 4000 }), { signal });
    const values = result.choices.map((c) => Number(c.text));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
    const exact = distributionMean(siliconDistribution("biased", item("therm_police"), respondent, wave));
    expect(Math.abs(mean - exact)).toBeLessThan((4 * sd) / Math.sqrt(values.length));
  });

  it("returns JSON matching the answer schema under structured output", async () => {
    const p = createSimulatedProvider("faithful");
    const approve = item("approve");
    const schemas: [Record<string, unknown>, (v: unknown) => void][] = [
      [
        { type: "object", properties: { answer: { type: "integer", enum: [1, 0] } }, required: ["answer"], additionalProperties: false },
        (v) => expect([{ answer: 1 }, { answer: 0 }]).toContainEqual(v),
      ],
      [
        { type: "object", properties: { reasoning: { type: "string" }, choice: { type: "string", enum: ["Approve", "Disapprove"] } }, required: ["reasoning", "choice"] },
        (v) => expect([{ reasoning: "", choice: "Approve" }, { reasoning: "", choice: "Disapprove" }]).toContainEqual(v),
      ],
      [
        { type: "object", properties: { answer: { anyOf: [{ const: 1, title: "Approve" }, { const: 0, title: "Disapprove" }] } }, required: ["answer"] },
        (v) => expect([{ answer: 1 }, { answer: 0 }]).toContainEqual(v),
      ],
    ];
    for (const [schema, check] of schemas) {
      const result = await p.complete(request({ subject: { item: approve }, answerSchema: { name: "answer", schema } }), { signal });
      check(JSON.parse(result.choices[0]!.text));
    }
    expect(answerText(37, item("therm_police"), { type: "object", properties: { rating: { type: "number", minimum: 0, maximum: 100 } } })).toBe('{"rating":37}');
  });

  it("answers free text as the option label, or the number", () => {
    expect(answerText(4, item("trust_government"), undefined)).toBe("Somewhat agree");
    expect(answerText(65, item("therm_police"), undefined)).toBe("65");
  });

  it("returns the exact answer distribution as log-probabilities of the option codes", async () => {
    const p = createSimulatedProvider("polarized");
    const trust = item("trust_government");
    const result = await p.complete(request({ subject: { item: trust }, topLogprobs: 10, temperature: 0.3 }), { signal });
    const top = result.choices[0]!.topLogprobs!;
    expect(top.map((t) => t.token).sort()).toEqual(["1", "2", "3", "4", "5"]);
    const dist = siliconDistribution("polarized", trust, respondent, wave);
    if (dist.kind !== "discrete") throw new Error("expected discrete");
    for (const { token, logprob } of top) expect(logprob).toBeCloseTo(Math.log(dist.probs[dist.values.indexOf(Number(token))]!), 12);
    expect(top[0]!.logprob).toBeGreaterThanOrEqual(top[1]!.logprob);
    const two = await p.complete(request({ subject: { item: trust }, topLogprobs: 2 }), { signal });
    expect(two.choices[0]!.topLogprobs).toEqual(top.slice(0, 2));
  });

  it("at temperature 0 always gives the most likely answer", async () => {
    const p = createSimulatedProvider("biased");
    const result = await p.complete(request({ n: 20, temperature: 0, subject: { item: item("approve") } }), { signal });
    expect(new Set(result.choices.map((c) => c.text)).size).toBe(1);
    expect(result.choices[0]!.text).toBe("Disapprove"); // a Republican under Biden
  });

  it("reports plausible token usage: characters / 4", async () => {
    const result = await createSimulatedProvider("biased").complete(request({ n: 2 }), { signal });
    const prompt = "You are a 66-year-old man.".length + "How would you rate the police?".length;
    expect(result.usage).toEqual({
      inputTokens: Math.ceil(prompt / 4),
      outputTokens: result.choices.reduce((s, c) => s + Math.ceil(c.text.length / 4), 0),
      cachedInputTokens: 0,
      cacheWriteTokens: 0,
    });
    expect(result.model).toBe("simulated:biased");
  });

  it("needs a subject, and says why", async () => {
    const p = createSimulatedProvider("biased");
    const { subject: _, ...bare } = request();
    const error = await p.complete(bare, { signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).retryable).toBe(false);
  });

  it("simulates latency on request and honours the abort signal", async () => {
    const p = createSimulatedProvider("biased", { latencyMs: 10_000 });
    const controller = new AbortController();
    const pending = p.complete(request(), { signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    const quick = createSimulatedProvider("biased", { env: { SILICON_SIMULATED_LATENCY_MS: "5-10" } });
    const start = performance.now();
    await quick.complete(request(), { signal });
    expect(performance.now() - start).toBeGreaterThanOrEqual(4);
    expect(() => createSimulatedProvider("biased", { env: { SILICON_SIMULATED_LATENCY_MS: "soon" } })).toThrow(UsageError);
  });
});
