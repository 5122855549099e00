/**
 * The example tasks table shipped as examples/tasks.csv: a simulated
 * four-wave panel (W1–W3 history, W4 targets that keep their real estimates
 * so evaluation can score them) with
 * - 12 binary items × 6 subgroups per wave, and
 * - a polarized 2-D target: presidential approval among co-partisans and
 *   among the opposition (coords), per field date (4 per wave) × region,
 * for two simulated models with known, different biases:
 * - `simulated:steady` shifts every item a little and slightly exaggerates
 *   partisanship;
 * - `simulated:caricature` exaggerates partisanship strongly (a caricature
 *   of each subgroup), with larger item-specific errors.
 * Neither model sees the wave-specific shifts of real opinion, so per-wave
 * coverage varies, as it does with real panels. All of it is seeded.
 */
import type { TaskRow } from "../config/tasks.ts";
import { createRng, type Rng } from "./random.ts";

const WAVES = ["W1", "W2", "W3", "W4"];
const ITEMS = [
  "stricter_gun_laws",
  "climate_priority",
  "raise_minimum_wage",
  "trust_news_media",
  "expand_immigration",
  "ban_tiktok",
  "student_debt_relief",
  "police_funding",
  "nuclear_power",
  "remote_work_good",
  "ai_worries",
  "four_day_week",
];
/** Subgroup, its partisan lean (−1 Democrat … +1 Republican) and real sample size per wave. */
const SUBGROUPS: [string, number, number][] = [
  ["party=Democrat", -1, 620],
  ["party=Republican", 1, 560],
  ["party=Independent", 0, 410],
  ["age=18-29", -0.4, 280],
  ["age=65+", 0.3, 450],
  ["educ=college", -0.35, 520],
];
const REGIONS: [string, number][] = [
  ["Northeast", -0.2],
  ["Midwest", 0.05],
  ["South", 0.2],
  ["West", -0.1],
];

interface ModelSpec {
  name: string;
  /** Multiplies the partisan term on the logit scale (1 = faithful). */
  polarization: number;
  itemBiasMean: number;
  itemBiasSd: number;
  noiseSd: number;
  /** Synthetic respondents per subgroup (silicon samples are cheap). */
  synN: number;
}

const MODELS: ModelSpec[] = [
  { name: "simulated:steady", polarization: 1.15, itemBiasMean: 0.1, itemBiasSd: 0.2, noiseSd: 0.08, synN: 400 },
  { name: "simulated:caricature", polarization: 1.9, itemBiasMean: -0.15, itemBiasSd: 0.45, noiseSd: 0.15, synN: 400 },
];

const logit = (p: number) => Math.log(p / (1 - p));
const expit = (x: number) => 1 / (1 + Math.exp(-x));

interface Sample {
  est: number;
  se: number;
  n: number;
}

function sample(rng: Rng, p: number, n: number): Sample {
  const est = rng.binomial(n, p) / n;
  return { est, se: Math.sqrt((est * (1 - est)) / n), n };
}

/** The estimate columns of a row from its real and synthetic samples. */
function estimates(real: Sample, syn: Sample) {
  return { real_est: real.est, real_se: real.se, real_n: real.n, syn_est: syn.est, syn_se: syn.se, syn_n: syn.n };
}

/** The rows of examples/tasks.csv, deterministic for a seed. */
export function exampleTasks(seed = 2024): TaskRow[] {
  const rng = createRng(seed);
  const itemBase = ITEMS.map(() => 0.6 * rng.normal());
  const itemPartisan = ITEMS.map(() => 0.9 * rng.normal());
  const waveShock = WAVES.map(() => 0.12 * rng.normal());
  const itemDrift = ITEMS.map(() => WAVES.map(() => 0.1 * rng.normal()));
  const modelItemBias = MODELS.map((m) => ITEMS.map(() => m.itemBiasMean + m.itemBiasSd * rng.normal()));
  // Approval: the president's party is the "co-partisan" side; real approval drifts over waves.
  const approvalTrend = WAVES.map(() => 0.15 * rng.normal());

  const rows: TaskRow[] = [];
  const role = (w: number) => (w < WAVES.length - 1 ? ("history" as const) : ("target" as const));
  for (const [w, wave] of WAVES.entries()) {
    // Items × subgroups.
    const realTheta = ITEMS.map((_, i) =>
      SUBGROUPS.map(([, lean]) => expit(itemBase[i]! + itemPartisan[i]! * lean + itemDrift[i]![w]! + waveShock[w]!)),
    );
    const realSamples = realTheta.map((bySub) => bySub.map((theta, s) => sample(rng, theta, Math.round(SUBGROUPS[s]![2] * (0.85 + 0.3 * rng.next())))));
    for (const [m, model] of MODELS.entries()) {
      for (const [i, item] of ITEMS.entries()) {
        for (const [s, [subgroup, lean]] of SUBGROUPS.entries()) {
          // The model knows items and subgroups but not this wave's events.
          const synTheta = expit(itemBase[i]! + model.polarization * itemPartisan[i]! * lean + modelItemBias[m]![i]! + model.noiseSd * rng.normal());
          const real = realSamples[i]![s]!;
          const syn = sample(rng, synTheta, model.synN);
          rows.push({
            task: `${item}|${subgroup}|${wave}`,
            model: model.name,
            role: role(w),
            group: wave,
            item,
            subgroup,
            ...estimates(real, syn),
            extra: {},
          });
        }
      }
    }
    // Approval: 4 field dates per wave × 4 regions, two coordinates.
    for (let date = 1; date <= 4; date++) {
      for (const [region, regionLean] of REGIONS) {
        const base = approvalTrend[w]! + 0.05 * rng.normal();
        const coTheta = expit(1.9 + base - regionLean * 0.3);
        const oppTheta = expit(-2.3 + base + regionLean * 0.3);
        const coN = 120 + rng.integer(160);
        const oppN = 110 + rng.integer(150);
        const coReal = sample(rng, coTheta, coN);
        const oppReal = sample(rng, oppTheta, oppN);
        for (const model of MODELS) {
          // Models caricature polarization: co-partisans approve more, the opposition less.
          const excess = model.polarization - 1;
          const coSyn = sample(rng, expit(logit(coTheta) - base + excess * 1.4 + model.noiseSd * rng.normal()), model.synN);
          const oppSyn = sample(rng, expit(logit(oppTheta) - base - excess * 1.2 + model.noiseSd * rng.normal()), model.synN);
          for (const [coord, real, syn] of [
            ["copartisan", coReal, coSyn],
            ["opposition", oppReal, oppSyn],
          ] as const) {
            rows.push({
              task: `approval|${wave}-${date}|${region}`,
              model: model.name,
              role: role(w),
              group: wave,
              coord,
              item: "approval",
              subgroup: `region=${region}`,
              ...estimates(real, syn),
              extra: {},
            });
          }
        }
      }
    }
  }
  return rows;
}
