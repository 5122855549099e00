/**
 * The population model's parameters for each survey item: additive effects
 * of the profile on a latent predictor, by item type. The example survey's
 * items (ANES-style thermometers, Pew-style presidential approval, a trust
 * Likert item, a "most important problem" choice) have hand-set, realistic
 * presets; any other item gets parameters drawn from a seeded distribution
 * keyed by its id, so the simulator answers every survey.
 */
import type { SurveyItem } from "../config/schema.ts";
import type { Party, Race, Region } from "./features.ts";
import { createRng } from "./random.ts";

/** Additive contributions to an item's latent predictor (points for scales, logits otherwise). */
export interface Effects {
  base: number;
  party: Partial<Record<Party, number>>;
  /** Added when the respondent shares the party of the wave's president (context `president_party`). */
  copartisan: number;
  /** Added when the respondent belongs to the other major party. */
  opposition: number;
  /** Per education level (0..3), centred at 1.5. */
  education: number;
  /** Per decade of age, centred at 50. */
  age: number;
  /** Women +½, men −½ of this. */
  woman: number;
  race: Partial<Record<Race, number>>;
  region: Partial<Record<Region, number>>;
}

export type ItemModel =
  | {
      kind: "scale";
      effects: Effects;
      /** Individual spread of the latent answer around the profile's mean. */
      sd: number;
      min: number;
      max: number;
      integer: boolean;
      /** Heaping grid (5 for thermometers; 1 = none). */
      step: number;
    }
  | { kind: "binary"; effects: Effects }
  | { kind: "ordinal"; effects: Effects; cutpoints: number[] }
  | { kind: "nominal"; effects: Effects[] };

/** Scale of the wave shocks and of a silicon bias of 1, per kind: sd points for scales, 1 logit otherwise. */
export function latentUnit(model: ItemModel): number {
  return model.kind === "scale" ? model.sd : 1;
}

/**
 * Standard deviation of the per-wave shock to an item, in latent units: 0.15 sd
 * for scales (3.3 points on a thermometer with sd 22), 0.25 logits otherwise
 * (about 5 points of approval near 50%). The per-wave-and-party shock has half of it.
 */
export function waveShockSd(model: ItemModel): number {
  return model.kind === "scale" ? 0.15 * model.sd : 0.25;
}

function effects(partial: Partial<Effects> & { base: number }): Effects {
  return { party: {}, copartisan: 0, opposition: 0, education: 0, age: 0, woman: 0, race: {}, region: {}, ...partial };
}

/** Hand-set parameters for the example survey's items, by item id. */
export const PRESETS: Record<string, { type: SurveyItem["type"]; options?: number; model: ItemModel }> = {
  therm_democrats: {
    type: "thermometer",
    model: {
      kind: "scale", sd: 22, min: 0, max: 100, integer: true, step: 5,
      effects: effects({
        base: 48, party: { Democrat: 30, Republican: -27 }, education: 2.5, age: -0.5, woman: 3,
        race: { Black: 10, Hispanic: 4, Asian: 3 }, region: { Northeast: 2, South: -2, West: 1 },
      }),
    },
  },
  therm_republicans: {
    type: "thermometer",
    model: {
      kind: "scale", sd: 22, min: 0, max: 100, integer: true, step: 5,
      effects: effects({
        base: 45, party: { Democrat: -27, Republican: 30 }, education: -2.5, age: 1, woman: -2,
        race: { Black: -10, Hispanic: -3 }, region: { South: 3, Northeast: -2, West: -1 },
      }),
    },
  },
  therm_scientists: {
    type: "thermometer",
    model: {
      kind: "scale", sd: 18, min: 0, max: 100, integer: true, step: 5,
      effects: effects({
        base: 73, party: { Democrat: 9, Republican: -8 }, education: 4, age: -0.3, woman: -1,
        race: { Black: -2 }, region: { Northeast: 1 },
      }),
    },
  },
  therm_police: {
    type: "thermometer",
    model: {
      kind: "scale", sd: 22, min: 0, max: 100, integer: true, step: 5,
      effects: effects({
        base: 66, party: { Democrat: -8, Republican: 11 }, education: -0.5, age: 2.5,
        race: { Black: -14, Hispanic: -4 }, region: { South: 2 },
      }),
    },
  },
  approve: {
    type: "binary",
    model: { kind: "binary", effects: effects({ base: -0.35, copartisan: 2.75, opposition: -2.2, age: 0.05 }) },
  },
  trust_government: {
    type: "likert",
    options: 5,
    model: {
      kind: "ordinal",
      cutpoints: [-1.6, -0.3, 0.5, 2.0],
      effects: effects({ base: -0.4, copartisan: 0.9, opposition: -0.7, education: 0.1, age: -0.05 }),
    },
  },
  top_issue: {
    type: "single_choice",
    options: 5,
    model: {
      kind: "nominal",
      effects: [
        effects({ base: 0.9, party: { Republican: 0.4, Democrat: -0.1 }, age: -0.05, education: 0.05 }),
        effects({ base: 0.1, party: { Democrat: 0.4, Republican: -0.2 }, age: 0.12, woman: 0.3 }),
        effects({ base: -0.4, party: { Republican: 0.9, Democrat: -0.6 }, age: 0.1, race: { Hispanic: 0.2 }, region: { South: 0.2 } }),
        effects({ base: -0.3, party: { Democrat: 1.0, Republican: -1.2 }, age: -0.15, education: 0.2, region: { West: 0.2 } }),
        effects({ base: -0.7, party: { Republican: 0.3 }, age: 0.1, education: -0.15, race: { Black: 0.5 } }),
      ],
    },
  },
};

/** Items are parsed once and passed around by reference: cache by object. */
const cache = new WeakMap<SurveyItem, ItemModel>();

/** The population model of `item`: its preset when id, type and option count match, else generic. */
export function itemModel(item: SurveyItem): ItemModel {
  let model = cache.get(item);
  if (model === undefined) {
    model = presetFor(item) ?? genericModel(item);
    cache.set(item, model);
  }
  return model;
}

function presetFor(item: SurveyItem): ItemModel | undefined {
  const preset = PRESETS[item.id];
  if (preset === undefined || preset.type !== item.type) return undefined;
  if (preset.options !== undefined && (!("options" in item) || item.options.length !== preset.options)) return undefined;
  return preset.model;
}

/**
 * Parameters drawn for an item the presets do not cover, seeded by its id and
 * type: a party-driven latent (Democrats and Republicans pulled apart, as on
 * most political items) plus small demographic effects.
 */
function genericModel(item: SurveyItem): ItemModel {
  const rng = createRng(`item|${item.type}|${item.id}`);
  const n = () => rng.normal();
  const partisan = (scale: number) => {
    const dem = scale * n();
    return { Democrat: dem, Republican: -dem * (0.6 + 0.6 * rng.next()) + 0.3 * scale * n() };
  };
  const demographics = (scale: number) => ({
    education: 0.15 * scale * n(),
    age: 0.1 * scale * n(),
    woman: 0.2 * scale * n(),
    race: { Black: 0.3 * scale * n(), Hispanic: 0.2 * scale * n(), Asian: 0.2 * scale * n() },
    region: { Northeast: 0.1 * scale * n(), South: 0.1 * scale * n(), West: 0.1 * scale * n() },
  });
  switch (item.type) {
    case "thermometer":
    case "numeric": {
      const min = item.min;
      const max = item.max;
      const range = max - min;
      const sd = item.type === "thermometer" ? 20 + 5 * rng.next() : 0.15 * range;
      const base = min + range * (0.3 + 0.4 * rng.next());
      const integer = item.type === "thermometer" || item.integer;
      const step = item.type === "thermometer" ? 5 : 1;
      return { kind: "scale", sd, min, max, integer, step, effects: effects({ base, party: partisan(0.6 * sd), ...demographics(sd) }) };
    }
    case "binary":
      return { kind: "binary", effects: effects({ base: 0.8 * n(), party: partisan(1), ...demographics(1) }) };
    case "likert":
    case "single_choice": {
      const k = item.options.length;
      if (item.type === "likert" || item.ordered) {
        // Cutpoints at logistic quantiles of equal shares, jittered: roughly even use of the scale.
        const cutpoints = Array.from({ length: k - 1 }, (_, j) => Math.log((j + 1) / (k - j - 1)) + 0.3 * n()).sort((a, b) => a - b);
        return { kind: "ordinal", cutpoints, effects: effects({ base: 0.3 * n(), party: partisan(0.8), ...demographics(0.8) }) };
      }
      return {
        kind: "nominal",
        effects: Array.from({ length: k }, () => effects({ base: 0.6 * n(), party: partisan(0.6), ...demographics(0.6) })),
      };
    }
  }
}
