/**
 * The gap SE. Where twins have both values everywhere it is `pairedGap`
 * (R fixture: test/estimands/r-survey.test.ts). Here: with item nonresponse
 * on both sides, a seeded simulation shows gap_se is the standard deviation
 * of real_est − syn_est over repeated samples, which the independent formula
 * overstates; and without a single twin pair the gap is independent.
 */
import { describe, expect, it } from "vitest";
import { surveyDesign } from "../../src/estimands/design.ts";
import { domainsOf } from "../../src/estimands/domains.ts";
import { domainGaps } from "../../src/estimands/gap.ts";
import { domainSums } from "../../src/estimands/mean.ts";
import { domainMean, independentGap, pairedGap } from "../../src/inference/survey.ts";
import { createRng } from "../../src/simulation/random.ts";

function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

interface Sample {
  weight: number[];
  party: string[];
  real: number[];
  syn: number[];
}

/** One survey of n: real answers and twin averages share the respondent's x; both sides have item nonresponse. */
function draw(random: () => number, n: number): Sample {
  const sample: Sample = { weight: [], party: [], real: [], syn: [] };
  for (let i = 0; i < n; i++) {
    const x = normal(random);
    sample.weight.push(0.5 + 1.5 * random());
    sample.party.push(random() < 0.6 ? "A" : "B");
    sample.real.push(random() < 0.15 ? NaN : 50 + 10 * x + 4 * normal(random));
    sample.syn.push(random() < 0.05 ? NaN : 45 + 8 * x + 2 * normal(random));
  }
  return sample;
}

function gapOf(sample: Sample) {
  const design = surveyDesign({ id: sample.weight.map((_, i) => `r${i}`), weight: sample.weight, attributes: { party: sample.party } });
  const domains = domainsOf(design, { columns: ["party"] });
  const realSums = domainSums(design, domains, sample.real);
  const synSums = domainSums(design, domains, sample.syn);
  const gaps = domainGaps(design, domains, sample.real, sample.syn, realSums, synSums);
  const a = domains.levels.findIndex((level) => level.values[0] === "A");
  return { gap: gaps[a]!, real: domainMean(realSums[a]!), syn: domainMean(synSums[a]!) };
}

describe("domainGaps", () => {
  it("has gap_se equal to the sampling SD of real_est − syn_est under item nonresponse (seeded, 2000 samples)", () => {
    const random = createRng(20240611).next;
    const differences: number[] = [];
    const pairedSe: number[] = [];
    const independentSe: number[] = [];
    const bothValidSe: number[] = [];
    for (let replicate = 0; replicate < 2000; replicate++) {
      const sample = draw(random, 300);
      const { gap, real, syn } = gapOf(sample);
      bothValidSe.push(pairedGap(sample.real, sample.syn, sample.weight, sample.party.map((p) => p === "A")).se);
      expect(gap.paired).toBe(true);
      expect(gap.estimate).toBeCloseTo(real.estimate - syn.estimate, 10);
      differences.push(gap.estimate);
      pairedSe.push(gap.se);
      independentSe.push(independentGap(real, syn).se);
    }
    const mean = differences.reduce((s, d) => s + d, 0) / differences.length;
    const sd = Math.sqrt(differences.reduce((s, d) => s + (d - mean) ** 2, 0) / (differences.length - 1));
    const average = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    // Monte Carlo: the SD of 2000 replicates is known to about 1.6%; 5% is three of those.
    expect(Math.abs(average(pairedSe) / sd - 1)).toBeLessThan(0.05);
    // The twins are strongly correlated, so the independent formula is far too wide here.
    expect(average(independentSe) / sd).toBeGreaterThan(1.5);
    // pairedGap over respondents with both values is the SE of another contrast: too narrow here (0.78).
    expect(average(bothValidSe) / sd).toBeLessThan(0.9);
  });

  it("falls back to the independent formula where no respondent has both values", () => {
    const sample = draw(createRng(7).next, 40);
    sample.real = sample.real.map((y, i) => (i % 2 === 0 ? y : NaN));
    sample.syn = sample.syn.map((y, i) => (i % 2 === 1 ? y : NaN));
    const { gap, real, syn } = gapOf(sample);
    expect(gap.paired).toBe(false);
    expect(gap.pairs).toBe(0);
    expect(gap.se).toBe(Math.hypot(real.se, syn.se));
    expect(gap.estimate).toBe(real.estimate - syn.estimate);
  });
});
