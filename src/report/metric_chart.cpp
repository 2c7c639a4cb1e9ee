// A run's metric histories as a Chart (report.h: metric_chart), and the
// standalone SVG of a chart (chart_svg).
#include <algorithm>
#include <sstream>

#include "mlruns/report.h"
#include "report/chart.h"

namespace mlruns {
namespace detail {

std::vector<ChartPoint> chart_line(std::vector<HistoryPoint>& pts, XAxis x_axis, std::size_t budget,
                                   std::vector<double>& y) {
  // A metric file is nearly always in order already: then nothing moves.
  auto by_step = [](const HistoryPoint& a, const HistoryPoint& b) {
    return a.step != b.step ? a.step < b.step : a.timestamp < b.timestamp;
  };
  auto by_time = [](const HistoryPoint& a, const HistoryPoint& b) {
    return a.timestamp != b.timestamp ? a.timestamp < b.timestamp : a.step < b.step;
  };
  if (x_axis == XAxis::kStep) {
    if (!std::is_sorted(pts.begin(), pts.end(), by_step)) std::stable_sort(pts.begin(), pts.end(), by_step);
  } else if (!std::is_sorted(pts.begin(), pts.end(), by_time)) {
    std::stable_sort(pts.begin(), pts.end(), by_time);
  }
  const std::int64_t t0 = pts.empty() ? 0 : pts.front().timestamp;
  auto point = [&](const HistoryPoint& p) {
    return ChartPoint{x_axis == XAxis::kStep ? static_cast<double>(p.step)
                                             : static_cast<double>(p.timestamp - t0) / 1000.0,
                      p.value};
  };
  std::vector<ChartPoint> out;
  if (pts.size() <= std::max(budget, kMinPointsPerLine)) {
    out.reserve(pts.size());
    for (const HistoryPoint& p : pts) out.push_back(point(p));
    return out;
  }
  y.resize(pts.size());
  for (std::size_t i = 0; i < pts.size(); ++i) y[i] = pts[i].value;
  const std::vector<std::size_t> kept = downsample_min_max(y, budget);
  out.reserve(kept.size());
  for (std::size_t i : kept) out.push_back(point(pts[i]));
  return out;
}

}  // namespace detail

Result<Chart> metric_chart(const Reader& reader, std::string_view run_id, const std::vector<std::string>& keys,
                           XAxis x_axis, std::size_t points_per_line) {
  auto run = reader.run(run_id);
  if (!run) return fail(run.error());
  if (keys.empty()) return fail(Status::invalid_argument("metric_chart", "give at least one metric key"));
  Chart chart;
  chart.title = run->info.run_name.empty() ? run->info.run_id : run->info.run_name;
  chart.x_label = x_axis == XAxis::kStep ? "step" : "time";
  for (const std::string& given : keys) {
    std::string_view key = given;
    if (key.starts_with("metrics.")) key.remove_prefix(8);
    if (run->metrics.find(std::string(key)) == run->metrics.end())
      return fail(Status::not_found("metric '" + std::string(key) + "' of run " + run->info.run_id,
                                    "the run has no such metric"));
    auto history = reader.metric_history(run->info.run_id, key);
    if (!history) return fail(history.error());
    ChartSeries s;
    s.label = std::string(key);
    std::vector<detail::HistoryPoint> points;
    points.reserve(history->size());
    for (const Metric& m : *history) points.push_back({m.step, m.timestamp, m.value});
    std::vector<double> scratch;
    s.points = detail::chart_line(points, x_axis, points_per_line, scratch);
    chart.series.push_back(std::move(s));
  }
  chart.y_label = keys.size() == 1 ? chart.series.front().label : "value";
  return chart;
}

namespace detail {

// The lines of a standalone chart: one colour per series, titles as labels.
PlotSpec standalone_spec(const Chart& chart, int width, int height) {
  PlotSpec spec;
  spec.width = width;
  spec.height = height;
  spec.x_label = chart.x_label;
  spec.y_label = chart.y_label;
  spec.time_axis = chart.x_label == "time";
  spec.log_y = chart.log_y;
  spec.aria_label = chart.title;
  spec.title = chart.title;
  spec.standalone = true;
  spec.legend = true;
  for (std::size_t i = 0; i < chart.series.size(); ++i) {
    const ChartSeries& s = chart.series[i];
    PlotLine l;
    l.points = s.points;
    l.title = s.label;
    l.color = chart.series.size() == 1 ? palette_color(0) : palette_color(i);
    l.best = s.highlight;
    spec.lines.push_back(l);
  }
  return spec;
}

}  // namespace detail

std::string chart_svg(const Chart& chart, int width, int height) {
  std::ostringstream out;
  {
    detail::Html html(out);
    detail::write_svg_plot(html, detail::standalone_spec(chart, width, height));
    html.raw("\n");
  }
  return out.str();
}

}  // namespace mlruns
