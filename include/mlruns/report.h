// Looking at a sweep without a server: a self-contained HTML report of the
// runs of one or more experiments, one metric chart as SVG or PNG, and a
// chart for the terminal (docs/cli.md: `mlruns report`, `mlruns plot`,
// `mlruns history --plot`).
//
//   mlruns::ReportOptions opt{.experiment_ids = {exp},
//                             .order_by = {"metrics.episode_reward_mean DESC"}};
//   std::ofstream out("report.html");
//   auto summary = mlruns::write_report(reader, opt, out);
//
// The page needs no network and no JavaScript: the runs table and every
// chart are rendered here, as HTML and inline SVG; a small inline script only
// adds sorting and highlighting. Every string from the tree (names, params,
// tags, paths) is escaped, and cut to kReportTextMax characters, so a
// hostile tree can neither inject markup nor blow the page up.
//
// Long histories are downsampled (downsample_min_max) to a budget of points
// per line and per page, so the page stays small however long the runs are,
// and the method is named on the page. Histories are read one run at a time
// and downsampled at once: memory holds the drawn points, not the histories.
//
// Thread safety: the functions are reentrant; write_report reads with the
// Reader's worker threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mlruns/reader.h"
#include "mlruns/status.h"
#include "mlruns/types.h"

namespace mlruns {

// What a chart puts on its x axis.
enum class XAxis {
  kStep,          // the step of each point
  kRelativeTime,  // seconds since the history's first point (MLflow's "relative time")
};

// Default budgets: at most this many points per line (a 1,000-step history is
// drawn at 250 buckets, extremes kept), and per page over all lines of all
// charts, so a report of 1,000 runs x 10 metrics stays within a few MB.
inline constexpr std::size_t kDefaultPointsPerLine = 500;
inline constexpr std::size_t kDefaultPointsPerPage = 200000;
// The fewest points a line is drawn with when a page budget is shared by many
// runs: first, lowest, highest, last.
inline constexpr std::size_t kMinPointsPerLine = 4;
// Charts drawn when ReportOptions::metrics is empty: the ranking metric first,
// then the other metrics in name order.
inline constexpr std::size_t kDefaultCharts = 6;
// Strings from the tree longer than this (in code points) are cut with "…"
// on the page; the page says how long the whole value is.
inline constexpr std::size_t kReportTextMax = 160;

struct ReportOptions {
  std::vector<std::string> experiment_ids{};  // at least one
  std::string filter{};                       // MLflow filter (docs/search.md); empty: every run
  // MLflow order_by keys, e.g. "metrics.loss ASC". The first one, if it names
  // a metric, is the ranking metric: the best run (get-top-run's choice among
  // FINISHED runs by its latest value) is highlighted, has its card, and the
  // params are plotted against it. Without one: newest runs first, no best run.
  std::vector<std::string> order_by{};
  // Metrics to chart, in order (keys, "metrics." optional); empty: the ranking
  // metric, then others in name order, kDefaultCharts in all. A key that no
  // run has is kNotFound.
  std::vector<std::string> metrics{};
  std::size_t max_runs = 1000;  // 1..kMaxSearchResults (search.h)
  ViewType view = ViewType::kActiveOnly;
  XAxis x_axis = XAxis::kStep;
  bool log_y = false;  // charts open on a log scale (the page can switch)
  std::size_t points_per_line = kDefaultPointsPerLine;  // >= kMinPointsPerLine
  std::size_t points_per_page = kDefaultPointsPerPage;  // >= kMinPointsPerLine
  std::string title{};  // empty: "mlruns report: <experiment names>"
  // When the report was made (ms since the epoch), shown in its header;
  // nullopt: now. Fixed values make the output reproducible.
  std::optional<std::int64_t> generated_at_ms{};
  // Called as the runs' histories are read: (runs done, runs in all). Called
  // from the reading threads, never concurrently; may be empty.
  std::function<void(std::size_t done, std::size_t total)> on_progress{};
};

struct ReportSummary {
  std::size_t runs = 0;           // runs in the table
  std::size_t more_runs = 0;      // runs that matched but were cut by max_runs
  std::size_t charts = 0;         // metric charts
  std::size_t points_read = 0;    // history points read
  std::size_t points_drawn = 0;   // points on the page (both scales)
  std::optional<std::string> best_run_id{};
};

// Writes the report as one HTML document to `out`. Errors: kInvalidArgument
// for a bad filter, order_by, metric key, max_runs or budget (the message
// names the value and the rule); kNotFound for an unknown experiment or a
// metric no run has; kIOError if `out` fails. Damaged parts of the tree are
// skipped with the Reader's warnings, as search does.
Result<ReportSummary> write_report(const Reader& reader, const ReportOptions& options, std::ostream& out);

// ---- charts ----------------------------------------------------------------

struct ChartPoint {
  double x = 0;
  double y = 0;  // NaN and +-inf are not drawn: the line has a gap there
};

struct ChartSeries {
  std::string label{};               // from the tree; escaped by every renderer
  std::vector<ChartPoint> points{};  // in x order
  bool highlight = false;          // drawn on top, thicker
};

struct Chart {
  std::string title{};
  std::string x_label{};  // "step", "time (s)"
  std::string y_label{};
  std::vector<ChartSeries> series{};
  bool log_y = false;  // non-positive values are not drawn on a log scale
};

// The points of a history to keep so that a line of at most `budget` points
// looks like the whole: the first and the last point, and in each of
// (budget - 2) / 2 buckets of consecutive points the lowest and the highest
// finite value (in their order), so no peak or dip is ever dropped. A bucket
// that holds a NaN or an infinity also keeps its first such point, so the
// drawn line breaks there as the full one would (at most one extra index per
// bucket). Returns indices into `y`, in increasing order; all of them when
// y.size() <= budget. budget < 4 counts as 4.
std::vector<std::size_t> downsample_min_max(std::span<const double> y, std::size_t budget);

// One or more metrics of one run as a Chart: every point of each history in
// x order (step, then timestamp), downsampled to `points_per_line`. kNotFound
// for an unknown run or a metric the run does not have.
Result<Chart> metric_chart(const Reader& reader, std::string_view run_id, const std::vector<std::string>& keys,
                           XAxis x_axis = XAxis::kStep, std::size_t points_per_line = kDefaultPointsPerLine);

// A standalone SVG document (width x height in CSS pixels) with axes, ticks,
// a legend and a <title> per line.
std::string chart_svg(const Chart& chart, int width = 720, int height = 360);

// The same chart as a PNG file (cairo), written atomically-enough for a
// plot: to `path` directly. kIOError if cairo cannot write it.
Status write_chart_png(const Chart& chart, const std::string& path, int width = 1440, int height = 720);

struct TerminalChartOptions {
  int width = 80;       // columns, the y labels included; at least 30
  int height = 16;      // rows of the plot area; at least 4
  bool unicode = true;  // braille dots (2x4 per cell) and box lines; false: ASCII only
  bool color = false;   // ANSI colours per series (without, several series get marks * + o x instead of braille)
};

// Draws the chart as text: a y axis with labels, the plot, an x axis and a
// legend (labels with control characters escaped and cut to the width).
void write_terminal_chart(std::ostream& out, const Chart& chart, const TerminalChartOptions& options);

}  // namespace mlruns
