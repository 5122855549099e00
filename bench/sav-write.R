# Writes the SPSS bench's file: N cases × 10 variables of the kinds a survey
# frame has, byte-compressed, with R haven.
# Usage: Rscript bench/sav-write.R out.sav N
suppressPackageStartupMessages(library(haven))
args <- commandArgs(trailingOnly = TRUE)
n <- as.integer(args[2])
set.seed(2026)
regions <- c("Northeast", "Midwest", "South", "West")
data <- data.frame(
  id = seq_len(n) + 100000,                                    # raw doubles in byte compression
  wave = sample(c(2022, 2024), n, replace = TRUE),
  weight = round(rexp(n), 4),
  age = sample(18:90, n, replace = TRUE),                       # one byte each
  income = round(rlnorm(n, 10, 1), 2),
  region = sample(regions, n, replace = TRUE),
  comment = ifelse(seq_len(n) %% 5 == 0, "", sprintf("answer number %d, in words", seq_len(n))),
  stringsAsFactors = FALSE
)
data$party <- labelled(sample(c(1, 2, 3, NA), n, replace = TRUE, prob = c(.4, .4, .15, .05)), c(Democrat = 1, Republican = 2, Independent = 3))
data$approve <- labelled_spss(sample(c(0, 1, 9), n, replace = TRUE, prob = c(.45, .45, .1)), c(Disapprove = 0, Approve = 1, Refused = 9), na_values = 9)
data$therm <- labelled_spss(sample(c(0:100, 998, 999), n, replace = TRUE), c(`Don't know` = 998, Refused = 999), na_range = c(997, 999))
write_sav(data, args[1], compress = "byte")
