import { describe, expect, it } from "vitest";
import { SurveyItem } from "../../src/config/schema.ts";
import { parseAnswer } from "../../src/generation/parse.ts";
import { ITEMS } from "../helpers/study.ts";

// The five-point Likert item of the engine tests' study.
const likert = SurveyItem.parse(ITEMS[1]);
const binary = SurveyItem.parse({ id: "approve", type: "binary", text: "Approve?" });
const choice = SurveyItem.parse({
  id: "vote",
  type: "single_choice",
  text: "Who?",
  options: [
    { code: 10, label: "Democratic candidate" },
    { code: 20, label: "Republican candidate" },
    { code: 30, label: "Someone else" },
  ],
});
const thermometer = SurveyItem.parse({ id: "therm", type: "thermometer", text: "Warmth?" });
const age = SurveyItem.parse({ id: "hours", type: "numeric", text: "Hours?", min: 0, max: 24, integer: true, unit: "hours" });
const share = SurveyItem.parse({ id: "share", type: "numeric", text: "Share?", min: -1, max: 1 });

const parse = (item: typeof likert, text: string, extra: { refusal?: string; finishReason?: string } = {}) =>
  parseAnswer(item, { text, finishReason: extra.finishReason ?? "stop", ...(extra.refusal === undefined ? {} : { refusal: extra.refusal }) });

describe("choice items", () => {
  it.each([
    ['{"answer": 4}', 4],
    ['{"answer":"4"}', 4],
    ['{"answer": "Disagree"}', 4],
    ["4", 4],
    ["  2  ", 2],
    ["Strongly agree", 1],
    ["strongly DISAGREE.", 5],
    ['"Agree"', 2],
    ["3 = Neither agree nor disagree", 3],
    ["(5) Strongly disagree", 5],
    ["2. Agree", 2],
    ["I'd pick 4 here.", 4],
    ["```json\n{\"answer\": 1}\n```", 1],
    ['{"choice": 5}', 5],
  ])("reads %j as %d", (text, value) => {
    expect(parse(likert, text)).toEqual({ status: "answered", value });
  });

  it.each([
    ['{"answer": 7}', "7 is not one of the codes 1, 2, 3, 4, 5"],
    ["6", "6 is not one of the codes 1, 2, 3, 4, 5"],
    ["2.5", "2.5 is not one of the codes 1, 2, 3, 4, 5"],
    ["Somewhat agree", 'no option code in the answer "Somewhat agree"'],
    ["Between 2 and 3", 'ambiguous answer with several numbers: "Between 2 and 3"'],
    ["2 = Disagree", 'code 2 does not match the label "Disagree" (code 4)'],
    ['{"answer": null}', "expected a number as the answer, got null"],
    ['{"a": 1, "b": 2}', 'JSON without an "answer" field (fields: a, b)'],
    ["", "empty answer"],
  ])("rejects %j: %s", (text, reason) => {
    expect(parse(likert, text)).toEqual({ status: "invalid", reason });
  });

  it("reads binary labels and codes", () => {
    expect(parse(binary, "Yes")).toEqual({ status: "answered", value: 1 });
    expect(parse(binary, '{"answer": 0}')).toEqual({ status: "answered", value: 0 });
    expect(parse(binary, "no")).toEqual({ status: "answered", value: 0 });
    expect(parse(binary, "2")).toEqual({ status: "invalid", reason: "2 is not one of the codes 1, 0" });
  });

  it("uses the item's own codes, not positions", () => {
    expect(parse(choice, "20")).toEqual({ status: "answered", value: 20 });
    expect(parse(choice, "Someone else")).toEqual({ status: "answered", value: 30 });
    expect(parse(choice, "2")).toEqual({ status: "invalid", reason: "2 is not one of the codes 10, 20, 30" });
  });
});

describe("thermometer and numeric items", () => {
  it.each([
    [thermometer, '{"answer": 72.5}', 72.5],
    [thermometer, "0", 0],
    [thermometer, "100", 100],
    [thermometer, "About 65 degrees.", 65],
    [age, '{"answer": 8}', 8],
    [age, "8 hours", 8],
    [share, "-0.25", -0.25],
  ])("reads %#", (item, text, value) => {
    expect(parse(item as typeof likert, text)).toEqual({ status: "answered", value });
  });

  it.each([
    [thermometer, "101", "101 is outside 0 to 100"],
    [thermometer, '{"answer": -3}', "-3 is outside 0 to 100"],
    [age, "7.5", "7.5 is not a whole number"],
    [age, "25", "25 is outside 0 to 24"],
    [thermometer, "warm", 'no number in the answer "warm"'],
  ])("rejects %#", (item, text, reason) => {
    expect(parse(item as typeof likert, text)).toEqual({ status: "invalid", reason });
  });
});

describe("refusals", () => {
  it("records the vendor's refusal field", () => {
    expect(parse(likert, "", { refusal: "I'm sorry, I can't help with that." })).toEqual({
      status: "refusal",
      reason: "refused: I'm sorry, I can't help with that.",
    });
  });

  it("records a content-filter stop as a refusal", () => {
    expect(parse(likert, "", { finishReason: "content_filter" }).status).toBe("refusal");
  });

  it.each([
    "As an AI language model, I don't have personal opinions.",
    "I cannot answer questions about politics.",
    "I'm not able to share a political opinion.",
    "I would rather not answer that.",
    "I prefer not to say.",
    '{"answer": "I can\'t answer that"}',
  ])("recognizes %j", (text) => {
    expect(parse(likert, text).status).toBe("refusal");
  });

  it("does not mistake an answer or a hesitation for a refusal", () => {
    expect(parse(likert, "I can't decide between 2 and 3")).toEqual({
      status: "invalid",
      reason: 'ambiguous answer with several numbers: "I can\'t decide between 2 and 3"',
    });
    expect(parse(likert, "As an AI I'd still say 2")).toEqual({ status: "answered", value: 2 });
  });
});

describe("truncation", () => {
  it("says when an unusable answer was cut off at max_tokens", () => {
    expect(parse(likert, '{"answer": ', { finishReason: "length" })).toEqual({
      status: "invalid",
      reason: 'no option code in the answer "{"answer":"; the answer was cut off at max_tokens',
    });
    expect(parse(likert, "", { finishReason: "length" })).toEqual({ status: "invalid", reason: "empty answer (stopped at max_tokens)" });
  });
});
