/**
 * Fleets: one model served by several endpoints. Unit tests of the scheduler
 * (virtual clock, fake providers), then the whole run against two fake
 * vendors on loopback, one of them failing.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ConnectionError, InputError, RateLimitError, ServerError } from "../../src/errors.ts";
import { Fleet } from "../../src/generation/fleet.ts";
import { generate, type RunSummary } from "../../src/generation/run.ts";
import { Study } from "../../src/config/schema.ts";
import { ManualClock } from "../helpers/clock.ts";
import { fakeDeps, FakeProvider, TEST_PRICE } from "../helpers/fake-provider.ts";
import { startFakeVendor, type FakeVendor } from "../helpers/fake-vendor.ts";
import { makeStudy } from "../helpers/study.ts";
import { useTempDir } from "../helpers/tmp.ts";

const tempDir = useTempDir();
const signal = new AbortController().signal;

function fleet(clock: ManualClock, limits: [number | undefined, number | undefined] = [undefined, undefined]) {
  return new Fleet(
    [
      { name: "a", provider: new FakeProvider({ id: "openai:m" }), limits: { requestsPerMinute: limits[0] } },
      { name: "b", provider: new FakeProvider({ id: "openai:m" }), limits: { requestsPerMinute: limits[1] } },
    ],
    clock,
    { failureThreshold: 3, cooldownMs: 10_000, maxCooldownMs: 40_000 },
  );
}

describe("the fleet scheduler", () => {
  it("spreads requests in proportion to the endpoints' rate limits", async () => {
    const clock = new ManualClock();
    const f = fleet(clock, [600, 300]);
    const picks: string[] = [];
    for (let i = 0; i < 300; i++) {
      const route = await f.acquire(10, signal);
      picks.push(f.endpoints.find((e) => e.inFlight === 1)!.name);
      route.succeeded(undefined, 10);
    }
    const a = picks.filter((p) => p === "a").length;
    // 10 and 5 requests a second, each bucket starting full: 2:1 up to the two opening bursts.
    expect(a / (300 - a)).toBeGreaterThan(1.8);
    expect(a / (300 - a)).toBeLessThan(2.2);
    // 300 requests at 15 a second take about 19 s of (virtual) time after the first second's burst.
    expect(clock.now()).toBeGreaterThan(18_000);
    expect(clock.now()).toBeLessThan(20_500);
  });

  it("takes an endpoint out after 3 health failures, probes it after the cool-down, and puts it back on success", async () => {
    const clock = new ManualClock({ autoAdvance: true });
    const f = fleet(clock);
    const failB = async () => {
      for (;;) {
        const route = await f.acquire(1, signal);
        if (route.provider === f.providers[1]) return route.failed(new ConnectionError("openai:m", "ECONNREFUSED", { retryable: true }));
        route.succeeded(undefined, 1);
      }
    };
    for (let i = 0; i < 3; i++) await failB();
    expect(f.endpoints[1]).toMatchObject({ health: "out", failed: 3, trips: 1 });
    // While b is out, everything goes to a, without waiting.
    const before = clock.now();
    for (let i = 0; i < 20; i++) {
      const route = await f.acquire(1, signal);
      expect(route.provider).toBe(f.providers[0]);
      route.succeeded(undefined, 1);
    }
    expect(clock.now()).toBe(before);
    // After the cool-down, one request probes b; a failed probe doubles the cool-down.
    clock.time += 10_000;
    const probe = await f.acquire(1, signal);
    expect(probe.provider).toBe(f.providers[1]);
    expect(f.endpoints[1]!.health).toBe("probing");
    probe.failed(new ServerError("openai:m", "HTTP 502", { retryable: true }));
    expect(f.endpoints[1]).toMatchObject({ health: "out", trips: 2 });
    clock.time += 10_000;
    expect((await f.acquire(1, signal)).provider).toBe(f.providers[0]);
    clock.time += 10_000;
    const second = await f.acquire(1, signal);
    expect(second.provider).toBe(f.providers[1]);
    second.succeeded(undefined, 1);
    expect(f.endpoints[1]!.health).toBe("up");
  });

  it("pauses only the endpoint that answered 429, and retries at once elsewhere", async () => {
    const clock = new ManualClock();
    const f = fleet(clock);
    const first = await f.acquire(1, signal);
    const error = new RateLimitError("openai:m", "HTTP 429", { retryable: true, retryAfterMs: 30_000 });
    first.failed(error);
    expect(f.retryDelay(error, 30_000)).toBe(0);
    for (let i = 0; i < 5; i++) {
      const route = await f.acquire(1, signal);
      expect(route.provider).not.toBe(first.provider);
      route.succeeded(undefined, 1);
    }
    expect(clock.now()).toBe(0);
  });

  it("pauses an endpoint that answered 429 without retry-after for a backoff of its own; the retry waits only when every endpoint is paused", async () => {
    const clock = new ManualClock();
    const f = fleet(clock);
    const error = new RateLimitError("openai:m", "HTTP 429: slow down", { status: 429, retryable: true });
    const first = await f.acquire(1, signal);
    first.failed(error);
    expect(f.retryDelay(error, 500)).toBe(0);
    // The other endpoint takes the retry at once.
    const second = await f.acquire(1, signal);
    expect(second.provider).not.toBe(first.provider);
    expect(clock.now()).toBe(0);
    second.failed(error);
    // Both paused: the next request waits for the first backoff (0.5 s) to end.
    const third = await f.acquire(1, signal);
    expect(clock.now()).toBe(500);
    expect(third.provider).toBe(first.provider);
    third.failed(error);
    // That endpoint's second 429 in a row: 1 s.
    const fourth = await f.acquire(1, signal);
    expect(fourth.provider).toBe(second.provider);
    expect(clock.now()).toBe(500);
    fourth.succeeded(undefined, 1);
    const fifth = await f.acquire(1, signal);
    expect(fifth.provider).toBe(second.provider);
  });

  it("a fleet answers through a rate limit without retry-after, as one endpoint does, instead of spending every try at once", async () => {
    const clock = new ManualClock();
    const provider = new FakeProvider({
      fail: () => (clock.now() < 1000 ? new RateLimitError("openai:fake-model", "HTTP 429: slow down", { status: 429, retryable: true }) : undefined),
    });
    const study = makeStudy({
      respondents: 1,
      items: [{ id: "approve", type: "binary", text: "Approve?" }],
      study: { endpoints: { "openai:fake-model": ["http://a:1/v1", "http://b:1/v1"] } },
    });
    const summary = (await generate(study, { deps: fakeDeps(provider, TEST_PRICE), clock, resultsDir: tempDir(), random: () => 0 })) as RunSummary;
    expect(summary.totals).toMatchObject({ answered: 1, nonresponse: 0 });
    expect(clock.now()).toBeGreaterThanOrEqual(1000);
  });

  it("waits for the first cool-down to end when every endpoint is out", async () => {
    const clock = new ManualClock();
    const f = fleet(clock);
    for (let i = 0; i < 6; i++) (await f.acquire(1, signal)).failed(new ConnectionError("openai:m", "reset", { retryable: true }));
    expect(f.endpoints.map((e) => e.health)).toEqual(["out", "out"]);
    const route = await f.acquire(1, signal);
    expect(clock.now()).toBeGreaterThanOrEqual(10_000);
    expect(f.endpoints.filter((e) => e.health === "probing")).toHaveLength(1);
    route.succeeded(undefined, 1);
  });
});

describe("the study's endpoints", () => {
  it("takes base URLs, accounts and limits, and checks them with located messages", () => {
    const study = Study.parse({
      name: "s",
      survey: "s.yaml",
      persona: "p.hbs",
      waves: [{ id: "w", frame: "f.csv", role: "target" }],
      models: ["openai:llama3"],
      endpoints: { "openai:llama3": ["http://gpu1:8000/v1", { base_url: "http://gpu2:8000/v1", requests_per_minute: 300 }, { api_key_env: "TEAM2_OPENAI_API_KEY" }] },
    });
    expect(study.endpoints["openai:llama3"]).toEqual([
      { base_url: "http://gpu1:8000/v1" },
      { base_url: "http://gpu2:8000/v1", requests_per_minute: 300 },
      { api_key_env: "TEAM2_OPENAI_API_KEY" },
    ]);
    const bad = Study.safeParse({ ...study, endpoints: { "openai:llama3": [{ api_key_env: "OPENAI_KEY_2" }] } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.message).toBe("expected the name of an environment variable ending in API_KEY, e.g. OPENAI_TEAM2_API_KEY");
  });

  it("refuses endpoints for a simulated model", async () => {
    const study = makeStudy({ study: { models: ["simulated:biased"], endpoints: { "simulated:biased": ["http://x:1/v1"] } } });
    await expect(generate(study, { resultsDir: tempDir() })).rejects.toThrow(new InputError({ file: "study.yaml", field: "endpoints.simulated:biased" }, "simulated:biased runs offline: it has no endpoints"));
  });
});

describe("endpoints of a model the run does not use", () => {
  const vendors: FakeVendor[] = [];
  afterEach(async () => {
    for (const vendor of vendors.splice(0)) await vendor.close();
  });

  it("notes a key that names no model of the study (a misspelling?) and runs on the default endpoint", async () => {
    const vendor = await startFakeVendor({ seed: 5 });
    vendors.push(vendor);
    const study = makeStudy({ respondents: 2, study: { endpoints: { "openai:fake-modle": ["http://127.0.0.1:9/v1"] } } });
    const lines: string[] = [];
    const summary = (await generate(study, { resultsDir: tempDir(), env: { OPENAI_BASE_URL: vendor.baseURL }, log: (line) => lines.push(line) })) as RunSummary;
    expect(summary.totals.answered).toBe(6);
    expect(vendor.stats.billed).toBe(6);
    expect(lines).toContain(
      "note: endpoints: openai:fake-modle is not among the study's models (openai:fake-model), so its endpoints are not used; pick it with --model, or check the spelling",
    );
  });
});

describe("a run on two servers, one failing", () => {
  const vendors: FakeVendor[] = [];
  afterEach(async () => {
    for (const vendor of vendors.splice(0)) await vendor.close();
  });

  it("answers every cell from the healthy server and takes the failing one out", async () => {
    const healthy = await startFakeVendor({ seed: 1 });
    const failing = await startFakeVendor({ seed: 2, faults: { "500": 1 } });
    vendors.push(healthy, failing);
    const study = makeStudy({
      respondents: 20,
      study: { concurrency: 4, endpoints: { "openai:fake-model": [{ base_url: failing.baseURL }, { base_url: healthy.baseURL }] } },
    });
    const summary = (await generate(study, { resultsDir: tempDir(), env: {}, retry: { baseDelayMs: 1, maxDelayMs: 5 } })) as RunSummary;
    expect(summary.status).toBe("completed");
    expect(summary.totals).toMatchObject({ answered: 60, nonresponse: 0 });
    expect(healthy.stats.billed).toBe(60);
    // Three failures in a row take it out (concurrency 4 may have a fourth on the wire); the run is far shorter than its cool-down.
    expect(failing.stats.received).toBeGreaterThanOrEqual(3);
    expect(failing.stats.received).toBeLessThanOrEqual(4);
    expect(summary.endpoints["openai:fake-model"]).toMatchObject([
      { name: failing.baseURL.replace("http://", "").replace("/v1", ""), health: "out", trips: 1, sent: failing.stats.received },
      { health: "up", sent: 60, failed: 0 },
    ]);
  });

  it("spreads calls over both servers when both are healthy", async () => {
    const a = await startFakeVendor({ seed: 3 });
    const b = await startFakeVendor({ seed: 4 });
    vendors.push(a, b);
    const study = makeStudy({ respondents: 20, study: { concurrency: 8, endpoints: { "openai:fake-model": [a.baseURL, b.baseURL] } } });
    const summary = (await generate(study, { resultsDir: tempDir(), env: {} })) as RunSummary;
    expect(summary.totals.answered).toBe(60);
    expect(a.stats.billed + b.stats.billed).toBe(60);
    expect(Math.min(a.stats.billed, b.stats.billed)).toBeGreaterThanOrEqual(20);
  });

  it("sends each account's own key (api_key_env)", async () => {
    const a = await startFakeVendor({ apiKey: "sk-team-one-0000000001" });
    const b = await startFakeVendor({ apiKey: "sk-team-two-0000000002" });
    vendors.push(a, b);
    const study = makeStudy({
      respondents: 6,
      study: {
        endpoints: {
          "openai:fake-model": [
            { base_url: a.baseURL, api_key_env: "TEAM1_OPENAI_API_KEY" },
            { base_url: b.baseURL, api_key_env: "TEAM2_OPENAI_API_KEY" },
          ],
        },
      },
    });
    const env = { TEAM1_OPENAI_API_KEY: "sk-team-one-0000000001", TEAM2_OPENAI_API_KEY: "sk-team-two-0000000002" };
    const summary = (await generate(study, { resultsDir: tempDir(), env })) as RunSummary;
    expect(summary.totals.answered).toBe(18);
    expect([a.stats.faults.auth, b.stats.faults.auth]).toEqual([undefined, undefined]);
    expect(a.stats.billed).toBeGreaterThan(0);
    expect(b.stats.billed).toBeGreaterThan(0);
  });
});
