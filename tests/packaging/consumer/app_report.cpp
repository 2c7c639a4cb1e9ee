// Reads the tree the consumer app wrote and writes its report with the
// installed mlruns::report: proves the report library, its header and its
// dependencies (cairo, utf8proc, nettle) are complete in the package.
// Usage: app_report <tracking root> <report.html>
#include <cstdio>
#include <fstream>

#include <mlruns/report.h>

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  auto reader = mlruns::Reader::open(argv[1]);
  if (!reader) return std::fprintf(stderr, "app_report: %s\n", reader.error().to_string().c_str()), 1;
  auto exp = reader->experiment_by_name("consumer");
  if (!exp) return std::fprintf(stderr, "app_report: %s\n", exp.error().to_string().c_str()), 1;
  std::ofstream out(argv[2]);
  mlruns::ReportOptions options;
  options.experiment_ids = {exp->experiment_id};
  options.order_by = {"metrics.loss ASC"};
  auto summary = mlruns::write_report(*reader, options, out);
  if (!summary) return std::fprintf(stderr, "app_report: %s\n", summary.error().to_string().c_str()), 1;
  std::printf("%zu runs, %zu charts\n", summary->runs, summary->charts);
  return summary->runs >= 1 && summary->charts == 1 ? 0 : 1;
}
