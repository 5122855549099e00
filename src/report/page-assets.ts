/**
 * The page's inline style and script. One colour scheme across the page, the
 * Okabe–Ito palette (safe for the common colour-vision deficiencies), and
 * every mark also told apart without colour (bar vs line, filled vs hollow).
 * The script only sorts tables and opens the collapsed sections for
 * printing; the page works without it and makes no request.
 */

export const CSS = `
:root { --calibrated: #0072b2; --naive: #e69f00; --alt: #009e73; --truth: #000; --missed: #d55e00; --pilot: #cc79a7; --grid: #e6e6e6; --ink: #1d1d1f; --muted: #555; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 20px 24px 64px; }
h1 { font-size: 1.75rem; line-height: 1.25; margin: 0.2em 0 0.4em; }
h2 { font-size: 1.35rem; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
h3 { font-size: 1.1rem; margin-top: 1.6em; }
h4 { font-size: 1rem; margin: 1.2em 0 0.3em; }
p, li { max-width: 75ch; }
.lede { font-size: 1.05rem; color: #333; }
.in-short { background: #f3f7fb; border-left: 4px solid var(--calibrated); padding: 6px 16px; margin: 1em 0; }
.in-short p { margin: 0.5em 0; }
.muted { color: var(--muted); }
.key { display: inline-block; padding: 0 5px; border-radius: 3px; line-height: 1.35; }
.calibrated-key { background: var(--calibrated); color: #fff; }
.naive-key { border: 2px solid var(--naive); }
.verdict { font-weight: 600; }
.verdict.ok::before { content: "✓ "; }
.verdict.warn::before { content: "⚠ "; }
.verdict.warn { color: #a04000; }
.table-wrap { overflow-x: auto; margin: 0.6em 0 1em; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { padding: 4px 10px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid #bbb; vertical-align: bottom; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
td.low { color: #a04000; font-weight: 600; }
table.facts th { font-weight: 500; color: var(--muted); }
table.forecasts { width: 100%; }
table.forecasts td { white-space: nowrap; }
table.forecasts td.question-col { white-space: normal; min-width: 7em; }
table.forecasts .line { display: block; }
table.forecasts .coord { color: var(--muted); }
table.forecasts td.forecast { font-weight: 600; }
table.forecasts tr.question-row th { background: #f4f4f4; font-weight: normal; padding-top: 8px; }
.question-label { font-weight: 600; }
.question-text { color: var(--muted); font-size: 0.85rem; }
.pilot-note { color: #8a3f73; font-size: 0.85rem; }
table.forecasts tr.skipped td { color: var(--muted); }
.missed-text { color: #a04000; }
button.sort { font: inherit; font-weight: 600; background: none; border: 0; padding: 0; cursor: pointer; color: inherit; text-align: inherit; }
button.sort::after { content: " ↕"; color: #999; font-weight: normal; }
th[aria-sort="ascending"] button.sort::after { content: " ↑"; color: var(--ink); }
th[aria-sort="descending"] button.sort::after { content: " ↓"; color: var(--ink); }
.table-tools { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; margin: 0.6em 0 0; }
a.button { display: inline-block; padding: 4px 12px; border: 1px solid var(--calibrated); border-radius: 4px; color: var(--calibrated); text-decoration: none; font-size: 0.9rem; }
a.button:hover { background: #eaf2f8; }
.hint { font-size: 0.85rem; color: var(--muted); }
.warnings { background: #fff6e5; border-left: 4px solid #e69f00; padding: 4px 16px; }
.problem { color: #a04000; }
details { margin: 0.8em 0; }
details > summary { cursor: pointer; font-weight: 600; }
details.technical { background: #fafafa; border: 1px solid #e4e4e4; border-radius: 4px; padding: 6px 14px; }
figure { margin: 1em 0 1.6em; overflow-x: auto; }
figcaption { font-size: 0.88rem; color: var(--muted); max-width: 75ch; }
svg.figure { font: 12px system-ui, sans-serif; max-width: 100%; height: auto; display: block; }
svg .grid { stroke: var(--grid); }
svg .axis { stroke: #888; }
svg .zero { stroke: #888; stroke-dasharray: 3 3; }
svg .tick { fill: #444; }
svg .row-label { fill: #222; }
svg .row-heading { fill: #000; font-weight: 600; font-size: 12.5px; }
svg .row-rule { stroke: #f0f0f0; }
svg .axis-label, svg .panel-title { fill: #222; font-size: 12.5px; }
svg .panel-title { font-weight: 600; }
svg .legend text { fill: #222; }
svg rect.calibrated-bar { fill: var(--calibrated); }
svg rect.calibrated-bar.pilot { fill: var(--pilot); }
svg line.estimate-tick { stroke: #fff; stroke-width: 2; }
svg path.naive-line { stroke: var(--naive); stroke-width: 2; fill: none; }
svg path.truth { fill: var(--truth); stroke: #fff; stroke-width: 1; }
svg path.truth.missed { fill: #fff; stroke: var(--missed); stroke-width: 2.5; }
svg rect.calibrated { fill: rgba(0, 114, 178, 0.12); stroke: var(--calibrated); stroke-width: 2; }
svg rect.alternative { fill: none; stroke: var(--alt); stroke-width: 1.5; stroke-dasharray: 5 3; }
svg rect.naive { fill: rgba(230, 159, 0, 0.45); stroke: #9a6a00; stroke-width: 1.5; }
svg path.estimate { stroke: var(--ink); stroke-width: 1.8; fill: none; }
svg circle.gap { fill: rgba(0, 114, 178, 0.45); }
svg rect.box { fill: rgba(0, 114, 178, 0.15); stroke: var(--calibrated); }
svg line.whisker { stroke: #666; stroke-width: 1.5; }
svg line.median { stroke: var(--ink); stroke-width: 2.5; }
svg line.bar { stroke: #bbb; stroke-width: 2; }
svg circle.calibrated-dot { fill: var(--calibrated); }
svg circle.naive-dot { fill: #fff; stroke: var(--naive); stroke-width: 2.5; }
code { font-size: 0.85em; overflow-wrap: anywhere; }
@media (max-width: 1000px) {
  /* The question names its group's heading row; its column is dropped before anything scrolls. */
  table.forecasts .question-col { display: none; }
}
@media (max-width: 640px) {
  main { padding: 12px 12px 48px; }
  h1 { font-size: 1.4rem; }
  h2 { font-size: 1.2rem; }
  table { font-size: 0.82rem; }
  th, td { padding: 3px 6px; }
  /* The forecasts table as one card per row: each value under its heading's name, nothing to scroll sideways. */
  table.forecasts, table.forecasts tbody, table.forecasts tr, table.forecasts td, table.forecasts tbody th { display: block; width: 100%; }
  table.forecasts thead tr { display: flex; flex-wrap: wrap; gap: 2px 12px; }
  table.forecasts thead th { border: 0; padding: 2px 0; font-size: 0.8rem; }
  table.forecasts td { white-space: normal; text-align: left; border: 0; padding: 1px 6px; display: flex; gap: 8px; }
  table.forecasts td::before { content: attr(data-label); flex: 0 0 7.5em; color: var(--muted); font-size: 0.8rem; padding-top: 1px; }
  table.forecasts tr[data-task] { border-bottom: 1px solid #ddd; padding: 4px 0; }
  table.forecasts td.num .line[data-coord]::before { content: attr(data-coord) ": "; color: var(--muted); font-weight: normal; }
  table.forecasts .question-col { display: none; }
  svg.figure.rows, svg.figure.panels { min-width: 560px; }
}
@media print {
  @page { margin: 14mm; }
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  .table-tools, button.sort::after, table.forecasts .question-col { display: none; }
  table { font-size: 8.5pt; }
  th, td { padding: 2px 5px; }
  .table-wrap, figure { overflow: visible; }
  h2 { break-before: auto; break-after: avoid; }
  h3, h4 { break-after: avoid; }
  figure, tr, .in-short { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  details > summary { list-style: none; }
  svg.figure { max-width: 100%; }
  .in-short, .warnings, details.technical { background: none; }
}
`;

/** Sorts each sortable table's rows within their group (tbody) by a column's data-value; opens <details> for print. */
export const SCRIPT = `
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("button.sort").forEach(function (button) {
    button.addEventListener("click", function () {
      var th = button.parentElement;
      var column = Number(button.getAttribute("data-column"));
      var numeric = button.getAttribute("data-type") === "number";
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("thead th").forEach(function (h) { h.setAttribute("aria-sort", "none"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      table.querySelectorAll("tbody").forEach(function (body) {
        var rows = Array.prototype.slice.call(body.querySelectorAll("tr[data-task]"));
        var value = function (row) { return row.children[column].getAttribute("data-value") || ""; };
        rows.sort(function (a, b) {
          var x = value(a), y = value(b);
          if (x === "" || y === "") return x === y ? 0 : x === "" ? 1 : -1;
          var order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
});
window.addEventListener("beforeprint", function () {
  document.querySelectorAll("details").forEach(function (d) { d.setAttribute("open", ""); });
});
`;
