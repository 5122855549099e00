/**
 * TEST-ONLY crash hook. `SILICON_TEST_CRASH_AT=<point>:<n>` in the
 * environment kills the process with SIGKILL the n-th time it reaches the
 * named point, as a power cut or `kill -9` would, so the crash-safety tests
 * (test/reliability/crash-points.test.ts) can stop `silicon generate` at
 * exact, meaningful places and check that a rerun repairs everything.
 *
 * The variable is read once, on the first call. Without it every call is a
 * no-op costing one comparison. It is never set outside tests; users have
 * no reason to set it (docs/guarantees.md).
 */
import { InternalError } from "../errors.ts";

export const CRASH_POINTS = [
  // Opening the store: taking the writer lock, creating the schema, repairing a killed run.
  "lock-taken",
  "store-migrate",
  "store-recover",
  // The run row is written and the plan made; nothing sent yet.
  "run-started",
  // A call is recorded as sent; the request has not left.
  "before-send",
  // The response arrived; the transaction storing it has not begun.
  "after-response",
  // Inside that transaction: the call row updated, its answers not yet written.
  "in-commit",
  // The response and its answers are committed.
  "after-commit",
  // A transient failure is recorded; the backoff has not elapsed.
  "after-failure",
  // Inside the transaction that records a cell as nonresponse after the last try.
  "in-give-up",
  // An invalid answer is stored; its re-ask has not been sent.
  "between-reasks",
  // A stored response is reused; the answers it decides are not yet written.
  "cache-hit",
  // Every job is done; the run row is not yet marked finished.
  "before-finish",
  // Exports: both files staged as temporaries, none renamed yet.
  "export-staged",
  // Exports: after each rename of a staged file over its output.
  "output-rename",
  // Exports written; the store not yet closed.
  "after-export",
  // Batches: the batch and its calls recorded (intent), nothing sent to the vendor yet.
  "batch-intent",
  // Batches (OpenAI): the input file uploaded, the batch not yet created.
  "batch-uploaded",
  // Batches: the vendor created the batch; its id not yet stored.
  "batch-created",
  // Batches: the vendor's batch id stored.
  "batch-stored",
  // Batches: a poll's answer stored.
  "batch-polled",
  // Batches: after each result line read from the vendor and handed to its job.
  "batch-line",
  // Batches: every result stored, the batch closed as collected.
  "batch-closed",
] as const;

export type CrashPoint = (typeof CRASH_POINTS)[number];

const VARIABLE = "SILICON_TEST_CRASH_AT";

let target: { point: CrashPoint; n: number } | null | undefined;
const reached = new Map<CrashPoint, number>();

function readTarget(): { point: CrashPoint; n: number } | null {
  const value = process.env[VARIABLE];
  if (value === undefined || value === "") return null;
  const match = /^([a-z-]+):([1-9]\d*)$/.exec(value);
  if (match === null || !(CRASH_POINTS as readonly string[]).includes(match[1]!)) {
    throw new InternalError(`${VARIABLE}=${value}: expected <point>:<n> with point one of ${CRASH_POINTS.join(", ")} (a test-only hook)`);
  }
  return { point: match[1] as CrashPoint, n: Number(match[2]) };
}

/** Kills this process with SIGKILL if this is the n-th arrival at the point SILICON_TEST_CRASH_AT names. */
export function crashPoint(point: CrashPoint): void {
  if (target === undefined) target = readTarget();
  if (target === null || target.point !== point) return;
  const count = (reached.get(point) ?? 0) + 1;
  reached.set(point, count);
  if (count === target.n) process.kill(process.pid, "SIGKILL");
}
