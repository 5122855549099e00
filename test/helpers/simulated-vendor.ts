/**
 * The simulated models served over the OpenAI wire format: a fake
 * OpenAI-compatible server that knows the study, maps each rendered prompt
 * (persona + question) back to its respondent, wave and item, and answers
 * with exactly what the simulated provider answers for that subject. A study
 * run against it with `openai:<name>` must give the files a run with
 * `simulated:<name>` gives.
 */
import type { LoadedStudy } from "../../src/config/load.ts";
import { renderQuestion } from "../../src/personas/render.ts";
import { createSimulatedProvider } from "../../src/providers/simulated.ts";
import { startFakeVendor, type FakeVendor } from "./fake-vendor.ts";

const ANSWER_SCHEMA = { name: "answer", schema: { type: "object", properties: { answer: { type: "number" } }, required: ["answer"] } };

export async function startSimulatedVendor(study: LoadedStudy, models: readonly string[]): Promise<FakeVendor> {
  const answers = new Map<string, string[]>();
  const questions: { wave: string; text: string; item: string }[] = [];
  const signal = new AbortController().signal;
  const generations = study.study.generations;
  for (const { wave, frame } of study.waves) {
    for (const item of study.survey.items) questions.push({ wave: wave.id, text: renderQuestion(item, wave.context, study.surveyFile), item: item.id });
    for (let r = 0; r < frame.size; r++) {
      const profile = frame.profile(r);
      const system = study.persona.render(profile, wave.context, frame.ids[r]!);
      for (const item of study.survey.items) {
        for (const model of models) {
          const result = await createSimulatedProvider(model).complete(
            {
              system,
              messages: [],
              maxTokens: study.study.max_tokens,
              temperature: study.study.temperature,
              seed: study.study.seed,
              n: generations,
              answerSchema: ANSWER_SCHEMA as never,
              subject: { respondent: profile, respondentId: frame.ids[r]!, item, wave: { id: wave.id, context: wave.context }, generation: 1 },
            },
            { signal },
          );
          answers.set(`${model}\u0000${system}\u0000${item.id}`, result.choices.map((c) => c.text));
        }
      }
    }
  }
  // Longest first: a question text that contains another must win.
  questions.sort((a, b) => b.text.length - a.text.length);
  return startFakeVendor({
    answer: (request, index) => {
      const text = (content: unknown) => (typeof content === "string" ? content : JSON.stringify(content));
      const system = text(request.body.messages.find((m) => m.role === "system")?.content ?? "");
      const user = text(request.body.messages.filter((m) => m.role === "user").at(-1)?.content ?? "");
      const question = questions.find((q) => user.includes(q.text));
      const choices = question === undefined ? undefined : answers.get(`${request.body.model}\u0000${system}\u0000${question.item}`);
      if (choices === undefined || request.body.seed !== study.study.seed || request.body.n !== generations) {
        throw new Error(`simulated vendor: no subject for this request (model ${request.body.model}, seed ${request.body.seed}, n ${request.body.n})`);
      }
      return choices[index]!;
    },
  });
}
