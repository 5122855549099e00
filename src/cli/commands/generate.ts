import type { Command } from "commander";

export function register(program: Command): void {
  program
    .command("generate")
    .description("ask the study's models every survey item for every respondent, storing every call (resumable)")
    .argument("<study.yaml>", "the study file")
    .option("--model <vendor:model>", "generate for this one model only: one of the study's models, or any other vendor:model (with a note)")
    .option("--dry-run", "print the calls, estimated tokens and cost, and whether calibration at α is feasible (exit 2 when not); send nothing and write nothing")
    .option("--allow-infeasible", "with --dry-run: exit 0 even when calibration at α is infeasible (the table still says so)")
    .option("--max-cost <usd>", "hard cap on what this run spends, in US dollars (never exceeded)")
    .option("--concurrency <n>", "requests in flight at most (default: the study's concurrency)")
    .option("--results <dir>", "folder for results/<study>/", "results")
    .option("--wait [seconds]", "if another silicon process is writing this study's store, wait for it (default: refuse)")
    .option("--timeout <seconds>", "per-request timeout", "60")
    .option("--quiet", "no progress output; only errors and the summary line")
    .option("--batch", "send through the vendors' batch APIs at batch prices (OpenAI Batch API, Anthropic Message Batches); results within 24 h")
    .option("--no-wait", "with --batch: submit and exit; a later silicon generate --batch collects the results")
    .option("--poll-interval <seconds>", "with --batch: first pause between status checks, growing to 5 minutes", "30")
    .addHelpText(
      "after",
      `
Every call is stored in results/<study>/store.sqlite; a request whose response
is stored is never sent again, so rerunning after a crash, a kill or Ctrl-C
resumes where the run stopped. Answers are exported to
results/<study>/responses.csv and responses.parquet after every run.
Ctrl-C once stops sending and finishes the requests in flight; twice abandons them.

With --batch, requests go to the vendors' batch APIs at half price. Batch ids
are kept in the store: with --no-wait (or after Ctrl-C) the batches keep
running at the vendor, and the next silicon generate --batch polls them and
stores their results exactly like synchronous answers; expired or failed
requests and re-asks of invalid answers go into follow-up batches.

Examples:
  silicon generate surveys/example-study.yaml --dry-run
  silicon generate surveys/example-study.yaml --model simulated:biased
  silicon generate study.yaml --model openai:gpt-4o-mini --max-cost 5
  OPENAI_BASE_URL=http://localhost:8000/v1 silicon generate study.yaml --model openai:llama-3.1-8b
  silicon generate study.yaml --model anthropic:claude-haiku-5-5 --batch --no-wait
  silicon generate study.yaml --model anthropic:claude-haiku-5-5 --batch     # later: collect

See docs/generation.md and docs/scale.md (batches, logprobs, questionnaires, caching, fleets).`,
    )
    .action(async (studyFile: string, options: Record<string, unknown>) => {
      const { runGenerateCommand } = await import("../generate.ts");
      await runGenerateCommand(studyFile, options);
    });
}
