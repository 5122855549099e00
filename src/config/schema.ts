/**
 * Schemas of the user's input files. The schema is the type: every other
 * module imports the `z.infer` types from here and trusts them.
 * YAML keys are snake_case, as social scientists write them by hand.
 */
import { z } from "zod";
import { Calibration, Estimands } from "./analysis-schema.ts";

const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, "expected letters, digits, _ . - (starting with a letter or _)");

/** YAML reads `2020` and `2024-09` alike as written; a bare year arrives as a number. */
const numberAsText = (value: unknown) => (typeof value === "number" ? String(value) : value);

/** Wave ids may start with a digit: ANES waves are called 2016 and 2020. */
const waveId = z.preprocess(
  numberAsText,
  z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, "expected letters, digits, _ . - (e.g. 2020 or w2)"),
);

export const AnswerOption = z.strictObject({
  code: z.number(),
  label: z.string().min(1),
});
export type AnswerOption = z.infer<typeof AnswerOption>;

/** Codes and labels must each be unique within an item: answers are matched by either. */
function uniqueOptions(options: readonly AnswerOption[], ctx: z.RefinementCtx): void {
  const codes = new Map<number, number>();
  const labels = new Map<string, number>();
  options.forEach((option, i) => {
    const sameCode = codes.get(option.code);
    if (sameCode !== undefined) {
      ctx.addIssue({ code: "custom", path: [i, "code"], message: `code ${option.code} is used twice (also option ${sameCode + 1})` });
    }
    const label = option.label.trim().toLowerCase();
    const sameLabel = labels.get(label);
    if (sameLabel !== undefined) {
      ctx.addIssue({ code: "custom", path: [i, "label"], message: `label "${option.label}" is used twice (also option ${sameLabel + 1})` });
    }
    codes.set(option.code, i);
    labels.set(label, i);
  });
}

/** Entries of `values` (by `keyOf`) must be unique; a repeat is reported at its own index. */
function uniqueBy<T>(values: readonly T[], ctx: z.RefinementCtx, keyOf: (value: T) => string, field: string | undefined, what: string): void {
  const seen = new Map<string, number>();
  values.forEach((value, i) => {
    const key = keyOf(value);
    const first = seen.get(key);
    if (first !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: field === undefined ? [i] : [i, field],
        message: `${what} "${key}" appears twice (also entry ${first + 1})`,
      });
    } else {
      seen.set(key, i);
    }
  });
}

const itemBase = {
  id: identifier,
  /** Question text; may use wave context, e.g. `{{president}}`. */
  text: z.string().min(1),
  /** Frame column holding the real answer (defaults to the item id). */
  column: z.string().min(1).optional(),
  /** Codes in the frame that mean no answer (e.g. ANES -9 "Refused", 998 "Don't know"); read as missing. */
  missing: z.array(z.number()).optional(),
};

export const BinaryItem = z.strictObject({
  ...itemBase,
  type: z.literal("binary"),
  /** The option coded 1 is the "yes" the proportion counts. */
  options: z
    .tuple([AnswerOption, AnswerOption])
    .default([
      { code: 1, label: "Yes" },
      { code: 0, label: "No" },
    ])
    .refine((o) => o.some((x) => x.code === 1) && o.some((x) => x.code === 0), "binary options must be coded 1 and 0")
    .superRefine(uniqueOptions),
});

export const SingleChoiceItem = z.strictObject({
  ...itemBase,
  type: z.literal("single_choice"),
  ordered: z.boolean().default(false),
  options: z.array(AnswerOption).min(2).superRefine(uniqueOptions),
});

export const LikertItem = z.strictObject({
  ...itemBase,
  type: z.literal("likert"),
  options: z.array(AnswerOption).min(3).superRefine(uniqueOptions),
});

export const ThermometerItem = z.strictObject({
  ...itemBase,
  type: z.literal("thermometer"),
  min: z.literal(0).default(0),
  max: z.literal(100).default(100),
});

export const NumericItem = z
  .strictObject({
    ...itemBase,
    type: z.literal("numeric"),
    min: z.number(),
    max: z.number(),
    integer: z.boolean().default(false),
    unit: z.string().optional(),
  })
  .refine((item) => item.min < item.max, { message: "min must be below max", path: ["max"] });

export const SurveyItem = z.discriminatedUnion("type", [
  BinaryItem,
  SingleChoiceItem,
  LikertItem,
  ThermometerItem,
  NumericItem,
]);
export type SurveyItem = z.infer<typeof SurveyItem>;
export type ItemType = SurveyItem["type"];

export const Survey = z.strictObject({
  id: identifier,
  title: z.string().optional(),
  /** Shown before every item, e.g. "Answer as yourself; there are no right answers." */
  instructions: z.string().optional(),
  items: z
    .array(SurveyItem)
    .min(1)
    .superRefine((items, ctx) => uniqueBy(items, ctx, (item) => item.id, "id", "item id")),
});
export type Survey = z.infer<typeof Survey>;

/** `vendor:model`, e.g. `openai:gpt-4o-mini`, `anthropic:claude-sonnet-4-5`, `simulated:biased`. */
export const ModelId = z
  .string()
  .regex(/^(anthropic|openai|simulated):\S+$/, "expected vendor:model with vendor anthropic, openai or simulated");

/**
 * Where a wave's respondents are: a file of its own (`frame: w1.csv`), or its
 * rows of a long panel file that holds several waves (`frame: {file,
 * wave_column}`): the rows whose `wave_column` holds `wave_value` (default:
 * the wave's id).
 */
export const FrameSource = z.union([
  z
    .string()
    .min(1)
    .transform((file) => ({ file, wave_column: undefined as string | undefined, wave_value: undefined as string | undefined })),
  z
    .strictObject({
      /** CSV, Parquet or SPSS .sav/.zsav, relative to the study file. */
      file: z.string().min(1),
      /** The column saying which wave a row belongs to. */
      wave_column: z.string().min(1).optional(),
      /** This wave's value in that column (or its SPSS value label), when it is not the wave id. */
      wave_value: z.preprocess(numberAsText, z.string().min(1)).optional(),
    })
    .refine((frame) => frame.wave_value === undefined || frame.wave_column !== undefined, {
      message: "wave_value needs wave_column (the column it is looked up in)",
      path: ["wave_value"],
    }),
]);
export type FrameSource = z.infer<typeof FrameSource>;

export const Wave = z.strictObject({
  id: waveId,
  /**
   * Respondent frame: CSV, Parquet or SPSS .sav/.zsav, relative to the study
   * file; or `{file, wave_column}` to take this wave's rows of a panel file.
   */
  frame: FrameSource,
  /** `historical` waves hold real answers; the `target` wave is forecast. */
  role: z.enum(["historical", "target"]),
  /** Values templates may use, e.g. `president: Joe Biden`. */
  context: z.record(z.string(), z.unknown()).default({}),
  /** Field date (ISO: 2024, 2024-09 or 2024-09-30); orders waves for the chronological protocol. */
  date: z
    .preprocess(
      numberAsText,
      z.string().regex(/^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/, "expected an ISO date such as 2024-09-30"),
    )
    .optional(),
});
export type Wave = z.infer<typeof Wave>;


export const Price = z.strictObject({
  /** USD per million input tokens. */
  input: z.number().nonnegative(),
  /** USD per million output tokens. */
  output: z.number().nonnegative(),
  /** USD per million cached input tokens (defaults to the vendor's usual discount). */
  cached_input: z.number().nonnegative().optional(),
  /** USD per million tokens written to the cache (Anthropic). */
  cache_write: z.number().nonnegative().optional(),
  /** Fraction of the price charged for batch requests (vendors charge 0.5). */
  batch_factor: z.number().positive().max(1).optional(),
});
export type Price = z.infer<typeof Price>;

export const RateLimits = z.strictObject({
  requests_per_minute: z.number().positive().optional(),
  tokens_per_minute: z.number().positive().optional(),
});

/**
 * One endpoint of a model served from several places (a fleet): a server
 * (`base_url`), an account (`api_key_env`), or both, with its own rate
 * limits. A bare string is a base URL.
 */
export const Endpoint = z.preprocess(
  (value) => (typeof value === "string" ? { base_url: value } : value),
  z.strictObject({
    /** Default: the vendor's (or ANTHROPIC_BASE_URL / OPENAI_BASE_URL). */
    base_url: z.url({ protocol: /^https?$/, error: "expected an http(s) URL, e.g. http://gpu1:8000/v1" }).optional(),
    /** The variable holding this endpoint's key; its name must end in API_KEY, so silicon redacts its value everywhere. */
    api_key_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*API_KEY$/, "expected the name of an environment variable ending in API_KEY, e.g. OPENAI_TEAM2_API_KEY")
      .optional(),
    requests_per_minute: z.number().positive().optional(),
    tokens_per_minute: z.number().positive().optional(),
  }),
);
export type Endpoint = z.infer<typeof Endpoint>;

export const Study = z.strictObject({
  /** Names the results folder, results/<name>/. */
  name: identifier,
  description: z.string().optional(),
  /** Survey definition, relative to the study file. */
  survey: z.string().min(1),
  /** Persona template (.hbs), relative to the study file. */
  persona: z.string().min(1),
  respondent: z
    .strictObject({
      id: z.string().min(1).default("id"),
      weight: z.string().min(1).default("weight"),
    })
    .default({ id: "id", weight: "weight" }),
  waves: z
    .array(Wave)
    .min(1)
    .superRefine((waves, ctx) => uniqueBy(waves, ctx, (wave) => wave.id, "id", "wave id")),
  models: z
    .array(ModelId)
    .min(1)
    .superRefine((models, ctx) => uniqueBy(models, ctx, (model) => model, undefined, "model")),
  /** Answers per respondent and item (k); they cluster by respondent. */
  generations: z.number().int().positive().max(1000).default(1),
  temperature: z.number().min(0).max(2).default(1),
  max_tokens: z.number().int().positive().max(1_000_000).default(200),
  seed: z.number().int().default(0),
  /** How answers are asked for: constrained JSON, free text, first-token log-probabilities, or all items in one conversation. */
  elicitation: z.enum(["structured", "free_text", "logprobs", "questionnaire"]).default("structured"),
  /** Invalid answers are re-asked up to this many attempts in all, then recorded as nonresponse. */
  max_attempts: z.number().int().positive().default(3),
  concurrency: z.number().int().positive().max(10_000).default(8),
  rate_limits: RateLimits.default({}),
  /**
   * Models served from several endpoints (a fleet of vLLM or Ollama servers,
   * several vendor accounts), keyed by `vendor:model`: calls spread over them
   * by their rate limits, and a failing one is taken out and probed later.
   */
  endpoints: z.record(ModelId, z.array(Endpoint).min(1)).default({}),
  budget: z.strictObject({ max_cost_usd: z.number().positive().optional() }).default({}),
  /** Per-model price overrides, keyed by `vendor:model`. */
  prices: z.record(z.string(), Price).default({}),
  /** What to estimate per task: items, subgroups, derived columns, vector targets (src/config/analysis-schema.ts). */
  estimands: Estimands.prefault({}),
  /** How the target wave is calibrated against the historical ones, and evaluated. */
  calibration: Calibration.prefault({}),
});
export type Study = z.infer<typeof Study>;
