import { describe, expect, it } from "vitest";
import { loadSurvey } from "../../src/config/load.ts";
import { Survey, type SurveyItem } from "../../src/config/schema.ts";
import { distributionMean, logistic, type AnswerDistribution } from "../../src/simulation/distribution.ts";
import { profileFeatures } from "../../src/simulation/features.ts";
import { itemModel } from "../../src/simulation/items.ts";
import { SIMULATED_MODELS } from "../../src/simulation/models.ts";
import {
  populationDistribution,
  predictor,
  presidentParty,
  siliconBias,
  siliconDistribution,
  waveShock,
} from "../../src/simulation/respondent.ts";

const survey = loadSurvey("surveys/example-survey.yaml");
const item = (id: string) => survey.items.find((i) => i.id === id)!;
const wave = { id: "w2024", context: { president: "Joe Biden", president_party: "Democrat" } };
const independent = { party: "Independent", region: "Midwest", age: 50, education: "Some college", gender: "Woman", race: "White" };

function sd(dist: AnswerDistribution): number {
  if (dist.kind !== "discrete") throw new Error("expected discrete");
  const mean = distributionMean(dist);
  return Math.sqrt(dist.values.reduce((s, v, i) => s + dist.probs[i]! * (v - mean) ** 2, 0));
}

describe("population and silicon respondent models (docs/simulated-provider.md)", () => {
  it("simulated:faithful answers exactly like the population", () => {
    for (const it of survey.items) {
      const pop = populationDistribution(it, independent, wave);
      const sil = siliconDistribution("faithful", it, independent, wave);
      expect(sil).toEqual(pop);
    }
  });

  it("draws biases iid N(μ, τ²) per (model, item, subgroup), in latent units", () => {
    // 40 generic binary items × 100 subgroups: 4,000 biases, in logits (unit 1).
    const items = Array.from({ length: 40 }, (_, i) => Survey.parse({ id: "s", items: [{ id: `q${i}`, type: "binary", text: "?" }] }).items[0]!);
    const draws: number[][] = items.map((it) => Array.from({ length: 100 }, (_, g) => siliconBias("biased", it, `group${g}`)[0]!));
    const all = draws.flat();
    const n = all.length;
    const mean = all.reduce((a, b) => a + b, 0) / n;
    const sdev = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    const { biasMean, biasSd } = SIMULATED_MODELS.biased!;
    // Monte-Carlo tolerance: 4 standard errors.
    expect(Math.abs(mean - biasMean)).toBeLessThan((4 * biasSd) / Math.sqrt(n));
    expect(Math.abs(sdev - biasSd)).toBeLessThan((4 * biasSd) / Math.sqrt(2 * n));
    // Independent across subgroups of one item (neighbouring subgroups) and across items.
    const pairs = (xs: number[], ys: number[]) => {
      const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
      const my = ys.reduce((a, b) => a + b, 0) / ys.length;
      let sxy = 0, sxx = 0, syy = 0;
      xs.forEach((x, i) => {
        sxy += (x - mx) * (ys[i]! - my);
        sxx += (x - mx) ** 2;
        syy += (ys[i]! - my) ** 2;
      });
      return sxy / Math.sqrt(sxx * syy);
    };
    const neighbours = pairs(draws.flatMap((d) => d.slice(0, 99)), draws.flatMap((d) => d.slice(1)));
    const acrossItems = pairs(draws.slice(0, 39).flat(), draws.slice(1).flat());
    expect(Math.abs(neighbours)).toBeLessThan(4 / Math.sqrt(3960));
    expect(Math.abs(acrossItems)).toBeLessThan(4 / Math.sqrt(3900));
    // A fresh draw of the same kind of model (@k) has different, equally distributed biases.
    expect(siliconBias("biased@1", items[0]!, "group0")[0]).not.toBe(draws[0]![0]);
    // Thermometer biases are in points: sd units of the item (22 for therm_democrats).
    const unit = itemModel(item("therm_democrats"));
    expect(unit.kind === "scale" && unit.sd).toBe(22);
  });

  it("on a scale item away from the bounds, silicon mean = population mean − wave shock + bias, and sd = κ·σ", () => {
    const therm = item("therm_democrats");
    const features = profileFeatures(independent);
    const bias = siliconBias("biased", therm, "Independent|Midwest")[0]!;
    const shock = waveShock(therm, wave.id, "Independent")[0]!;
    const pop = populationDistribution(therm, independent, wave);
    const sil = siliconDistribution("biased", therm, independent, wave);
    const m = itemModel(therm);
    if (m.kind !== "scale") throw new Error("expected a scale");
    const eta = predictor(m.effects, features, "Democrat", 0);
    expect(distributionMean(pop)).toBeCloseTo(eta + shock, 1);
    expect(distributionMean(sil) - (distributionMean(pop) - shock)).toBeCloseTo(bias, 1);
    // Heaping to multiples of 5 adds about 25/12 × share to the variance, rounding to 1 adds 1/12.
    const { dispersion, heap } = SIMULATED_MODELS.biased!;
    expect(sd(sil)).toBeCloseTo(Math.sqrt((dispersion * 22) ** 2 + (25 / 12) * heap + (1 / 12) * (1 - heap)), 1);
    // The population's own spread (σ = 22) is cut by the bounds 0 and 100: censoring shrinks it.
    expect(sd(pop)).toBeLessThan(22);
    expect(sd(pop)).toBeGreaterThan(21);
  });

  it("binary: P(1) = logistic((η + b) / κ) for a model blind to shocks, and co-partisans follow the president", () => {
    const approve = item("approve");
    const m = itemModel(approve);
    if (m.kind !== "binary") throw new Error("expected binary");
    for (const party of ["Democrat", "Republican", "Independent"]) {
      const profile = { ...independent, party };
      const f = profileFeatures(profile);
      const b = siliconBias("polarized", approve, `${party}|Midwest`)[0]!;
      const { dispersion, polarization } = SIMULATED_MODELS.polarized!;
      const p1 = logistic((predictor(m.effects, f, presidentParty(wave.context), polarization) + b) / dispersion);
      const dist = siliconDistribution("polarized", approve, profile, wave);
      expect(dist.kind === "discrete" && dist.probs[0]).toBeCloseTo(p1, 12); // options listed as 1 (Approve), 0
    }
    const democrat = distributionMean(populationDistribution(approve, { ...independent, party: "Democrat" }, wave));
    const republican = distributionMean(populationDistribution(approve, { ...independent, party: "Republican" }, wave));
    expect(democrat).toBeGreaterThan(0.8);
    expect(republican).toBeLessThan(0.15);
    const underTrump = { id: "w2019", context: { president_party: "Republican" } };
    expect(distributionMean(populationDistribution(approve, { ...independent, party: "Republican" }, underTrump))).toBeGreaterThan(0.8);
  });

  it("answers any item: generic parameters are seeded by the item id, and stable", () => {
    const [numeric, choice] = Survey.parse({
      id: "s",
      items: [
        { id: "books", type: "numeric", text: "?", min: 0, max: 50, integer: true },
        { id: "color", type: "single_choice", text: "?", options: ["red", "green", "blue"].map((label, i) => ({ code: i + 1, label })) },
      ],
    }).items as [SurveyItem, SurveyItem];
    const a = siliconDistribution("erratic", numeric, independent, wave);
    expect(a.kind).toBe("discrete");
    expect(a.kind === "discrete" && a.values.length).toBe(51);
    expect(siliconDistribution("erratic", numeric, independent, wave)).toEqual(a);
    const c = siliconDistribution("biased", choice, independent, wave);
    expect(c.kind === "discrete" && c.values).toEqual([1, 2, 3]);
    const wide = Survey.parse({ id: "s", items: [{ id: "income", type: "numeric", text: "?", min: 0, max: 500000, integer: true }] }).items[0]!;
    expect(siliconDistribution("biased", wide, independent, wave).kind).toBe("continuous");
  });
});

describe("profile features", () => {
  it("recognises common column names and labels of ANES and Pew files", () => {
    expect(profileFeatures({ pid3: "Strong Democrat", F_CREGION: "South", F_AGE: "30-49", educ: "Bachelor's degree", sex: "Female", race_ethnicity: "Non-Hispanic White" })).toEqual({
      party: "Democrat", region: "South", age: 39.5, education: 2, woman: true, race: "White",
    });
    expect(profileFeatures({ partyid: "Rep", region: "North Central", age: 70, education: "Postgraduate", gender: "Male", race: "Hispanic" })).toEqual({
      party: "Republican", region: "Midwest", age: 70, education: 3, woman: false, race: "Hispanic",
    });
    expect(profileFeatures({ id: "x", hobby: "chess", party: null })).toEqual({});
  });
});
