# The SPSS bench's R peer: haven::read_sav of the bench file, all columns or
# those named, then one line per column: name, cells not missing, and their
# sum (numbers, 17 significant digits) or total UTF-8 bytes (strings; an
# empty string counts as missing, as silicon reads it). User-missing codes
# are missing (read_sav's default, user_na = FALSE), as in silicon.
# Usage: Rscript bench/sav-read-r.R file.sav all|name,name,...
# Writes its peak resident memory (VmHWM, KiB) and CPU time (user + system,
# seconds) to the file named by SILICON_BENCH_PEAK_RSS when it is set.
suppressPackageStartupMessages(library(haven))
args <- commandArgs(trailingOnly = TRUE)
data <- if (args[2] == "all") read_sav(args[1]) else read_sav(args[1], col_select = strsplit(args[2], ",")[[1]])
cat("cases", nrow(data), "\n", sep = "\t")
for (name in names(data)) {
  x <- data[[name]]
  if (is.character(x)) {
    kept <- x[x != ""]
    cat(name, length(kept), sum(nchar(kept, type = "bytes")), "\n", sep = "\t")
  } else {
    x <- as.numeric(x)
    cat(name, sum(!is.na(x)), sprintf("%.17g", sum(x, na.rm = TRUE)), "\n", sep = "\t")
  }
}
peak_file <- Sys.getenv("SILICON_BENCH_PEAK_RSS")
if (nzchar(peak_file) && file.exists("/proc/self/status")) {
  status <- grep("^VmHWM", readLines("/proc/self/status"), value = TRUE)
  cpu <- proc.time()
  writeLines(paste(sub("VmHWM:\\s*(\\d+) kB", "\\1", status), cpu[["user.self"]] + cpu[["sys.self"]]), peak_file)
}
