# The estimate bench's R peer: what an R user writes for the estimates that
# `silicon estimate --real real.csv --synthetic syn.csv --by group
# --generation generation` computes, from the same CSV files.
#   real:      svydesign(ids = ~1, weights = ~weight), svyby(~therm, ~group, svymean)
#   synthetic: generations clustered by respondent (ids = ~id), each weighing
#              weight / k, k the respondent's number of generations
# Usage: Rscript bench/estimate-r.R real.csv syn.csv out.csv
# Writes group, real_est, real_se, syn_est, syn_se (17 significant digits),
# and its peak resident memory (VmHWM, KiB) and CPU time (user + system,
# seconds) to the file named by the environment variable
# SILICON_BENCH_PEAK_RSS when it is set.
suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
real <- read.csv(args[1])
syn <- read.csv(args[2])

real_design <- svydesign(ids = ~1, weights = ~weight, data = real)
real_by <- svyby(~therm, ~group, real_design, svymean)

at <- match(syn$id, real$id)
syn$group <- real$group[at]
syn$w <- real$weight[at] / ave(syn$generation, syn$id, FUN = length)
syn_design <- svydesign(ids = ~id, weights = ~w, data = syn)
syn_by <- svyby(~therm, ~group, syn_design, svymean)

out <- data.frame(
  group = as.character(real_by$group),
  real_est = real_by$therm, real_se = SE(real_by),
  syn_est = syn_by$therm[match(real_by$group, syn_by$group)],
  syn_se = SE(syn_by)[match(real_by$group, syn_by$group)]
)
for (column in names(out)[-1]) out[[column]] <- sprintf("%.17g", out[[column]])
write.csv(out, args[3], row.names = FALSE, quote = FALSE)
peak_file <- Sys.getenv("SILICON_BENCH_PEAK_RSS")
if (nzchar(peak_file) && file.exists("/proc/self/status")) {
  status <- grep("^VmHWM", readLines("/proc/self/status"), value = TRUE)
  cpu <- proc.time()
  writeLines(paste(sub("VmHWM:\\s*(\\d+) kB", "\\1", status), cpu[["user.self"]] + cpu[["sys.self"]]), peak_file)
}
