/**
 * The two respondent models, exactly as docs/simulated-provider.md states them.
 *
 * Population (the "real" answers in simulated frames): for item i, profile x
 * and wave w, a latent predictor η = effects_i(x) + shock_i(w) + shock_i(w, party),
 * turned into an answer distribution by item type (censored, heaped normal;
 * logit; cumulative logit; multinomial logit).
 *
 * Silicon (a simulated model m): the same construction with party effects
 * scaled by 1 + γ_m, the wave shocks dropped unless m knows them, a bias
 * b = unit_i · (μ_m + τ_m z) added, z ~ N(0, 1) drawn once per (m, item,
 * subgroup = party × region), and the dispersion shrunk by κ_m. The model
 * never sees the prompt, only the profile, the item and the wave.
 */
import type { SurveyItem } from "../config/schema.ts";
import type { Cell } from "../tables/types.ts";
import {
  discrete,
  heapedScale,
  logistic,
  orderedLogit,
  softmax,
  type AnswerDistribution,
} from "./distribution.ts";
import { partyOf, profileFeatures, subgroupOf, type Features, type Party } from "./features.ts";
import { itemModel, latentUnit, waveShockSd, type Effects, type ItemModel } from "./items.ts";
import { parseSimulatedModel, SIMULATED_MODELS, type ParsedSimulatedModel, type SiliconSpec } from "./models.ts";
import { normalFromKey } from "./random.ts";

export interface WaveInfo {
  id: string;
  context: Record<string, unknown>;
}

/** The population's answer distribution for one profile (what simulated frames draw real answers from). */
export function populationDistribution(item: SurveyItem, profile: Record<string, Cell>, wave: WaveInfo): AnswerDistribution {
  return distributionFor(SIMULATED_MODELS.faithful!, undefined, item, profileFeatures(profile), wave);
}

/** A simulated model's answer distribution for one profile, before temperature. */
export function siliconDistribution(
  model: string | ParsedSimulatedModel,
  item: SurveyItem,
  profile: Record<string, Cell>,
  wave: WaveInfo,
): AnswerDistribution {
  const parsed = typeof model === "string" ? parseSimulatedModel(model) : model;
  return distributionFor(parsed.spec, parsed, item, profileFeatures(profile), wave);
}

/**
 * The bias of model `model` for `item` in `subgroup` ("Democrat|South"), in
 * the item's latent units: one value, or one per option for unordered choices.
 */
export function siliconBias(model: string | ParsedSimulatedModel, item: SurveyItem, subgroup: string): number[] {
  const parsed = typeof model === "string" ? parseSimulatedModel(model) : model;
  const { biasMean, biasSd } = parsed.spec;
  const itemM = itemModel(item);
  const unit = latentUnit(itemM);
  const key = `bias|${parsed.base}|${parsed.variant}|${item.id}|${subgroup}`;
  if (biasMean === 0 && biasSd === 0) return itemM.kind === "nominal" ? itemM.effects.map(() => 0) : [0];
  if (itemM.kind === "nominal") return itemM.effects.map((_, k) => unit * biasSd * normalFromKey(`${key}|${k}`));
  return [unit * (biasMean + biasSd * normalFromKey(key))];
}

/** The wave's shock to `item` (latent units; one per option for unordered choices), for a party or for everyone. */
export function waveShock(item: SurveyItem, waveId: string, party: Party | undefined): number[] {
  const itemM = itemModel(item);
  const sd = waveShockSd(itemM);
  const one = (suffix: string) =>
    sd * normalFromKey(`shock|${item.id}|${waveId}${suffix}`) +
    (party === undefined ? 0 : (sd / 2) * normalFromKey(`shock|${item.id}|${waveId}|${party}${suffix}`));
  return itemM.kind === "nominal" ? itemM.effects.map((_, k) => one(`|${k}`)) : [one("")];
}

/** The party of the wave's sitting president, from context `president_party`. */
export function presidentParty(context: Record<string, unknown>): Party | undefined {
  const value = context["president_party"];
  return typeof value === "string" ? partyOf(value) : undefined;
}

/**
 * A distribution depends only on (model, item, wave, president's party,
 * features), and k generations of one respondent ask for the same one k
 * times: keep recent ones. Items are keyed by object identity.
 */
const recent = new WeakMap<SurveyItem, Map<string, AnswerDistribution>>();
const RECENT_PER_ITEM = 20_000;

function distributionFor(
  spec: SiliconSpec,
  model: ParsedSimulatedModel | undefined,
  item: SurveyItem,
  features: Features,
  wave: WaveInfo,
): AnswerDistribution {
  let byKey = recent.get(item);
  if (byKey === undefined) recent.set(item, (byKey = new Map()));
  const key = `${model === undefined ? "" : `${model.base}@${model.variant}`}|${wave.id}|${String(wave.context["president_party"])}|${features.party}|${features.region}|${features.age}|${features.education}|${features.woman}|${features.race}`;
  let dist = byKey.get(key);
  if (dist === undefined) {
    dist = computeDistribution(spec, model, item, features, wave);
    if (byKey.size >= RECENT_PER_ITEM) byKey.clear();
    byKey.set(key, dist);
  }
  return dist;
}

function computeDistribution(
  spec: SiliconSpec,
  model: ParsedSimulatedModel | undefined,
  item: SurveyItem,
  features: Features,
  wave: WaveInfo,
): AnswerDistribution {
  const m = itemModel(item);
  const president = presidentParty(wave.context);
  const shocks = spec.knowsShocks ? waveShock(item, wave.id, features.party) : undefined;
  const bias = model === undefined ? undefined : siliconBias(model, item, subgroupOf(features));
  const eta = (effects: Effects, k: number) =>
    predictor(effects, features, president, spec.polarization) + (shocks?.[k] ?? 0) + (bias?.[k] ?? 0);
  return shape(m, item, spec, eta);
}

function shape(m: ItemModel, item: SurveyItem, spec: SiliconSpec, eta: (effects: Effects, k: number) => number): AnswerDistribution {
  const kappa = spec.dispersion;
  switch (m.kind) {
    case "scale": {
      const mean = eta(m.effects, 0);
      const sd = m.sd * kappa;
      const lo = m.integer ? Math.ceil(m.min) : m.min;
      const hi = m.integer ? Math.floor(m.max) : m.max;
      if (m.integer && hi - lo <= 1000) return heapedScale(mean, sd, lo, hi, m.step, spec.heap);
      const range = m.max - m.min;
      const decimals = m.integer ? 0 : Math.max(0, 3 - Math.ceil(Math.log10(range)));
      return { kind: "continuous", mean, sd, min: m.min, max: m.max, decimals };
    }
    case "binary": {
      const codes = optionCodes(item);
      const p1 = logistic(eta(m.effects, 0) / kappa);
      return discrete(codes, codes.map((c) => (c === 1 ? p1 : 1 - p1)));
    }
    case "ordinal":
      return orderedLogit(optionCodes(item), eta(m.effects, 0), m.cutpoints, kappa);
    case "nominal":
      return softmax(optionCodes(item), m.effects.map((e, k) => eta(e, k)), kappa);
  }
}

function optionCodes(item: SurveyItem): number[] {
  return "options" in item ? item.options.map((o) => o.code) : [];
}

/** The latent predictor of one profile: the sum of its effects, party terms scaled by 1 + γ. */
export function predictor(e: Effects, f: Features, president: Party | undefined, polarization: number): number {
  let partisan = f.party === undefined ? 0 : (e.party[f.party] ?? 0);
  if (president !== undefined && f.party !== undefined && f.party !== "Independent") {
    partisan += f.party === president ? e.copartisan : e.opposition;
  }
  let eta = e.base + (1 + polarization) * partisan;
  eta += e.education * ((f.education ?? 1.5) - 1.5);
  eta += e.age * (((f.age ?? 50) - 50) / 10);
  eta += f.woman === undefined ? 0 : e.woman * (f.woman ? 0.5 : -0.5);
  eta += (f.race === undefined ? 0 : e.race[f.race]) ?? 0;
  eta += (f.region === undefined ? 0 : e.region[f.region]) ?? 0;
  return eta;
}
