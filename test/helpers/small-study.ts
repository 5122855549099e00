/**
 * Issue 13's small study: 3 items, 50 respondents a wave, two historical
 * waves and a target, by: [all, party]. At α = 0.1 its tasks cannot be
 * calibrated (8 thermometer and 16 proportion tasks per model; alg1 needs 20).
 */
function frame(wave: number, withAnswers: boolean, size = 50): string {
  const parties = ["Democrat", "Republican", "Independent"];
  const rows = Array.from({ length: size }, (_, i) => {
    const base = [`r${wave}-${i}`, "1", parties[i % 3]!, String(20 + (i % 50))];
    return (withAnswers ? [...base, String(i % 2), String((i + wave) % 2), String((i * 7) % 101)] : base).join(",");
  });
  return [`id,weight,party,age${withAnswers ? ",approve,favor,therm" : ""}`, ...rows].join("\n") + "\n";
}

export const SMALL_STUDY: Record<string, string> = {
  "survey.yaml": `id: small
items:
  - { id: approve, type: binary, text: Do you approve of the president? }
  - { id: favor, type: binary, text: Do you favor the policy? }
  - { id: therm, type: thermometer, text: Rate Democrats from 0 to 100. }
`,
  "persona.hbs": "You are a {{age}}-year-old {{party}}.\n",
  "h1.csv": frame(1, true),
  "h2.csv": frame(2, true),
  "t.csv": frame(3, false),
  "study.yaml": `name: small
survey: survey.yaml
persona: persona.hbs
waves:
  - { id: h1, frame: h1.csv, role: historical }
  - { id: h2, frame: h2.csv, role: historical }
  - { id: t, frame: t.csv, role: target }
models: [simulated:biased]
estimands:
  by: [all, party]
`,
};
