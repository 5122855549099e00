/**
 * The report's read of the store after `generate` in the same command: the
 * answers generate planned with are reused while the store's answers are
 * still those (its answers version has not moved), and read again once any
 * answer was written since.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadStudy } from "../../src/config/load.ts";
import { generate, type RunSummary } from "../../src/generation/run.ts";
import { storedAnswers } from "../../src/pipeline/stored-answers.ts";
import { Store } from "../../src/store/store.ts";
import { BASE_FILES, studyDir } from "../helpers/study-files.ts";

describe("stored answers after generate", () => {
  it("reuses what generate read while the answers are unchanged, and reads the store again once they changed", async () => {
    const dir = studyDir(BASE_FILES);
    const study = await loadStudy(join(dir, "study.yaml"));
    const resultsDir = join(dir, "results");
    const first = (await generate(study, { resultsDir })) as RunSummary;
    expect(first.prompts.stored).toBeUndefined(); // it asked: what it read for planning is not the store's any more
    const again = (await generate(study, { resultsDir })) as RunSummary;
    expect(again.prompts.stored).toBeDefined();
    const fresh = storedAnswers(study, resultsDir);
    expect(storedAnswers(study, resultsDir, again.prompts)).toEqual(fresh);

    // Planned rows that are not the store's show which read was used.
    const planned = { ...again.prompts, stored: { ...again.prompts.stored!, rows: [] } };
    expect(() => storedAnswers(study, resultsDir, planned)).toThrow(/has no answers to the study's current prompts/);
    const store = await Store.open(join(resultsDir, study.study.name), { study: study.study.name });
    store.writeAnswers([[...store.allAnswers()][0]!]);
    store.close();
    expect(storedAnswers(study, resultsDir, planned)).toEqual(fresh);
  });
});
