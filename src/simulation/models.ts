/**
 * The simulated "vendors": named silicon-respondent models with known
 * distortions of the population's answer distribution. `simulated:<name>`
 * in a study; `simulated:<name>@<k>` draws the same kind of model with a
 * different, equally likely set of per-task biases (a fresh "vendor").
 */
import { InputError } from "../errors.ts";

export interface SiliconSpec {
  /** One line for docs and --help. */
  description: string;
  /** Mean μ of the per-(model, item, subgroup) bias, in latent units (see items.ts latentUnit). */
  biasMean: number;
  /** Standard deviation τ of that bias. */
  biasSd: number;
  /** κ ≤ 1: answers are κ times as dispersed as the population's (latent sd × κ; logits ÷ κ). */
  dispersion: number;
  /** γ: party effects (and co-partisan/opposition effects) are multiplied by 1 + γ. */
  polarization: number;
  /** Whether the model knows each wave's shocks (events the population reacted to). */
  knowsShocks: boolean;
  /** Share of thermometer answers rounded to a multiple of 5. */
  heap: number;
}

/** The population's own heaping share; `faithful` copies it. */
export const POPULATION_HEAP = 0.6;

export const SIMULATED_MODELS: Record<string, SiliconSpec> = {
  faithful: {
    description: "answers exactly like the population (no bias, full dispersion, knows wave shocks): a control",
    biasMean: 0, biasSd: 0, dispersion: 1, polarization: 0, knowsShocks: true, heap: POPULATION_HEAP,
  },
  biased: {
    description: "iid per-task biases (μ = 0.15, τ = 0.3), under-dispersed (κ = 0.6), blind to wave shocks",
    biasMean: 0.15, biasSd: 0.3, dispersion: 0.6, polarization: 0, knowsShocks: false, heap: 0.9,
  },
  polarized: {
    description: "exaggerates partisan differences (γ = 0.5), small iid biases (τ = 0.15), κ = 0.7, blind to shocks",
    biasMean: 0, biasSd: 0.15, dispersion: 0.7, polarization: 0.5, knowsShocks: false, heap: 0.9,
  },
  erratic: {
    description: "large iid per-task biases (τ = 0.8) around zero, κ = 0.8, blind to shocks",
    biasMean: 0, biasSd: 0.8, dispersion: 0.8, polarization: 0, knowsShocks: false, heap: 0.9,
  },
};

export interface ParsedSimulatedModel {
  /** As written after `simulated:`, e.g. `biased@2`. */
  name: string;
  /** The kind, e.g. `biased`. */
  base: string;
  /** The bias draw; 0 unless written as `@k`. */
  variant: number;
  spec: SiliconSpec;
}

/** Why `name` (the part after `simulated:`) is not a simulated model, or undefined when it is one. */
export function simulatedModelProblem(name: string): string | undefined {
  const match = /^([a-z_]+)(?:@(\d{1,9}))?$/.exec(name);
  if (match !== null && Object.hasOwn(SIMULATED_MODELS, match[1]!)) return undefined;
  return `unknown simulated model "${name}": expected one of ${Object.keys(SIMULATED_MODELS).join(", ")} (optionally with @<number> for another draw of its biases, e.g. biased@2)`;
}

export function parseSimulatedModel(name: string): ParsedSimulatedModel {
  const problem = simulatedModelProblem(name);
  // The registry re-locates this to the study file and field; alone it still names the model.
  if (problem !== undefined) throw new InputError({ file: `simulated:${name}` }, problem);
  const [, base, variant] = /^([a-z_]+)(?:@(\d+))?$/.exec(name)!;
  return { name, base: base!, variant: variant === undefined ? 0 : Number(variant), spec: SIMULATED_MODELS[base!]! };
}
