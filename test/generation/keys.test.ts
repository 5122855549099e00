import { describe, expect, it } from "vitest";
import { cellKey, cellKeys, KEY_VERSION, requestKey, sha256, type AnswerParameters } from "../../src/generation/keys.ts";

/** Keys are stored: however they are computed, they must stay the digest of the same JSON. */
describe("request and cell keys", () => {
  const cell = { model: "openai:gpt-x", wave: "w\"1", respondent: "r\u00e9 1", item: "q\n2" };
  const parameters: AnswerParameters = { temperature: 0.7, maxTokens: 200, seed: 42, elicitation: "structured", schema: '{"type":"object"}', topLogprobs: 5 };

  it("a cell key is sha256 of its parts' JSON, object keys sorted", () => {
    for (const generation of [1, 2, 17]) {
      expect(cellKey(cell, generation, "digest", parameters)).toBe(sha256([KEY_VERSION, "cell", cell.model, cell.wave, cell.respondent, cell.item, generation, "digest", parameters]));
    }
  });

  it("a cell's keys, generation by generation, are its cell keys", () => {
    expect(cellKeys(cell, 17, "digest", parameters)).toEqual(Array.from({ length: 17 }, (_, i) => cellKey(cell, i + 1, "digest", parameters)));
  });

  it("a request key too, with and without follow-up messages, and the same for a parameters object seen before", () => {
    const followUp = [
      { role: "assistant" as const, content: '{"answer": 9}' },
      { role: "user" as const, content: "That is not one of the options." },
    ];
    for (const messages of [[], followUp]) {
      for (let i = 0; i < 2; i++) {
        expect(requestKey(cell, 3, 2, "digest", messages, parameters)).toBe(
          sha256([KEY_VERSION, "request", cell.model, cell.wave, cell.respondent, cell.item, 3, 2, "digest", messages, parameters]),
        );
      }
    }
    const { topLogprobs: _dropped, ...without } = parameters;
    expect(requestKey(cell, 1, 1, "d", [], without)).toBe(sha256([KEY_VERSION, "request", cell.model, cell.wave, cell.respondent, cell.item, 1, 1, "d", [], without]));
    expect(requestKey(cell, 1, 1, "d", [], without)).not.toBe(requestKey(cell, 1, 1, "d", [], parameters));
  });
});
