import { describe, expect, it } from "vitest";
import { loadStudy } from "../../src/config/load.ts";
import { createSimulatedProvider } from "../../src/providers/simulated.ts";
import { expectedTaskMeans } from "../../src/simulation/truth.ts";

const study = await loadStudy("surveys/example-study.yaml");
const target = study.waves.find((w) => w.wave.role === "target")!;
const items = study.survey.items;

describe("expectedTaskMeans", () => {
  it("gives zero gaps for the faithful model, one row per item × group (per option for unordered choices)", () => {
    const rows = expectedTaskMeans({ model: "faithful", frame: target.frame, wave: target.wave, items, by: "party" });
    expect(rows).toHaveLength(6 * 3 + 5 * 3);
    for (const row of rows) expect(row.gap).toBe(0);
    expect(rows.filter((r) => r.item === "approve").map((r) => r.group)).toEqual(["party=Democrat", "party=Independent", "party=Republican"]);
    expect(rows.filter((r) => r.item === "approve").reduce((s, r) => s + r.n, 0)).toBe(target.frame.size);
    const shares = rows.filter((r) => r.item === "top_issue" && r.group === "party=Democrat").reduce((s, r) => s + r.population, 0);
    expect(shares).toBeCloseTo(1, 12);
  });

  it("matches the simulated provider's answers (weighted means over 20 generations, within 4 SE)", async () => {
    const provider = createSimulatedProvider("polarized");
    const signal = new AbortController().signal;
    const rows = expectedTaskMeans({ model: "polarized", frame: target.frame, wave: target.wave, items, by: "party" });
    for (const itemId of ["therm_republicans", "approve"]) {
      const item = items.find((i) => i.id === itemId)!;
      const byGroup = new Map<string, { w: number; y: number[]; ws: number[] }>();
      for (let r = 0; r < target.frame.size; r++) {
        const profile = target.frame.profile(r);
        const result = await provider.complete(
          {
            system: "", messages: [], maxTokens: 20, temperature: 1, seed: 1, n: 20,
            subject: { respondent: profile, respondentId: target.frame.ids[r]!, item, wave: target.wave, generation: 1 },
          },
          { signal },
        );
        const answers = result.choices.map((c) => (item.type === "binary" ? (c.text === "Approve" ? 1 : 0) : Number(c.text)));
        const group = `party=${String(profile.party)}`;
        const g = byGroup.get(group) ?? { w: 0, y: [], ws: [] };
        g.y.push(answers.reduce((a, b) => a + b, 0) / answers.length); // respondent average: generations cluster
        g.ws.push(target.frame.weights[r]!);
        g.w += target.frame.weights[r]!;
        byGroup.set(group, g);
      }
      for (const [group, g] of byGroup) {
        const mean = g.y.reduce((s, y, i) => s + g.ws[i]! * y, 0) / g.w;
        const n = g.y.length;
        const se = Math.sqrt((n / (n - 1)) * g.y.reduce((s, y, i) => s + (g.ws[i]! * (y - mean)) ** 2, 0) / g.w ** 2);
        const expected = rows.find((row) => row.item === itemId && row.group === group)!.silicon;
        expect(Math.abs(mean - expected), `${itemId} ${group}`).toBeLessThan(4 * se + 1e-9);
      }
    }
  });
});
