import { toStrictJsonSchema } from "openai/lib/transform";
import { describe, expect, it } from "vitest";
import { chatParams, jsonSchemaFormat } from "../../src/providers/openai-chat.ts";
import type { AnswerSchema } from "../../src/providers/types.ts";
import { answerSchema } from "../../src/generation/prompt.ts";
import { makeStudy } from "../helpers/study.ts";

const features = { multipleChoices: true, structuredOutput: "json_schema", logprobs: true, officialEndpoint: false } as const;

/** A schema is made strict once and reused: what is sent must be what making it strict each time would send. */
describe("the strict json_schema of a request", () => {
  const items = makeStudy({ respondents: 1 }).survey.items;

  it("equals the SDK's strict schema of the answer schema, for every item type", () => {
    for (const item of items) {
      const schema = answerSchema(item);
      for (let i = 0; i < 2; i++) {
        expect(jsonSchemaFormat(schema)).toEqual({ name: schema.name, schema: toStrictJsonSchema(schema.schema), strict: true });
      }
    }
  });

  it("is found again by identity for a frozen schema (as prompt.ts makes them)", () => {
    const schema = answerSchema(items[0]!);
    expect(Object.isFrozen(schema.schema)).toBe(true);
    expect(jsonSchemaFormat(schema)).toBe(jsonSchemaFormat(schema));
  });

  it("is what chatParams sends", () => {
    const schema = answerSchema(items[0]!);
    const params = chatParams("m", { system: "s", messages: [{ role: "user", content: "q" }], maxTokens: 5, temperature: 1, n: 1, answerSchema: schema }, features);
    expect(params.response_format).toEqual({ type: "json_schema", json_schema: { name: schema.name, schema: toStrictJsonSchema(schema.schema), strict: true } });
  });

  it("follows a schema changed in place, and cannot be changed by a request", () => {
    const schema: AnswerSchema = { name: "answer", schema: { type: "object", properties: { answer: { type: "integer", enum: [1, 2] } }, required: ["answer"] } };
    const before = jsonSchemaFormat(schema);
    (schema.schema["properties"] as { answer: { enum: number[] } }).answer.enum.push(3);
    expect(jsonSchemaFormat(schema).schema).toEqual(toStrictJsonSchema(schema.schema));
    expect(jsonSchemaFormat(schema)).not.toEqual(before);
    expect(Object.isFrozen(before.schema)).toBe(true);
    expect(() => {
      (before.schema as { type: string }).type = "array";
    }).toThrow(TypeError);
  });
});
