import type { Command } from "commander";
import { UsageError } from "../../errors.ts";
import type { EstimateFlags } from "../estimate-files.ts";

const EXAMPLES = `
Examples:
  # A study's tasks table from its stored answers (after silicon generate)
  silicon estimate results/demo/study.yaml

  # Wide files: one column per item; tasks by party and by party × region
  silicon estimate --real respondents.csv --synthetic synthetic.csv --id id \\
    --weight weight --items therm,approve --by party,party+region \\
    --generation generation --out tasks.csv

  # Long synthetic answers (one row per respondent, item and generation) from
  # several models and waves; the 2024 wave is the target
  silicon estimate --real anes.sav --synthetic edsl.parquet --id caseid \\
    --weight weight --long question,answer --model model --group wave \\
    --role-of-target 2024 --by all,party --out tasks.csv

  # Proportions per option of a choice item, from log-probabilities
  # (rows with an option give its probability)
  silicon estimate --real real.csv --synthetic logprobs.csv --id id --weight w \\
    --long item,p --distribution option --per-option vote --out tasks.csv

Pairing is automatic: where synthetic respondents are twins of real ones (same
id), gap_se is the paired standard error. Generations of one respondent are
averaged (clustered), never counted as independent respondents.
See docs/estimate.md.`;

export function register(program: Command): void {
  program
    .command("estimate")
    .summary("write the tasks table (real and synthetic estimates per task)")
    .description(
      "Write the tasks table: weighted real and synthetic estimates per item, subgroup and wave, with survey-correct " +
        "standard errors. From a study file (after `silicon generate`), or from respondent-level files made elsewhere.",
    )
    .argument("[study]", "study file (study.yaml); or use --real and --synthetic")
    .option("--real <file>", "real respondents (.csv, .parquet, .sav or .zsav): ids, weights, subgroups, real answers")
    .option("--synthetic <file>", "synthetic answers (.csv, .parquet, .sav or .zsav), one row per respondent (per item, if long) per generation")
    .option("--id <column>", "respondent id column, in both files")
    .option("--weight <column>", "weight column of the real file (default: every weight 1)")
    .option("--items <list>", "items, comma-separated: their columns in wide files (with --long: which items to keep)")
    .option("--long <itemcol,valuecol>", "the files are long: an item column and a value column")
    .option("--by <specs>", "subgroups: party, crossed party+region, several comma-separated, all for everyone (repeatable; default: all)", collect)
    .option("--generation <column>", "generation column of the synthetic file")
    .option("--model <column>", "model column of the synthetic file: one calibration per model")
    .option("--group <column>", "wave column (the tasks table's group)")
    .option("--role-of-target <wave>", "tasks of this wave are targets (their real data, if any, kept only to score evaluation)")
    .option("--per-option <items>", "choice items estimated as the proportion per option (coordinates of one task)")
    .option("--distribution <column>", "long synthetic file: rows with this option column set give that option's probability")
    .option("--allow-unmatched", "skip synthetic rows whose id the real file lacks (default: an error)")
    .option("--out <file>", "tasks table to write (CSV); - for standard output (with <study.yaml>: default results/<study>/tasks.csv)")
    .option("--results <dir>", "with <study.yaml>: the folder holding results/<study>/", "results")
    .addHelpText("after", EXAMPLES)
    .action(async (study: string | undefined, flags: EstimateFlags) => {
      if (study !== undefined) {
        if (flags.real !== undefined || flags.synthetic !== undefined) {
          throw new UsageError("give either a study file or --real and --synthetic, not both");
        }
        const { runStudyEstimate } = await import("../study-commands.ts");
        await runStudyEstimate(study, flags);
        return;
      }
      const { runEstimateFromFiles } = await import("../estimate-files.ts");
      await runEstimateFromFiles(flags);
    });
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
