// Chart geometry shared by the SVG, PNG and terminal renderers and by the
// report: scales and ticks, the SVG plot writer, colours. Internal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mlruns/report.h"
#include "report/html.h"

namespace mlruns::detail {

// A linear or log10 axis over [lo, hi] (hi > lo; for log, lo > 0).
struct Scale {
  double lo = 0;
  double hi = 1;
  bool log = false;
  bool integer = false;  // ticks at whole numbers only (steps)

  // Where v falls, 0 at lo and 1 at hi; NaN if v cannot be drawn (NaN, +-inf,
  // and v <= 0 on a log scale).
  double unit(double v) const;
  // About `target` round values inside [lo, hi]: 1, 2, 5 x 10^k steps; on a
  // log scale the powers of ten (with 2 and 5 between them over few decades).
  std::vector<double> ticks(int target) const;
  // The value halfway up the axis (geometric mean on a log scale), computed
  // without overflow.
  double middle() const;
};

// The scale of the drawable values in [min, max] (as found in the data; no
// data: min > max), widened to round tick values; a single value gets room
// around it. The ends are always finite (lo < hi; for log, 0 < lo), for any
// finite min and max: a log scale is found in log space (whole decades, or the
// data's own extreme beyond the normal doubles), a linear one never widens
// past the largest double.
Scale make_scale(double min, double max, bool log, bool nice = true, bool integer = false);

// What a line's points leave out, e.g. "not drawn: 1 NaN/inf, 2 \u2264 0 on
// the log scale" ("<= 0" when not unicode); empty when every point can be
// drawn. (Counts the line's points: after downsampling, if any.)
std::string not_drawn_note(std::span<const ChartPoint> points, bool log, bool unicode = true);

// Range of the drawable values of some points (for the given axis kind).
struct Extent {
  double min = 1;
  double max = 0;  // min > max: nothing drawable
  void add(double v, bool log);
  bool empty() const { return min > max; }
};

// Short tick text: up to 4 significant digits, 1e-05, 250, 0.0005.
std::string tick_label(double v);

// For a time axis (seconds): the unit that keeps tick labels short, as
// (divisor, name): (1, "s"), (60, "min"), (3600, "h").
std::pair<double, const char*> time_unit(double max_seconds);

// A run's colour: 10 well separated hues (Tableau 10); muted lines share a grey.
const char* palette_color(std::size_t i);
inline constexpr const char* kMutedColor = "#8c99a6";
inline constexpr const char* kBestColor = "#d62728";
// Viridis at t in [0, 1] as "#rrggbb" (for params against the metric).
std::string viridis(double t);

// One line of a plot.
struct PlotLine {
  std::span<const ChartPoint> points;
  std::string_view id;     // data-run (the run id), may be empty
  std::string_view title;  // hover text (escaped)
  const char* color = kMutedColor;
  bool best = false;   // thicker, on top
  bool muted = false;  // thin, translucent
};

struct PlotSpec {
  int width = 640;
  int height = 320;
  std::string_view x_label;
  std::string_view y_label;
  bool time_axis = false;  // x in seconds, shown in s/min/h
  bool log_y = false;
  std::vector<PlotLine> lines;  // drawn in order (put the best last)
  std::string_view svg_class;  // class of the <svg>, e.g. "lin" or "log"
  std::string_view aria_label;
  bool standalone = false;  // an SVG document of its own (xmlns, fonts, background)
  bool legend = false;      // a legend of the lines' titles under the plot
  std::string_view title;   // standalone charts: a title above the plot
};

// The plot area inside the SVG (margins for ticks and labels).
struct Frame {
  double left = 0, top = 0, width = 0, height = 0;
};
Frame plot_frame(int width, int height, bool title);

// Writes <svg ...>...</svg>: frame, grid, ticks, axis labels, one <path> per
// line (class "run", "best" or "muted"; data-run; <title>), in a <g
// class="plot"> whose data-x0/x1/y0/y1 (the scales' ends, y as values even
// on a log scale), data-log and data-left/top/width/height let a reader map
// path coordinates back to values. Returns the number of points drawn.
std::size_t write_svg_plot(Html& html, const PlotSpec& spec);

// Scales of a plot: x over every line, y over every line's drawable values.
void plot_scales(const PlotSpec& spec, Scale& x, Scale& y, double& x_div);

}  // namespace mlruns::detail

namespace mlruns::detail {

// A point of a metric's history, as read.
struct HistoryPoint {
  std::int64_t step = 0;
  std::int64_t timestamp = 0;  // ms
  double value = 0;
};
// The chart points of a history (file order) that a line draws: sorted in x
// order (by step, then timestamp, for kStep; by timestamp, then step, for
// kRelativeTime, x in seconds since the first point), then the ones
// downsample_min_max keeps within `budget`. Sorts `points` in place; `y` is
// scratch (reused between calls).
std::vector<ChartPoint> chart_line(std::vector<HistoryPoint>& points, XAxis x_axis, std::size_t budget,
                                   std::vector<double>& y);
// A Chart as a PlotSpec of its own document (one colour per series, a legend);
// the spec's lines point into `chart`.
PlotSpec standalone_spec(const Chart& chart, int width, int height);

}  // namespace mlruns::detail
