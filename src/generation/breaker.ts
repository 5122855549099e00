/**
 * Vendor failures that a run must not sit through, and the rule for the ones
 * it may.
 *
 * A dead server: a circuit breaker per endpoint counts requests that never
 * connected (refused, DNS, TLS, a port fetch will not use: UnreachableError).
 * When every request to an endpoint has failed so, `minFailures` in a row over
 * at least `minSpanMs` (a server restarting is not dead), the endpoint is
 * down; when every endpoint of a model is down, the run stops with one line
 * naming the endpoint and the reason (exit 1), seconds after it started
 * rather than after every cell has used its six tries. Any reply from the
 * server, even an error, closes the breaker again.
 *
 * Everything else the vendor does wrong is retried, and a cell that runs out
 * of tries is recorded as nonresponse ("vendor failure: …"). A run where that
 * happened says so in its summary, and fails (exit 1) when more than
 * `MAX_VENDOR_FAILURE_SHARE` of the cells it settled ended so: the estimates
 * would rest on whichever respondents the vendor happened to answer.
 */
import { SiliconError, UnreachableError } from "../errors.ts";
import type { Provider } from "../providers/types.ts";
import { redactUrlCredentials } from "../util/secrets.ts";
import type { Clock } from "./types.ts";

export interface DeadServerOptions {
  /** Requests in a row that never connected, with none getting through. */
  minFailures: number;
  /** …spread over at least this long. */
  minSpanMs: number;
}

/** Four refused requests over two seconds: the retries of the first cells (0.5 s, 1 s, 2 s) cross it in about 3.5 s. */
export const DEFAULT_DEAD_SERVER: DeadServerOptions = { minFailures: 4, minSpanMs: 2_000 };

/** A model whose every endpoint is unreachable: the run stops. */
export class ServerDownError extends SiliconError {
  readonly endpoint: string;
  constructor(endpoint: string, message: string) {
    super(message);
    this.endpoint = endpoint;
  }
}

interface EndpointState {
  failures: number;
  firstFailureAt: number;
  down: boolean;
  lastError: UnreachableError | undefined;
}

/** Where a provider's requests go, for messages: its base URL, credentials never shown. */
export function endpointOf(provider: Provider): string {
  return redactUrlCredentials(provider.endpoint ?? provider.id);
}

export class EndpointHealth {
  private readonly clock: Clock;
  private readonly options: DeadServerOptions;
  private readonly states = new Map<Provider, EndpointState>();
  private readonly endpointsOf = new Map<string, Provider[]>();

  constructor(clock: Clock, options: DeadServerOptions = DEFAULT_DEAD_SERVER) {
    this.clock = clock;
    this.options = options;
  }

  /** The endpoints that serve `model` (one, or a fleet's): the run stops when all of them are down. */
  watch(model: string, providers: readonly Provider[]): void {
    this.endpointsOf.set(model, [...providers]);
    for (const provider of providers) {
      if (!this.states.has(provider)) this.states.set(provider, { failures: 0, firstFailureAt: 0, down: false, lastError: undefined });
    }
  }

  /**
   * A request of `model` to `provider` ended, with `error` or without. Returns
   * the error to stop the run with, once every endpoint of the model is down.
   */
  observe(model: string, provider: Provider, error?: unknown): ServerDownError | undefined {
    const state = this.states.get(provider);
    if (state === undefined) return undefined;
    if (!(error instanceof UnreachableError)) {
      // The server answered (a success, a 429, a 500, a garbled body): it is there.
      state.failures = 0;
      state.down = false;
      return undefined;
    }
    const now = this.clock.now();
    if (state.failures === 0) state.firstFailureAt = now;
    state.failures += 1;
    state.lastError = error;
    if (state.failures >= this.options.minFailures && now - state.firstFailureAt >= this.options.minSpanMs) state.down = true;
    const endpoints = this.endpointsOf.get(model) ?? [provider];
    if (!endpoints.every((p) => this.states.get(p)?.down === true)) return undefined;
    return this.downError(model, endpoints);
  }

  private downError(model: string, endpoints: Provider[]): ServerDownError {
    const described = endpoints.map((p) => {
      const s = this.states.get(p)!;
      const seconds = ((this.clock.now() - s.firstFailureAt) / 1000).toFixed(1);
      return `${endpointOf(p)} (${s.lastError!.reason}, ${s.failures} requests in a row over ${seconds} s)`;
    });
    const first = endpoints[0]!;
    const variable = first.vendor === "anthropic" ? "ANTHROPIC_BASE_URL" : "OPENAI_BASE_URL";
    const check = endpoints.length > 1 ? "the servers of the study's endpoints" : `that the server is running, and ${variable}`;
    return new ServerDownError(
      endpointOf(first),
      `cannot reach ${described.join("; ")} for ${model}: no request connected, so the run stops; check ${check}; what was stored is kept, rerun to resume`,
    );
  }
}

/** More than this share of a run's settled cells ending as nonresponse after vendor failures fails the run. */
export const MAX_VENDOR_FAILURE_SHARE = 0.05;

/** The summary's note on cells the vendor failed, and whether they are too many; undefined when none. */
export function vendorFailureVerdict(vendorFailures: number, settled: number): { note: string; tooMany: boolean } | undefined {
  if (vendorFailures === 0) return undefined;
  const share = settled > 0 ? vendorFailures / settled : 1;
  const percent = `${(100 * share).toFixed(share < 0.1 ? 1 : 0)}%`;
  return {
    note: `${vendorFailures} cell(s) (${percent}) nonresponse after vendor failures: a rerun asks them again`,
    tooMany: share > MAX_VENDOR_FAILURE_SHARE,
  };
}
