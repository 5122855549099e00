/**
 * Every error silicon raises on purpose. The CLI's single top-level handler
 * (src/cli/main.ts) turns them into one line on stderr and an exit status:
 * bad input -> 2, everything else we anticipated -> 1, anything unexpected ->
 * an "internal error" line (the stack only with --debug).
 */

export class SiliconError extends Error {
  /** Process exit status the CLI uses for this error. */
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Where in an input a problem sits. Every field is optional but `file`. */
export interface InputLocation {
  /** Path of the offending file, as the user gave it. */
  file: string;
  /** 1-based data row (the header is not a row). */
  row?: number;
  /** 1-based physical line in a text file (for tables, when it differs from the row). */
  line?: number;
  /** Column name (tables) or dotted path (YAML, e.g. `items[2].type`). */
  field?: string;
}

/**
 * Formats a location as `file: row 5 (line 6), column "x"` for tables, or
 * `file: line 12, field "waves[1].role"` for YAML and templates (no row).
 */
export function formatLocation(loc: InputLocation): string {
  const parts: string[] = [];
  if (loc.row !== undefined) {
    parts.push(loc.line !== undefined && loc.line !== loc.row ? `row ${loc.row} (line ${loc.line})` : `row ${loc.row}`);
  } else if (loc.line !== undefined) {
    parts.push(`line ${loc.line}`);
  }
  if (loc.field !== undefined) {
    parts.push(loc.row !== undefined ? `column "${loc.field}"` : `field "${loc.field}"`);
  }
  return parts.length > 0 ? `${loc.file}: ${parts.join(", ")}` : loc.file;
}

/**
 * Bad user input: a file, row or field that is not what silicon expects.
 * The message is one line naming the location and what was expected.
 */
export class InputError extends SiliconError {
  override readonly exitCode: number = 2;
  readonly location: InputLocation;
  readonly problem: string;
  constructor(location: InputLocation, problem: string, options?: { cause?: unknown }) {
    super(`${formatLocation(location)}: ${problem}`, options);
    this.location = location;
    this.problem = problem;
  }
}

/** A bad command-line argument or option (not tied to a file). */
export class UsageError extends SiliconError {
  override readonly exitCode: number = 2;
}

/**
 * A statistically impossible request, e.g. too few historical tasks for the
 * requested α. Bad input, so exit 2, with the message saying what would work.
 */
export class InfeasibleError extends SiliconError {
  override readonly exitCode: number = 2;
}

/** The on-disk store is unusable: locked by another process, corrupt, too new. */
export class StoreError extends SiliconError {}

/** A spending cap would be exceeded. */
export class BudgetError extends SiliconError {}

/** The user stopped a long run (Ctrl-C, SIGTERM); what was done is kept. Exit 130, as shells expect. */
export class InterruptedError extends SiliconError {
  override readonly exitCode: number = 130;
}

/**
 * A failed call to an LLM vendor. `retryable` and `retryAfterMs` decide what
 * the generation engine does next; providers never retry on their own.
 */
export class ProviderError extends SiliconError {
  readonly provider: string;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  /**
   * What the vendor says it billed for this failed call, when the reply said
   * so (a 200 with `choices: []` but usage): counted like any response's.
   */
  readonly billedUsage: BilledUsage | undefined;
  constructor(
    provider: string,
    message: string,
    opts: { status?: number; retryable: boolean; retryAfterMs?: number; cause?: unknown; billedUsage?: BilledUsage },
  ) {
    super(`${provider}: ${message}`, { cause: opts.cause });
    this.provider = provider;
    this.status = opts.status;
    this.retryable = opts.retryable;
    this.retryAfterMs = opts.retryAfterMs;
    this.billedUsage = opts.billedUsage;
  }
}

/** Tokens a vendor billed (the shape of TokenUsage in src/providers/types.ts). */
export interface BilledUsage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  cacheWriteTokens: number;
}

/** 429: slow down, honour `retryAfterMs` when the vendor sent one. */
export class RateLimitError extends ProviderError {}
/** 529 / `overloaded_error`: the vendor is busy; back off. */
export class OverloadedError extends ProviderError {}
/** 5xx other than overload. */
export class ServerError extends ProviderError {}
/** The request exceeded its deadline. */
export class TimeoutError extends ProviderError {}
/** Connection reset, refused, DNS failure. */
export class ConnectionError extends ProviderError {}
/**
 * The connection was never made (refused, DNS, TLS handshake, a port fetch
 * will not use): the request never reached the server, so nothing was
 * billed. When every recent request to an endpoint fails so, the server is
 * down or the base URL is wrong, and the run stops (src/generation/breaker.ts).
 */
export class UnreachableError extends ConnectionError {
  /** What failed, in a few words: "connection refused (ECONNREFUSED)". */
  readonly reason: string;
  constructor(provider: string, message: string, opts: { reason: string; cause?: unknown }) {
    super(provider, message, { retryable: true, cause: opts.cause });
    this.reason = opts.reason;
  }
}
/** 401/403, or no key at all: never retried. */
export class AuthError extends ProviderError {}
/** 400/404/422: the request itself is wrong; never retried. */
export class BadRequestError extends ProviderError {}
/** A 2xx whose body is not what the wire format promises (malformed, truncated). */
export class MalformedResponseError extends ProviderError {}

/**
 * One request of a vendor batch came back without a result: errored, expired
 * or canceled, or its whole batch was lost. `retryable` says whether a
 * follow-up batch may succeed. It never stops a run: a request the vendor
 * rejects inside a batch is recorded as nonresponse with the vendor's reason.
 */
export class BatchItemError extends ProviderError {
  /** The vendor may have billed it and no one knows (its batch was lost): counted at its worst case. */
  readonly billingUnknown: boolean;
  constructor(
    provider: string,
    message: string,
    opts: { status?: number; retryable: boolean; retryAfterMs?: number; cause?: unknown; billingUnknown?: boolean; billedUsage?: BilledUsage },
  ) {
    super(provider, message, opts);
    this.billingUnknown = opts.billingUnknown === true;
  }
}

/**
 * A lookup that cannot tell yet: a batch that may be the one whose creation
 * reply was lost is still running, and only its results can say. Asked
 * again at the next poll; nothing is resubmitted meanwhile.
 */
export class UndecidedError extends ProviderError {}

/** A bug in silicon, not in the user's input. */
export class InternalError extends SiliconError {}
