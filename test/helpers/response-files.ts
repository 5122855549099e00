/** A study's respondents and synthetic answers written as the files `silicon estimate --real --synthetic` reads. */
import { csvText } from "../../src/util/csv-text.ts";
import type { LoadedStudy } from "../../src/config/load.ts";
import type { SyntheticAnswers } from "../../src/estimands/answers.ts";

/** The study's real respondents as one file with a wave column (the derived column written out). */
export function realFileOf(study: LoadedStudy, idColumn = "id"): string {
  const rows: (string | number | null)[][] = [];
  const derivedNames = Object.keys(study.analysis.derived[0] ?? {});
  study.waves.forEach(({ wave, frame }, w) => {
    const answers = study.survey.items.map((item) => frame.answers(item));
    for (let r = 0; r < frame.size; r++) {
      const profile = frame.profile(r);
      rows.push([
        wave.id,
        frame.ids[r]!,
        frame.weights[r]!,
        String(profile["party"]),
        String(profile["region"]),
        ...derivedNames.map((name) => study.analysis.derived[w]![name]![r] ?? null),
        ...answers.map((a) => (Number.isNaN(a[r]!) ? null : a[r]!)),
      ]);
    }
  });
  return csvText(["wave", idColumn, "weight", "party", "region", ...derivedNames, ...study.survey.items.map((i) => i.id)], rows);
}

export function syntheticFileOf(answers: SyntheticAnswers): string {
  const rows = answers.id.map((id, e) => [answers.wave![e]!, id, answers.item[e]!, Number.isNaN(answers.value[e]!) ? null : answers.value[e]!, answers.model![e]!, answers.generation![e]!]);
  return csvText(["wave", "id", "item", "value", "model", "generation"], rows);
}

