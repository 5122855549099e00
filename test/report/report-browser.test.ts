/**
 * report.html in headless Chromium (Debian's package): it loads with no
 * console errors and no network request, every figure has marks, and a
 * screenshot is saved for people to look at. Skipped, saying so, only where
 * /usr/bin/chromium is absent.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadStudy } from "../../src/config/load.ts";
import { writeDemoStudy } from "../../src/pipeline/demo-study.ts";
import { writeStudyResults } from "../../src/pipeline/study-results.ts";
import { simulatedAnswers } from "../helpers/simulated-answers.ts";

const CHROMIUM = process.env.SILICON_CHROMIUM ?? "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`report-browser.test: skipped, no Chromium at ${CHROMIUM} (apt-get install chromium, or set SILICON_CHROMIUM)`);

describe.skipIf(!hasChromium)("report.html in headless Chromium", () => {
  const dir = mkdtempSync(join(tmpdir(), "silicon-report-"));
  let reportPath = "";
  beforeAll(async () => {
    const study = await loadStudy(await writeDemoStudy(join(dir, "study")));
    const answers = simulatedAnswers(study, 2);
    const results = await writeStudyResults(study, { answers, count: answers.id.length }, { resultsDir: join(dir, "results"), command: "test" });
    reportPath = results.files.find((f) => f.endsWith("report.html"))!;
  }, 120_000);
  afterAll(() => {
    if (process.env.SILICON_KEEP_TEST_OUTPUT === undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("renders every figure with marks, without console errors or network requests", async () => {
    const { chromium } = await import("playwright-core");
    // A fresh profile (user data dir) per run: nothing carried over from another run.
    const browser = await chromium.launchPersistentContext(join(dir, "profile"), {
      executablePath: CHROMIUM,
      viewport: { width: 1100, height: 900 },
      javaScriptEnabled: false,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error" || message.type() === "warning") errors.push(message.text());
      });
      page.on("pageerror", (error) => errors.push(error.message));
      page.on("request", (request) => {
        if (!request.url().startsWith("file:")) requests.push(request.url());
      });
      await page.goto(`file://${reportPath}`);
      const figures = await page.$$eval("svg.figure", (svgs) =>
        svgs.map((svg) => ({ id: svg.id, marks: svg.querySelectorAll(".mark").length, title: svg.querySelector("title")?.textContent ?? "", width: svg.getBoundingClientRect().width })),
      );
      await page.screenshot({ path: join(dir, "report.png"), fullPage: true });
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      // Per model: thermometer target + held-out figures, approval rectangles + target + held-out; then gaps and widths per kind.
      expect(figures.length).toBeGreaterThanOrEqual(14);
      for (const figure of figures) {
        expect(figure.title, figure.id).not.toBe("");
        expect(figure.marks, `figure ${figure.id} has no marks`).toBeGreaterThan(0);
        expect(figure.width, `figure ${figure.id} is not laid out`).toBeGreaterThan(100);
      }
      expect(existsSync(join(dir, "report.png"))).toBe(true);
      const html = readFileSync(reportPath, "utf8");
      expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
