/**
 * The dead-server breaker (src/generation/breaker.ts): unit rules on a manual
 * clock, then real `silicon generate` processes against a closed loopback
 * port and a port fetch refuses, which must stop within seconds with one line
 * naming the endpoint and the reason, before any cell has used up its tries.
 */
import { createServer } from "node:net";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { ConnectionError, ServerError, UnreachableError } from "../../src/errors.ts";
import { EndpointHealth, MAX_VENDOR_FAILURE_SHARE, ServerDownError, vendorFailureVerdict } from "../../src/generation/breaker.ts";
import type { Provider } from "../../src/providers/types.ts";
import { runCli, writeStudy } from "../helpers/cli.ts";
import { ManualClock } from "../helpers/clock.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir("silicon-breaker-");

function provider(endpoint: string): Provider {
  return {
    vendor: "openai",
    model: "m",
    id: "openai:m",
    endpoint,
    capabilities: { multipleChoices: false, answerSchema: true, logprobs: false, promptCaching: false },
    complete: () => Promise.reject(new Error("not called")),
  };
}

const refused = () => new UnreachableError("openai:m", "cannot connect: connection refused (ECONNREFUSED)", { reason: "connection refused (ECONNREFUSED)" });

describe("EndpointHealth", () => {
  it("trips after 4 unreachable requests in a row spread over 2 s, naming the endpoint and the reason", () => {
    const clock = new ManualClock();
    const health = new EndpointHealth(clock);
    const p = provider("http://127.0.0.1:18555/v1");
    health.watch("openai:m", [p]);
    // Many at once are not yet persistence: a server restarting refuses a burst.
    for (let i = 0; i < 10; i++) expect(health.observe("openai:m", p, refused())).toBeUndefined();
    clock.time = 1_999;
    expect(health.observe("openai:m", p, refused())).toBeUndefined();
    clock.time = 2_000;
    const down = health.observe("openai:m", p, refused());
    expect(down).toBeInstanceOf(ServerDownError);
    expect(down!.exitCode).toBe(1);
    expect(down!.message).toBe(
      "cannot reach http://127.0.0.1:18555/v1 (connection refused (ECONNREFUSED), 12 requests in a row over 2.0 s) for openai:m: no request connected, so the run stops; " +
        "check that the server is running, and OPENAI_BASE_URL; what was stored is kept, rerun to resume",
    );
  });

  it("any reply from the server closes it again, and so does a failure after connecting (the server is there)", () => {
    const clock = new ManualClock();
    const health = new EndpointHealth(clock);
    const p = provider("http://gpu1:8000/v1");
    health.watch("openai:m", [p]);
    for (const reply of [undefined, new ServerError("openai:m", "HTTP 500", { status: 500, retryable: true }), new ConnectionError("openai:m", "connection lost: ECONNRESET", { retryable: true })]) {
      for (let i = 0; i < 3; i++) {
        expect(health.observe("openai:m", p, refused())).toBeUndefined();
        clock.time += 1_000;
      }
      expect(health.observe("openai:m", p, reply)).toBeUndefined();
    }
    // Three more in a row is still not four.
    for (let i = 0; i < 3; i++) expect(health.observe("openai:m", p, refused())).toBeUndefined();
  });

  it("a fleet stops only when every endpoint is down", () => {
    const clock = new ManualClock();
    const health = new EndpointHealth(clock);
    const [a, b] = [provider("http://gpu1:8000/v1"), provider("http://gpu2:8000/v1")];
    health.watch("openai:m", [a, b]);
    for (let i = 0; i < 5; i++) {
      expect(health.observe("openai:m", a, refused())).toBeUndefined();
      clock.time += 1_000;
    }
    expect(health.observe("openai:m", b)).toBeUndefined();
    for (let i = 0; i < 4; i++) {
      clock.time += 1_000;
      const down = health.observe("openai:m", b, refused());
      if (i < 3) expect(down).toBeUndefined();
      else expect(down?.message).toMatch(/^cannot reach http:\/\/gpu1:8000\/v1 \(connection refused \(ECONNREFUSED\), 5 requests in a row over 9\.0 s\); http:\/\/gpu2:8000\/v1 .* check the servers of the study.s endpoints;/);
    }
  });
});

describe("the vendor-failure rule", () => {
  it("notes any cell lost to vendor failures, and fails a run that lost more than 5% of the cells it settled", () => {
    expect(MAX_VENDOR_FAILURE_SHARE).toBe(0.05);
    expect(vendorFailureVerdict(0, 100)).toBeUndefined();
    expect(vendorFailureVerdict(5, 100)).toEqual({ note: "5 cell(s) (5.0%) nonresponse after vendor failures: a rerun asks them again", tooMany: false });
    expect(vendorFailureVerdict(6, 100)).toEqual({ note: "6 cell(s) (6.0%) nonresponse after vendor failures: a rerun asks them again", tooMany: true });
    expect(vendorFailureVerdict(30, 100)?.note).toMatch(/\(30%\)/);
  });
});

/** A loopback port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("a dead server stops `silicon generate`", () => {
  it.each([
    ["a closed loopback port", async () => `http://127.0.0.1:${await closedPort()}/v1`, /connection refused \(ECONNREFUSED\)/],
    // 6000 (X11) is on fetch's list of ports it never connects to.
    ["a port fetch refuses", async () => "http://127.0.0.1:6000/v1", /a port fetch refuses to use \(bad port\)/],
  ])("%s: one line naming the endpoint and the reason, exit 1, before any cell used its tries", async (_name, url, reason) => {
    const baseURL = await url();
    const dir = tempDir();
    // 60 respondents × 3 items × 2 generations: with 6 tries and backoff each, a run that did not stop would take minutes.
    const study = writeStudy(dir, { respondents: 60 });
    const started = performance.now();
    const { code, stdout, stderr } = await runCli(["generate", study], { cwd: dir, env: { OPENAI_BASE_URL: baseURL } });
    const seconds = (performance.now() - started) / 1000;
    console.log(`dead server (${baseURL}): stopped after ${seconds.toFixed(1)} s`);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    const lines = stderr.trimEnd().split("\n").filter((line) => !line.startsWith("silicon: note:"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^silicon: cannot reach ${baseURL.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} \\(`));
    expect(lines[0]).toMatch(reason);
    // Stopped by the breaker, not by the retries running out: no cell was given up as nonresponse.
    const db = new DatabaseSync(join(dir, "results/cli-study/store.sqlite"), { readOnly: true });
    const answers = (db.prepare("SELECT count(*) AS n FROM answers").get() as { n: number }).n;
    const calls = db.prepare("SELECT status, error_class, cost_usd, max(try) AS tries, count(*) AS n FROM calls GROUP BY status, error_class").all();
    const run = db.prepare("SELECT status, message FROM runs").get() as { status: string; message: string };
    db.close();
    expect(answers).toBe(0);
    // Never connected: nothing billed, every try recorded as UnreachableError at cost 0.
    expect(calls).toEqual([expect.objectContaining({ status: "failed", error_class: "UnreachableError", cost_usd: 0 })]);
    expect((calls[0] as { tries: number }).tries).toBeLessThan(6);
    expect(run.status).toBe("failed");
    expect(run.message).toMatch(/^cannot reach /);
  });
});
