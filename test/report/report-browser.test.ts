/**
 * The demo study's report.html in headless Chromium (Debian's package), as a
 * pollster opens it: every target of intervals.csv is a row of the forecasts
 * table with its bounds as text; the table sorts and downloads as CSV; no
 * console error and no network request; every figure has marks; the page
 * fits 400 px; print hides the buttons. Screenshots at 1400 and 400 px go to
 * test-output/report/ (git-ignored) for people to look at. Skipped, saying
 * so, only where there is no Chromium.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadStudy } from "../../src/config/load.ts";
import { writeDemoStudy } from "../../src/pipeline/demo-study.ts";
import { writeStudyResults } from "../../src/pipeline/study-results.ts";
import { formatRange } from "../../src/report/format.ts";
import { simulatedAnswers } from "../helpers/simulated-answers.ts";

const CHROMIUM = process.env.SILICON_CHROMIUM ?? "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`report-browser.test: skipped, no Chromium at ${CHROMIUM} (apt-get install chromium, or set SILICON_CHROMIUM)`);

const SCREENSHOTS = join(import.meta.dirname, "..", "..", "test-output", "report");
const RANGES: Record<string, [number, number]> = { thermometer: [0, 100], "vector:approval": [0, 1] };

describe.skipIf(!hasChromium)("the demo's report.html in headless Chromium", () => {
  const dir = mkdtempSync(join(tmpdir(), "silicon-report-"));
  let reportPath = "";
  let browser: BrowserContext;
  let page: Page;
  const errors: string[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    // The demo study and its simulated models' answers, through the same analysis and report code as
    // `silicon demo` (without the generation engine, which test/pipeline/demo.test.ts runs).
    const study = await loadStudy(await writeDemoStudy(join(dir, "demo")));
    const answers = simulatedAnswers(study);
    await writeStudyResults(study, { answers, count: answers.id.length }, { resultsDir: dir, command: "silicon demo" });
    reportPath = join(dir, "demo", "report.html");
    const { chromium } = await import("playwright-core");
    // A fresh profile (user data dir) per run: nothing carried over from another run.
    browser = await chromium.launchPersistentContext(join(dir, "profile"), {
      executablePath: CHROMIUM,
      viewport: { width: 1400, height: 900 },
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    page = await browser.newPage();
    page.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning") errors.push(message.text());
    });
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("request", (request) => {
      if (!request.url().startsWith("file:")) requests.push(request.url());
    });
    await page.goto(`file://${reportPath}`);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    if (process.env.SILICON_KEEP_TEST_OUTPUT === undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("lists every target of intervals.csv as a row of the forecasts table, with its bounds as text", async () => {
    const intervals = parse(readFileSync(join(dir, "demo", "intervals.csv"), "utf8"), { columns: true }) as Record<string, string>[];
    const evaluation = JSON.parse(readFileSync(join(dir, "demo", "evaluation.json"), "utf8")) as { kinds: { kind: string; method: string }[] };
    const chosen = new Map(evaluation.kinds.map((k) => [k.kind, k.method]));
    expect(intervals.length).toBe(64);
    const rows = await page.$$eval("table.forecasts tr[data-task]", (trs) => trs.map((tr) => ({ task: tr.getAttribute("data-task")!, model: tr.getAttribute("data-model")!, text: tr.textContent ?? "" })));
    // One row per task and model: the two coordinates of an approval task share one.
    expect(rows.length).toBe(new Set(intervals.map((r) => `${r.task}|${r.model}`)).size);
    for (const interval of intervals) {
      const row = rows.find((r) => r.task === interval.task && r.model === interval.model);
      expect(row, `${interval.task} ${interval.model}`).toBeDefined();
      if (interval.method !== chosen.get(interval.kind!)) continue;
      const range = RANGES[interval.kind!]!;
      expect(row!.text).toContain(formatRange(Number(interval.lower), Number(interval.upper), range));
      expect(row!.text).toContain(formatRange(Number(interval.naive_lower), Number(interval.naive_upper), range));
    }
    // Democrats' approval in 2024 is findable: the co-partisans of a Democratic president are named.
    const approval = rows.find((r) => r.task.startsWith("approval|region=Midwest@w2024"))!;
    expect(approval.text).toContain("Co-partisan (party Democrat)");
    expect(approval.text).toContain("Opposition (party Republican)");
  });

  it("has no console error and makes no network request", () => {
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
  });

  it("sorts within each question by a clicked column, and downloads the table as CSV", async () => {
    const table = page.locator("table.forecasts").first();
    await table.locator("button.sort", { hasText: "forecast" }).click();
    const values = await table.locator("tbody").first().locator("td.forecast").evaluateAll((tds) => tds.map((td) => Number(td.getAttribute("data-value"))));
    expect(values.length).toBeGreaterThan(1);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    await table.locator("button.sort", { hasText: "forecast" }).click();
    const descending = await table.locator("tbody").first().locator("td.forecast").evaluateAll((tds) => tds.map((td) => Number(td.getAttribute("data-value"))));
    expect(descending).toEqual([...values].reverse());

    const href = await page.locator("a.button[download]").first().getAttribute("href");
    expect(href).toMatch(/^data:text\/csv;charset=utf-8,/);
    const csv = parse(decodeURIComponent(href!.slice(href!.indexOf(",") + 1)), { columns: true }) as Record<string, string>[];
    const rowsInTable = await table.locator("tr[data-task]").count();
    // 24 thermometer rows and 4 approval rows of two coordinates each.
    expect(rowsInTable).toBe(28);
    expect(csv.length).toBe(32);
    expect(new Set(csv.map((r) => r.model))).toEqual(new Set(["simulated:biased"]));
  });

  it("draws every figure with marks, a title and a legend", async () => {
    const figures = await page.$$eval("svg.figure", (svgs) =>
      svgs.map((svg) => ({ id: svg.id, marks: svg.querySelectorAll(".mark").length, legend: svg.querySelectorAll(".legend").length, title: svg.querySelector("title")?.textContent ?? "" })),
    );
    expect(figures.length).toBeGreaterThanOrEqual(10);
    for (const figure of figures) {
      expect(figure.title, figure.id).not.toBe("");
      expect(figure.marks, `figure ${figure.id} has no marks`).toBeGreaterThan(0);
      expect(figure.legend, `figure ${figure.id} has no legend`).toBeGreaterThan(0);
    }
  });

  it("says whether to trust the ranges, in words, for every kind and model", async () => {
    const verdicts = (await page.locator("#trust .verdict").allTextContents()).filter((v) => !v.startsWith("Drift"));
    expect(verdicts.length).toBe(4);
    for (const verdict of verdicts) expect(verdict).toMatch(/Held as promised|Fell short|No evidence yet/);
    // And whether each model's errors drifted between past waves (the evaluation's diagnostics).
    const drift = await page.locator("#trust p", { hasText: /Drift check|Drift\./ }).count();
    expect(drift).toBe(4);
  });

  it("fits 400 px without the page scrolling sideways, hides the buttons in print, and is screenshotted at 1400 and 400 px", async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.screenshot({ path: join(SCREENSHOTS, "report-1400.png"), fullPage: true });
    await page.setViewportSize({ width: 400, height: 800 });
    const pageWidth = await page.locator("html").evaluate((html) => html.scrollWidth);
    expect(pageWidth).toBeLessThanOrEqual(400);
    await page.screenshot({ path: join(SCREENSHOTS, "report-400.png"), fullPage: true });
    expect(existsSync(join(SCREENSHOTS, "report-400.png"))).toBe(true);
    await page.emulateMedia({ media: "print" });
    expect(await page.locator(".table-tools").first().isVisible()).toBe(false);
    await page.emulateMedia({ media: "screen" });
  });
});
