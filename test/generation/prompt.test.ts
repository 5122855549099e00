import { describe, expect, it } from "vitest";
import { Survey } from "../../src/config/schema.ts";
import { answerSchema, buildItemPrompt, reaskMessage } from "../../src/generation/prompt.ts";
import { ITEMS } from "../helpers/study.ts";

const survey = Survey.parse({
  id: "s",
  instructions: "Answer as yourself.",
  items: [...ITEMS, { id: "hours", type: "numeric", text: "Hours of TV per day?", min: 0, max: 24, integer: true, unit: "hours" }],
});
const [approve, economy, therm, hours] = survey.items as [any, any, any, any];

describe("the user message", () => {
  it("lists the options with their codes and asks for JSON under structured output", () => {
    expect(buildItemPrompt(survey, economy, "The economy is getting better.", "structured").user).toBe(
      [
        "Answer as yourself.",
        "The economy is getting better.",
        "1 = Strongly agree\n2 = Agree\n3 = Neither agree nor disagree\n4 = Disagree\n5 = Strongly disagree",
        'Reply with JSON of the form {"answer": <code>}, giving the code of one option (1, 2, 3, 4, 5).',
      ].join("\n\n"),
    );
  });

  it("asks for the bare answer in free text, with the range for numbers", () => {
    const prompt = buildItemPrompt(survey, hours, "Hours of TV per day?", "free_text");
    expect(prompt.user).toBe("Answer as yourself.\n\nHours of TV per day?\n\nReply with a whole number from 0 to 24 (hours) only.");
    expect(prompt.schema).toBeUndefined();
  });

  it("uses the binary item's default Yes/No coding", () => {
    expect(buildItemPrompt(survey, approve, "Approve?", "free_text").user).toContain("1 = Yes\n0 = No");
  });
});

describe("answer schemas", () => {
  it("constrains choices to the option codes", () => {
    expect(answerSchema(economy)).toEqual({
      name: "answer_economy",
      schema: {
        type: "object",
        properties: {
          answer: {
            type: "integer",
            enum: [1, 2, 3, 4, 5],
            description: "1 = Strongly agree; 2 = Agree; 3 = Neither agree nor disagree; 4 = Disagree; 5 = Strongly disagree",
          },
        },
        required: ["answer"],
        additionalProperties: false,
      },
    });
  });

  it("asks for a number with its range in the description", () => {
    expect(answerSchema(therm).schema).toEqual({
      type: "object",
      properties: { answer: { type: "number", description: "from 0 to 100" } },
      required: ["answer"],
      additionalProperties: false,
    });
    expect((answerSchema(hours).schema as any).properties.answer).toEqual({ type: "integer", description: "from 0 to 24 hours" });
  });
});

it("re-asks with the reason and the instruction", () => {
  expect(reaskMessage(economy, "7 is not one of the codes 1, 2, 3, 4, 5", "free_text")).toBe(
    "That answer could not be used (7 is not one of the codes 1, 2, 3, 4, 5). Reply with the code of one option (1, 2, 3, 4, 5) only.",
  );
});
