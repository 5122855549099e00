/**
 * What the engine needs from a loaded study. `LoadedStudy` (src/config/load.ts)
 * satisfies this structurally; the engine asks for no more than it uses.
 */
import { performance } from "node:perf_hooks";
import type { Study, Survey, SurveyItem, Wave } from "../config/schema.ts";
import type { InputLocation } from "../errors.ts";
import type { Cell } from "../tables/types.ts";

export interface PersonaLike {
  file: string;
  render(profile: Record<string, Cell>, context: Record<string, unknown>, respondentId: string): string;
}

export interface FrameLike {
  source: string;
  size: number;
  ids: string[];
  profile(index: number): Record<string, Cell>;
}

export interface StudyLike {
  /** The study file, as the user gave it: errors name it. */
  file: string;
  dir: string;
  study: Study;
  survey: Survey;
  surveyFile: string;
  persona: PersonaLike;
  waves: { wave: Wave; frame: FrameLike }[];
  /** Where a field of the study file sits (line and field), e.g. `locate(["models", 1])`. */
  locate?(path: readonly (string | number)[]): InputLocation;
}

/** Where a field of the study file is, with its line when the loader knows it. */
export function locateField(study: StudyLike, path: readonly (string | number)[]): InputLocation {
  if (study.locate !== undefined) return study.locate(path);
  const field = path.map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? part : `.${part}`)).join("");
  return { file: study.file, field };
}

export type RenderQuestion = (item: SurveyItem, context: Record<string, unknown>, file: string) => string;

/** Time and randomness, injected so tests need no real waiting. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason if it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The real clock. `now` is fractional and monotonic (the process's start plus
 * performance.now()), and `sleep` lasts at least `ms` by that clock: a Node
 * timer can fire up to a millisecond early by it (timers run on the event
 * loop's cached, whole-millisecond time), and a retry sent even 0.3 ms
 * before a vendor's retry-after has elapsed is one sent too early.
 */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const until = performance.now() + ms;
      let timer: NodeJS.Timeout;
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason as Error);
      };
      const wait = (left: number) => {
        timer = setTimeout(() => {
          const still = until - performance.now();
          if (still > 0) return wait(still);
          signal?.removeEventListener("abort", onAbort);
          resolve();
        }, Math.ceil(left));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      wait(ms);
    }),
};
