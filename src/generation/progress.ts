/**
 * Progress of a run: on a terminal, a bar (cells done/total, rate, ETA, cost
 * so far, failed calls); otherwise no bar, only a plain line to stderr every
 * so often (logs stay readable) and the command's one summary line at the end.
 */
import cliProgress from "cli-progress";
import type { EngineTotals } from "./engine.ts";

export interface ProgressReporter {
  start(total: number): void;
  update(totals: EngineTotals): void;
  stop(): void;
  /** Prints a notice line (a batch submitted, polled…) without garbling the bar; absent: write it to stderr. */
  note?(line: string): void;
}

export const silentProgress: ProgressReporter = { start() {}, update() {}, stop() {} };

export function formatUsd(usd: number): string {
  if (usd === 0) return "$0.00";
  if (usd < 0.01) return `$${usd.toPrecision(2)}`;
  return `$${usd.toFixed(2)}`;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "?";
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

/** Why the latest call failed, between `before` and `after`, once any has. */
function lastFailure(totals: EngineTotals, before: string, after: string): string {
  return totals.callsFailed > 0 && totals.lastFailure !== undefined ? `${before}${totals.lastFailure}${after}` : "";
}

/** A bar on stderr, redrawn at most a few times a second. */
export function barProgress(label: string, stream: NodeJS.WritableStream = process.stderr, now: () => number = Date.now): ProgressReporter {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} {bar} {value}/{total} cells | {rate}/s | ETA {eta_formatted} | {cost} | {failed} failed calls{last}`,
      stream,
      hideCursor: true,
      fps: 5,
      etaBuffer: 50,
      clearOnComplete: false,
      // Notices are written over the bar's line; the next frame must draw it again even if unchanged.
      forceRedraw: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let startedAt = 0;
  let drawing = false;
  return {
    start(total) {
      startedAt = now();
      drawing = true;
      bar.start(total, 0, { rate: "0.0", cost: formatUsd(0), failed: 0, last: "" });
    },
    note(line) {
      if (!drawing) {
        stream.write(`${line}\n`);
        return;
      }
      // Over the bar's line (carriage return, erase the line), then the bar again below it.
      stream.write(`\r\x1b[2K${line}\n`);
      bar.render();
    },
    update(totals) {
      const seconds = Math.max(0.001, (now() - startedAt) / 1000);
      bar.update(totals.done, { rate: (totals.done / seconds).toFixed(1), cost: formatUsd(totals.costUsd), failed: totals.callsFailed, last: lastFailure(totals, " (last: ", ")") });
    },
    stop() {
      drawing = false;
      bar.stop();
    },
  };
}

/** Plain progress lines (no terminal): one at most every `intervalMs`. */
export function lineProgress(
  label: string,
  write: (line: string) => void = (line) => process.stderr.write(line + "\n"),
  now: () => number = Date.now,
  intervalMs = 30_000,
): ProgressReporter {
  let total = 0;
  let startedAt = 0;
  let lastLine = 0;
  return {
    start(cells) {
      total = cells;
      startedAt = now();
      lastLine = startedAt;
    },
    update(totals) {
      const time = now();
      if (time - lastLine < intervalMs) return;
      lastLine = time;
      const elapsed = time - startedAt;
      const rate = totals.done / Math.max(0.001, elapsed / 1000);
      const eta = rate > 0 ? ((total - totals.done) / rate) * 1000 : Infinity;
      const percent = total > 0 ? Math.floor((100 * totals.done) / total) : 100;
      write(
        `${label}: ${totals.done}/${total} cells (${percent}%), ${rate.toFixed(1)}/s, ETA ${formatDuration(eta)}, ` +
          `${formatUsd(totals.costUsd)} spent, ${totals.callsFailed} failed calls${lastFailure(totals, ", last: ", "")}`,
      );
    },
    stop() {},
  };
}
