import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { cellKey, cellKeys, KEY_VERSION, promptDigest, requestKey, sha256, type AnswerParameters } from "../../src/generation/keys.ts";

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

  it("sha256 is the hex digest of the parts' UTF-8 JSON, as createHash computes it (stored keys stay valid)", () => {
    const parts = [KEY_VERSION, "prompt", "Du bist Befragte r\u00e9 \u{1F600}", { b: 1, a: [2, "x"] }];
    const text = JSON.stringify([KEY_VERSION, "prompt", "Du bist Befragte r\u00e9 \u{1F600}", { a: [2, "x"], b: 1 }]);
    expect(sha256(parts)).toBe(createHash("sha256").update(text, "utf8").digest("hex"));
  });

  it("a prompt digest is sha256 of its parts' JSON", () => {
    for (const [system, user] of [["You are r1.", "Q?"], ['quote " and \\ and \n', "\u00e9\u2028"], ["", ""]] as const) {
      expect(promptDigest(system, user)).toBe(sha256([KEY_VERSION, "prompt", system, user]));
    }
  });
});
