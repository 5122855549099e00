import { describe, expect, it } from "vitest";
import { SurveyItem } from "../../src/config/schema.ts";
import { InputError } from "../../src/errors.ts";
import { questionFields, renderQuestion } from "../../src/personas/render.ts";

const item = SurveyItem.parse({
  id: "approve",
  type: "binary",
  text: "Do you approve of the way {{president}} is handling {{#if pronoun}}{{pronoun}}{{else}}the{{/if}} job?",
});

describe("renderQuestion", () => {
  it("fills wave context into the question text", () => {
    expect(questionFields(item, "s.yaml")).toEqual(["president", "pronoun"]);
    expect(renderQuestion(item, { president: "Joe Biden", pronoun: "his" }, "s.yaml")).toBe(
      "Do you approve of the way Joe Biden is handling his job?",
    );
  });

  it("refuses context the wave lacks, naming the survey file and item", () => {
    try {
      renderQuestion(item, { year: 2020 }, "surveys/s.yaml");
      throw new Error("expected an error");
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      expect((error as Error).message).toBe(
        'surveys/s.yaml: field "approve.text": the question uses {{president}}, which the wave context does not define (it has: year)',
      );
    }
  });

  it("prints context values literally even when they look like templates", () => {
    expect(renderQuestion(item, { president: "{{pronoun}}", pronoun: "{{president}}" }, "s.yaml")).toBe(
      "Do you approve of the way {{pronoun}} is handling {{president}} job?",
    );
  });

  it("refuses a list in the wave context that the text prints, naming the survey file and item", () => {
    try {
      renderQuestion(item, { president: ["Joe Biden", "Donald Trump"] }, "surveys/s.yaml");
      throw new Error("expected an error");
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      expect((error as Error).message).toBe(
        'surveys/s.yaml: field "approve.text": {{president}}: the wave context\'s "president" is a list ("Joe Biden", "Donald Trump"), which would print as "Joe Biden,Donald Trump": print its items with {{#each president}}{{this}}{{/each}}, or give a text',
      );
    }
  });
});
