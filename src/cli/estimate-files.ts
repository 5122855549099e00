/**
 * `silicon estimate --real --synthetic`: turns flags into options, runs the
 * estimands and writes the tasks table, all or nothing. Messages go to
 * stderr so that `--out -` can pipe the table.
 */
import { UsageError } from "../errors.ts";
import { parseSubgroupSpecs } from "../estimands/domains.ts";
import { estimateFromFiles, type EstimateFromFilesOptions } from "../estimands/from-files.ts";
import { formatTasksCsv } from "../estimands/tasks-writer.ts";
import { OutputSet } from "../util/atomic-write.ts";

/** The flags of `silicon estimate`, as commander hands them over. */
export interface EstimateFlags {
  real?: string;
  synthetic?: string;
  id?: string;
  weight?: string;
  items?: string;
  long?: string;
  by?: string[];
  generation?: string;
  model?: string;
  group?: string;
  roleOfTarget?: string;
  perOption?: string;
  distribution?: string;
  allowUnmatched?: boolean;
  out?: string;
  results?: string;
}

export async function runEstimateFromFiles(flags: EstimateFlags): Promise<void> {
  const options = toOptions(flags);
  const out = flags.out!;
  // Progress only where someone watches; scripts and logs get the summary alone.
  const progress = process.stderr.isTTY ? (message: string) => process.stderr.write(`silicon: ${message}…\n`) : undefined;
  const result = await estimateFromFiles(options, progress);
  const csv = formatTasksCsv(result.tasks);
  if (out === "-") process.stdout.write(csv);
  else await OutputSet.write((set) => set.stage(out, csv));

  const say = (line: string) => process.stderr.write(`silicon: ${line}\n`);
  if (result.unmatched.entries > 0) {
    say(`skipped ${result.unmatched.entries} synthetic answers of ${result.unmatched.distinct} ids that match no respondent of ${options.real}: ${result.unmatched.examples.join(", ")}${result.unmatched.distinct > result.unmatched.examples.length ? ", …" : ""}`);
  }
  for (const warning of result.warnings) say(`warning: ${warning}`);
  const targets = result.tasks.filter((t) => t.role === "target").length;
  const models = result.models.filter((m) => m !== "");
  const where = out === "-" ? "standard output" : out;
  say(
    `wrote ${result.tasks.length} task ${result.tasks.length === 1 ? "row" : "rows"} (${result.tasks.length - targets} history, ${targets} target)` +
      (models.length > 0 ? ` for ${models.length} ${models.length === 1 ? "model" : "models"}` : "") +
      (result.waves.length > 0 ? ` in ${result.waves.length} ${result.waves.length === 1 ? "wave" : "waves"}` : "") +
      ` to ${where}`,
  );
}

function toOptions(flags: EstimateFlags): EstimateFromFilesOptions {
  const required = [
    ["--real", flags.real],
    ["--synthetic", flags.synthetic],
    ["--id", flags.id],
    ["--out", flags.out],
  ] as const;
  const missing = required.filter(([, value]) => value === undefined).map(([name]) => name);
  if (missing.length > 0) throw new UsageError(`estimate from files needs ${missing.join(", ")} (see silicon estimate --help)`);
  let long: EstimateFromFilesOptions["long"];
  if (flags.long !== undefined) {
    const parts = list(flags.long, "--long");
    if (parts.length !== 2) throw new UsageError(`--long expects ITEMCOL,VALUECOL, got ${JSON.stringify(flags.long)}`);
    long = { item: parts[0]!, value: parts[1]! };
  }
  return {
    real: flags.real!,
    synthetic: flags.synthetic!,
    id: flags.id!,
    ...(flags.weight === undefined ? {} : { weight: flags.weight }),
    ...(flags.items === undefined ? {} : { items: list(flags.items, "--items") }),
    ...(long === undefined ? {} : { long }),
    ...(flags.distribution === undefined ? {} : { distribution: flags.distribution }),
    ...(flags.by === undefined ? {} : { by: parseSubgroupSpecs(flags.by) }),
    ...(flags.generation === undefined ? {} : { generation: flags.generation }),
    ...(flags.model === undefined ? {} : { model: flags.model }),
    ...(flags.group === undefined ? {} : { group: flags.group }),
    ...(flags.roleOfTarget === undefined ? {} : { targetWave: flags.roleOfTarget }),
    ...(flags.perOption === undefined ? {} : { perOption: list(flags.perOption, "--per-option") }),
    allowUnmatched: flags.allowUnmatched ?? false,
  };
}

function list(text: string, flag: string): string[] {
  const parts = text.split(",").map((part) => part.trim());
  if (parts.some((part) => part === "")) throw new UsageError(`${flag}: empty name in ${JSON.stringify(text)}`);
  return parts;
}
