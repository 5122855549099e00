/**
 * The fake OpenAI-compatible vendor (test/helpers/fake-vendor.ts) in a
 * process of its own, so a benchmark's CPU figures count the client only.
 * Started with `fork()` and its options as JSON in argv[2]; it sends
 * `{ url }` once listening, answers `"stats"` with its counters (the same
 * as its GET /__stats, the billed tokens included), and stops
 * when the parent disconnects.
 */
import { startFakeVendor, type FakeVendorOptions } from "../test/helpers/fake-vendor.ts";

const vendor = await startFakeVendor(JSON.parse(process.argv[2] ?? "{}") as FakeVendorOptions);
process.send!({ url: vendor.baseURL });
process.on("message", (message) => {
  if (message === "stats") {
    const { received, billed, faults, retryAfters, earlyRequests, billedUsage, unreadableUsage } = vendor.stats;
    process.send!({ stats: { received, billed, faults, retryAfters, earlyRequests, billedUsage, unreadableUsage } });
  }
});
process.on("disconnect", () => void vendor.close().then(() => process.exit(0)));
