// The report's page (report_model.h): header, best run, one chart per
// metric, params against the ranking metric, the runs table. Every string
// from the tree goes through Html::text (escape_html); markup is literals.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <map>
#include <set>
#include <string>

#include "report/chart.h"
#include "report/html.h"
#include "report/report_assets.h"
#include "report/report_model.h"

#ifndef MLRUNS_VERSION_STRING
#define MLRUNS_VERSION_STRING "unknown"
#endif

namespace mlruns::detail {
namespace {

constexpr std::size_t kMaxParamColumns = 12;
constexpr std::size_t kMaxMetricColumns = 12;
constexpr std::size_t kMaxParcoordAxes = 8;
constexpr std::size_t kMaxCardItems = 50;

std::string utc(std::int64_t ms, bool seconds) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  if (gmtime_r(&secs, &tm) == nullptr) return std::to_string(ms);
  char buf[32];
  const std::size_t n = std::strftime(buf, sizeof buf, seconds ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M", &tm);
  return std::string(buf, n);
}

std::string duration_text(std::int64_t ms) {
  if (ms < 0) return "";
  if (ms < 60'000) return format_fixed(static_cast<double>(ms) / 1000.0, ms < 10'000 ? 1 : 0) + " s";
  const std::int64_t s = ms / 1000;
  char buf[48];
  if (s < 3600) std::snprintf(buf, sizeof buf, "%lldm %02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  else std::snprintf(buf, sizeof buf, "%lldh %02lldm", static_cast<long long>(s / 3600), static_cast<long long>(s / 60 % 60));
  return buf;
}

std::string bytes_text(std::uint64_t b) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return (u == 0 ? std::to_string(b) : format_fixed(v, 1)) + " " + kUnits[u];
}

std::string run_label(const Run& r) { return r.info.run_name.empty() ? r.info.run_id : r.info.run_name; }

// Tree text cut for the page; a cut value says how long it was.
void cell_text(Html& h, std::string_view s) {
  const std::size_t n = count_code_points(s);
  if (n <= kReportTextMax) {
    h.text(s);
    return;
  }
  h.raw("<span").attr("title", "cut: " + std::to_string(n) + " characters in all").raw(">")
      .clipped(s, kReportTextMax).raw("</span>");
}

void swatch(Html& h, const char* color) {
  h.raw("<svg class=\"swatch-svg\" width=\"10\" height=\"10\" aria-hidden=\"true\"><rect width=\"10\" height=\"10\" rx=\"2\"")
      .attr("fill", color).raw("/></svg> ");
}

void status_badge(Html& h, RunStatus s) {
  const std::string name(to_string(s));
  h.raw("<span").attr("class", "badge s-" + name).raw(">").text(name).raw("</span>");
}

// ---- header -----------------------------------------------------------------

void write_header(Html& h, const ReportModel& m) {
  const ReportOptions& o = m.options;
  h.raw("<header><h1>").clipped(o.title.empty() ? "mlruns report: " + m.experiment_names : o.title, 200)
      .raw("</h1><p class=\"sub\">").integer(static_cast<std::int64_t>(m.runs.size()))
      .raw(m.runs.size() == 1 ? Markup(" run") : Markup(" runs"));
  if (m.more_runs > 0) {
    h.raw(" shown of ").integer(static_cast<std::int64_t>(m.runs.size() + m.more_runs))
        .raw(m.more_than_counted ? Markup("+") : Markup("")).raw(" that match (raise --max to see more)");
  }
  h.raw(" · ").integer(static_cast<std::int64_t>(m.charts.size())).raw(" metric charts</p><dl class=\"meta\">");

  h.raw("<dt>Experiments</dt><dd>");
  for (std::size_t i = 0; i < m.experiments.size(); ++i) {
    if (i) h.raw(", ");
    h.raw("<b>").clipped(m.experiments[i].name, kReportTextMax).raw("</b> <code>").text(m.experiments[i].experiment_id)
        .raw("</code>");
  }
  h.raw("</dd><dt>Runs by status</dt><dd>");
  if (m.status_counts.empty()) h.raw("<span class=\"note\">no run matches</span>");
  for (const auto& [status, n] : m.status_counts) {
    h.raw("<span").attr("class", "badge s-" + status).raw(">").integer(static_cast<std::int64_t>(n)).raw(" ")
        .text(status).raw("</span> ");
  }
  h.raw("</dd><dt>Filter</dt><dd>");
  if (o.filter.empty()) h.raw("<span class=\"note\">none: every run</span>");
  else h.raw("<code>").clipped(o.filter, 1000).raw("</code>");
  h.raw("</dd><dt>Order</dt><dd>");
  if (o.order_by.empty()) h.raw("<span class=\"note\">newest first</span>");
  for (std::size_t i = 0; i < o.order_by.size(); ++i) {
    if (i) h.raw(", ");
    h.raw("<code>").clipped(o.order_by[i], 200).raw("</code>");
  }
  h.raw("</dd><dt>Best run</dt><dd>");
  if (m.rank_key.empty()) {
    h.raw("<span class=\"note\">no ranking metric: order by a metric (e.g. --order-by \"metrics.loss ASC\") to pick one</span>");
  } else {
    h.raw("<code>metrics.").text(m.rank_key).raw("</code>, ")
        .raw(m.ascending ? Markup("lower") : Markup("higher"))
        .raw(" is better: the latest value, FINISHED runs only (as <code>mlruns get-top-run</code>)");
  }
  h.raw("</dd>");
  if (!m.sweeps.empty()) {
    h.raw("<dt>Sweeps</dt><dd>");
    for (std::size_t i = 0; i < m.sweeps.size() && i < 20; ++i) {
      if (i) h.raw("; ");
      h.raw("<b>").clipped(m.sweeps[i].first, 80).raw("</b> ").text(m.sweeps[i].second);
    }
    if (m.sweeps.size() > 20) h.raw("; …");
    h.raw("</dd>");
  }
  std::size_t constant = 0;
  for (const ParamColumn& c : m.params) constant += !c.varies;
  if (constant > 0 && m.runs.size() > 1) {
    h.raw("<dt>Same in every run</dt><dd>");
    std::size_t shown = 0;
    for (const ParamColumn& c : m.params) {
      if (c.varies) continue;
      if (shown == 30) {
        h.raw(", …");
        break;
      }
      if (shown++) h.raw(", ");
      h.raw("<code>").clipped(c.key, 60).raw("</code> = ").clipped(c.constant_value, 60);
    }
    h.raw("</dd>");
  }
  h.raw("<dt>Tree</dt><dd><code>").clipped(m.root, 400).raw("</code></dd><dt>Generated</dt><dd>")
      .text(utc(m.generated_at_ms, true)).raw(" UTC by mlruns " MLRUNS_VERSION_STRING "</dd></dl></header>");
}

// ---- the best run -------------------------------------------------------------

void write_best(Html& h, const ReportModel& m) {
  h.raw("<section id=\"best\"><h2>Best run</h2>");
  if (m.rank_key.empty()) {
    h.raw("<p class=\"note\">No ranking metric, so no best run: give <code>--order-by \"metrics.KEY DESC\"</code> "
          "(or <code>ASC</code> when lower is better).</p></section>");
    return;
  }
  if (!m.best_run) {
    h.raw("<p class=\"note\">No ")
        .raw(m.rank_query.finished_only ? Markup("FINISHED ") : Markup(""))
        .raw("run has a value for <code>metrics.").text(m.rank_key).raw("</code>");
    if (m.ranking) h.raw(" (").integer(static_cast<std::int64_t>(m.ranking->considered)).raw(" considered)");
    h.raw(".</p></section>");
    return;
  }
  const Run& r = *m.best_run;
  h.raw("<div class=\"card\"").attr("data-run", r.info.run_id).raw("><h3>");
  swatch(h, kBestColor);
  cell_text(h, run_label(r));
  h.raw(" <code>").text(r.info.run_id).raw("</code> ");
  status_badge(h, r.info.status);
  h.raw("</h3><pre class=\"why mono\">");
  for (const std::string& line : m.explanation) h.text(clip_text(line, 300)).raw("\n");
  h.raw("</pre>");
  if (!m.best) h.raw("<p class=\"note\">This run is not among the runs of the table (see --max and the filter).</p>");
  h.raw("<div class=\"cols\"><div><h3>Params</h3><table class=\"kv\">");
  std::size_t i = 0;
  for (const auto& [k, v] : r.params) {
    if (i++ == kMaxCardItems) {
      h.raw("<tr><td>…</td><td>").integer(static_cast<std::int64_t>(r.params.size() - kMaxCardItems)).raw(" more</td></tr>");
      break;
    }
    h.raw("<tr><td>").clipped(k, 60).raw("</td><td>");
    cell_text(h, v);
    h.raw("</td></tr>");
  }
  if (r.params.empty()) h.raw("<tr><td>none</td></tr>");
  h.raw("</table></div><div><h3>Latest metrics</h3><table class=\"kv\">");
  i = 0;
  for (const auto& [k, v] : r.metrics) {
    if (i++ == kMaxCardItems) {
      h.raw("<tr><td>…</td><td>").integer(static_cast<std::int64_t>(r.metrics.size() - kMaxCardItems)).raw(" more</td></tr>");
      break;
    }
    h.raw("<tr><td>").clipped(k, 60).raw("</td><td class=\"mono\">").text(python_repr(v.value))
        .raw(" <span class=\"note\">step ").integer(v.step).raw("</span></td></tr>");
  }
  h.raw("</table></div><div><h3>Artifacts</h3>");
  if (m.best_artifacts_total == 0) {
    h.raw("<p class=\"note\">none</p>");
  } else {
    h.raw("<p class=\"note\">").integer(static_cast<std::int64_t>(m.best_artifacts_total))
        .raw(m.best_artifacts_total == 1 ? Markup(" file, ") : Markup(" files, ")).text(bytes_text(m.best_artifacts_bytes))
        .raw("; <code>mlruns get-top-run</code> downloads them</p><ul class=\"files mono\">");
    for (const ArtifactEntry& f : m.best_artifacts) {
      h.raw("<li>").clipped(f.path, 200).raw(" <span class=\"note\">").text(bytes_text(f.size)).raw("</span></li>");
    }
    if (m.best_artifacts_total > m.best_artifacts.size()) h.raw("<li>…</li>");
    h.raw("</ul>");
  }
  h.raw("</div></div></div></section>");
}

// ---- metric charts ---------------------------------------------------------------

std::size_t write_charts(Html& h, const ReportModel& m) {
  h.raw("<section id=\"charts\"><h2>Metrics</h2>");
  if (m.charts.empty()) {
    h.raw("<p class=\"note\">No run of the report has a metric.</p></section>");
    return 0;
  }
  h.raw("<p class=\"note\">Every run's history, x = ")
      .raw(m.options.x_axis == XAxis::kStep ? Markup("step") : Markup("time since the run's first point"))
      .raw(". Downsampling: <b>min/max per bucket</b>: a line of more than its budget of points keeps its first "
           "and last point and the lowest and highest point of each bucket of consecutive points, so no peak or dip "
           "is dropped. Budget per line: ")
      .integer(static_cast<std::int64_t>(m.line_budget_top)).raw(" points");
  if (m.runs.size() > 10)
    h.raw(" for coloured runs, ").integer(static_cast<std::int64_t>(m.line_budget_other)).raw(" for grey ones");
  h.raw(". NaN and ±inf are never drawn (the line breaks); a log scale leaves out values ≤ 0.");
  if (m.best) h.raw(" The best run is drawn thick in red.");
  h.raw("</p><div class=\"charts\">");
  std::size_t drawn = 0;
  // Draw order: grey lines, coloured ones, the best run last (on top).
  std::vector<std::size_t> order(m.runs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    auto rank = [&](std::size_t i) { return m.best && *m.best == i ? 2 : m.muted[i] ? 0 : 1; };
    return rank(a) < rank(b);
  });
  std::vector<std::string> titles(m.runs.size());
  for (std::size_t c = 0; c < m.charts.size(); ++c) {
    const ChartData& chart = m.charts[c];
    const std::string id = std::to_string(c);
    const bool has_log = chart.any_positive;
    h.raw("<figure class=\"chart\"").attr("id", "chart-" + id).attr("data-metric", chart.key).raw(">");
    if (has_log) {
      h.raw("<input type=\"checkbox\" class=\"logtoggle\"").attr("id", "log-" + id);
      if (m.options.log_y) h.raw(" checked");
      h.raw(">");
    }
    h.raw("<figcaption><h3>").clipped(chart.key, 120).raw("</h3><span class=\"note\">")
        .integer(static_cast<std::int64_t>(chart.runs_with)).raw(chart.runs_with == 1 ? Markup(" run · ") : Markup(" runs · "))
        .integer(static_cast<std::int64_t>(chart.points_drawn)).raw(" of ").integer(static_cast<std::int64_t>(chart.points_read))
        .raw(" points drawn");
    if (chart.non_finite) h.raw(" · ").integer(static_cast<std::int64_t>(chart.non_finite)).raw(" NaN/inf not drawn");
    h.raw("</span>");
    if (has_log) {
      h.raw("<label class=\"scale\"").attr("for", "log-" + id)
          .raw("><span class=\"off\">y: linear · switch to log</span><span class=\"on\">y: log · switch to linear</span></label>");
    } else {
      h.raw("<span class=\"scale\">y: linear (no positive values for a log scale)</span>");
    }
    h.raw("</figcaption>");
    for (std::size_t i = 0; i < m.runs.size(); ++i) {
      auto it = m.runs[i].metrics.find(chart.key);
      titles[i] = run_label(m.runs[i]);
      if (it != m.runs[i].metrics.end())
        titles[i] += ": " + python_repr(it->second.value) + " at step " + std::to_string(it->second.step);
      titles[i] = clip_text(titles[i], kReportTextMax + 60);
    }
    for (bool log : {false, true}) {
      if (log && !has_log) break;
      PlotSpec spec;
      spec.width = 640;
      spec.height = 300;
      spec.x_label = m.options.x_axis == XAxis::kStep ? "step" : "time";
      spec.time_axis = m.options.x_axis == XAxis::kRelativeTime;
      spec.y_label = chart.key;
      spec.log_y = log;
      spec.svg_class = log ? "log" : "lin";
      const std::string aria = chart.key + (log ? " (log scale)" : "") + " of " + std::to_string(chart.runs_with) + " runs";
      spec.aria_label = aria;
      for (std::size_t i : order) {
        if (chart.lines[i].empty()) continue;
        PlotLine l;
        l.points = chart.lines[i];
        l.id = m.runs[i].info.run_id;
        l.title = titles[i];
        l.color = m.colors[i];
        l.best = m.best && *m.best == i;
        l.muted = m.muted[i];
        spec.lines.push_back(l);
      }
      drawn += write_svg_plot(h, spec);
    }
    // legend: the coloured runs, best first
    h.raw("<ul class=\"legend\">");
    std::size_t grey = 0;
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      const std::size_t i = *it;
      if (chart.lines[i].empty()) continue;
      if (m.muted[i]) {
        ++grey;
        continue;
      }
      h.raw("<li").attr("data-run", m.runs[i].info.run_id).raw(">");
      swatch(h, m.colors[i]);
      h.clipped(run_label(m.runs[i]), 40).raw("</li>");
    }
    if (grey) h.raw("<li class=\"note\">and ").integer(static_cast<std::int64_t>(grey)).raw(" more runs in grey</li>");
    h.raw("</ul></figure>");
  }
  h.raw("</div></section>");
  return drawn;
}

// ---- params against the ranking metric --------------------------------------------

// A param as a number, locale-free (strtod would follow the program's locale).
bool parse_number(const std::string& s, double& out) {
  if (s.empty()) return false;
  const char* b = s.data();
  auto r = std::from_chars(b, b + s.size(), out);
  return r.ec == std::errc() && r.ptr == b + s.size() && std::isfinite(out);
}

struct PcAxis {
  std::string key;
  bool numeric = true;
  Scale scale;
  std::vector<std::string> categories;  // sorted, when !numeric
  std::vector<double> pos;              // per run: 0..1 from the bottom, NaN if missing
};

void write_parcoords(Html& h, const ReportModel& m) {
  if (m.rank_key.empty() || m.runs.size() < 2) return;
  // the metric axis: the runs with a value are the ones drawn
  PcAxis metric;
  metric.key = "metrics." + m.rank_key;
  Extent e;
  for (const Run& r : m.runs) {
    auto it = r.metrics.find(m.rank_key);
    if (it != r.metrics.end()) e.add(it->second.value, false);
  }
  metric.scale = make_scale(e.min, e.max, false);
  metric.pos.assign(m.runs.size(), std::nan(""));
  std::size_t with = 0;
  for (std::size_t i = 0; i < m.runs.size(); ++i) {
    auto it = m.runs[i].metrics.find(m.rank_key);
    if (it != m.runs[i].metrics.end()) metric.pos[i] = metric.scale.unit(it->second.value);
    with += !std::isnan(metric.pos[i]);
  }
  const std::size_t without = m.runs.size() - with;

  // a param axis for each param that differs between those runs and that
  // at least half of them have (a sweep parent's own params are not axes)
  std::vector<PcAxis> axes;
  for (const ParamColumn& c : m.params) {
    if (axes.size() == kMaxParcoordAxes) break;
    PcAxis a;
    a.key = c.key;
    std::set<std::string> values;
    std::size_t present = 0;
    Extent ex;
    for (std::size_t i = 0; i < m.runs.size(); ++i) {
      if (std::isnan(metric.pos[i])) continue;
      auto it = m.runs[i].params.find(c.key);
      if (it == m.runs[i].params.end()) continue;
      ++present;
      double v = 0;
      if (a.numeric && !parse_number(it->second, v)) a.numeric = false;
      if (a.numeric) ex.add(v, false);
      if (values.size() <= 64) values.insert(it->second);
    }
    if (values.size() < 2 || 2 * present < with) continue;
    if (!a.numeric && values.size() > 64) continue;  // free text, not a hyperparameter
    if (a.numeric) {
      const bool log = ex.min > 0 && ex.max / ex.min >= 100;
      a.scale = make_scale(ex.min, ex.max, log, !log);
    } else {
      a.categories.assign(values.begin(), values.end());
    }
    a.pos.assign(m.runs.size(), std::nan(""));
    for (std::size_t i = 0; i < m.runs.size(); ++i) {
      auto it = m.runs[i].params.find(c.key);
      if (it == m.runs[i].params.end()) continue;
      if (a.numeric) {
        double v = 0;
        if (parse_number(it->second, v)) a.pos[i] = a.scale.unit(v);
      } else {
        auto at = std::lower_bound(a.categories.begin(), a.categories.end(), it->second) - a.categories.begin();
        if (static_cast<std::size_t>(at) < a.categories.size() && a.categories[static_cast<std::size_t>(at)] == it->second)
          a.pos[i] = a.categories.size() == 1 ? 0.5 : static_cast<double>(at) / static_cast<double>(a.categories.size() - 1);
      }
    }
    axes.push_back(std::move(a));
  }
  h.raw("<section id=\"params\"><h2>Params against <code>metrics.").text(m.rank_key).raw("</code></h2>");
  if (axes.empty()) {
    h.raw("<p class=\"note\">No param differs between the runs that have the metric.</p></section>");
    return;
  }
  axes.push_back(std::move(metric));

  const double width = 960, height = 340, top = 40, bottom = 300, left = 90, right = 870;
  const double step = axes.size() > 1 ? (right - left) / static_cast<double>(axes.size() - 1) : 0;
  h.raw("<p class=\"note\">One line per run, through its value on each param axis (numbers on a linear or, over "
        "two decades or more, a log axis; other values in name order) to its latest <code>metrics.")
      .text(m.rank_key).raw("</code>. Colour: the metric (yellow is ")
      .raw(m.ascending ? Markup("lower") : Markup("higher")).raw("); the best run in red.");
  if (without) h.raw(" ").integer(static_cast<std::int64_t>(without)).raw(" runs without a value are left out.");
  h.raw("</p><div class=\"pc\"><svg viewBox=\"0 0 960 340\" role=\"img\"")
      .attr("aria-label", "params against metrics." + m.rank_key).raw(">");
  (void)width;
  (void)height;
  auto y_of = [&](double unit) { return bottom - unit * (bottom - top); };
  // lines: worst first so the good ones are on top, the best last
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < m.runs.size(); ++i)
    if (!std::isnan(axes.back().pos[i])) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const bool ba = m.best && *m.best == a, bb = m.best && *m.best == b;
    if (ba != bb) return bb;
    const double va = axes.back().pos[a], vb = axes.back().pos[b];
    return m.ascending ? va > vb : va < vb;
  });
  h.raw("<g class=\"lines\" stroke-linejoin=\"round\">");
  for (std::size_t i : order) {
    std::string d;
    bool pen = false;
    for (std::size_t a = 0; a < axes.size(); ++a) {
      const double u = axes[a].pos[i];
      if (std::isnan(u)) {
        pen = false;
        continue;
      }
      d += pen ? " " : (d.empty() ? "M" : " M");
      d += format_fixed(left + step * static_cast<double>(a), 1) + " " + format_fixed(y_of(u), 1);
      pen = true;
    }
    const bool best = m.best && *m.best == i;
    const double t = axes.back().pos[i];
    auto it = m.runs[i].metrics.find(m.rank_key);
    h.raw("<path").attr("class", best ? "run best" : "run").attr("data-run", m.runs[i].info.run_id)
        .attr("stroke", best ? std::string(kBestColor) : viridis(m.ascending ? 1 - t : t)).attr("d", d).raw("><title>")
        .text(clip_text(run_label(m.runs[i]), kReportTextMax) + ": " + python_repr(it->second.value)).raw("</title></path>");
  }
  h.raw("</g><g class=\"axes\" font-size=\"11\" fill=\"#374151\">");
  for (std::size_t a = 0; a < axes.size(); ++a) {
    const PcAxis& ax = axes[a];
    const double x = left + step * static_cast<double>(a);
    h.raw("<line stroke=\"#6b7280\"").attr_num("x1", x).attr_num("x2", x).attr_num("y1", top).attr_num("y2", bottom).raw("/>");
    h.raw("<text text-anchor=\"middle\" font-weight=\"600\"").attr_num("x", x).attr_num("y", top - 16).raw(">")
        .clipped(ax.key, 22).raw("<title>").text(clip_text(ax.key, kReportTextMax)).raw("</title></text>");
    if (ax.numeric) {
      for (double t : ax.scale.ticks(4)) {
        const double u = ax.scale.unit(t);
        if (!(u >= -1e-9 && u <= 1 + 1e-9)) continue;
        h.raw("<text text-anchor=\"end\" dominant-baseline=\"middle\"").attr_num("x", x - 5).attr_num("y", y_of(u))
            .raw(">").text(tick_label(t)).raw("</text>");
      }
    } else {
      const std::size_t every = std::max<std::size_t>(1, (ax.categories.size() + 9) / 10);
      for (std::size_t k = 0; k < ax.categories.size(); k += every) {
        const double u = ax.categories.size() == 1 ? 0.5 : static_cast<double>(k) / static_cast<double>(ax.categories.size() - 1);
        h.raw("<text text-anchor=\"end\" dominant-baseline=\"middle\"").attr_num("x", x - 5).attr_num("y", y_of(u))
            .raw(">").clipped(ax.categories[k], 14).raw("</text>");
      }
    }
  }
  h.raw("</g></svg></div></section>");
}

// ---- the runs table -------------------------------------------------------------------

void write_table(Html& h, const ReportModel& m) {
  std::vector<const ParamColumn*> params;
  std::size_t params_left = 0;
  for (const ParamColumn& c : m.params) {
    if (!c.varies && m.runs.size() > 1) continue;  // in the header
    if (params.size() < kMaxParamColumns) params.push_back(&c);
    else ++params_left;
  }
  const std::size_t metrics_shown = std::min(kMaxMetricColumns, m.metric_keys.size());
  h.raw("<section id=\"runs\"><h2>Runs</h2><p class=\"note\">In the order of the search");
  if (!m.sweeps.empty()) h.raw(", the runs of each sweep under their parent");
  h.raw(". Click a column to sort (# restores this order); hover a run to find its lines in the charts.");
  if (params_left || m.metric_keys.size() > metrics_shown) {
    h.raw(" Not shown: ").integer(static_cast<std::int64_t>(params_left)).raw(" params and ")
        .integer(static_cast<std::int64_t>(m.metric_keys.size() - metrics_shown))
        .raw(" metrics (<code>mlruns runs --csv</code> lists everything).");
  }
  h.raw("</p><div class=\"tablewrap\"><table class=\"runs\"><thead><tr><th colspan=\"5\">Run</th>");
  if (!params.empty()) h.raw("<th").attr_int("colspan", static_cast<std::int64_t>(params.size())).raw(">Params</th>");
  if (metrics_shown) h.raw("<th").attr_int("colspan", static_cast<std::int64_t>(metrics_shown)).raw(">Metrics (latest value)</th>");
  h.raw("</tr><tr><th class=\"num\">#</th><th>name</th><th>status</th><th>start (UTC)</th><th class=\"num\">duration</th>");
  for (const ParamColumn* c : params) h.raw("<th>").clipped(c->key, 40).raw("</th>");
  for (std::size_t k = 0; k < metrics_shown; ++k) {
    h.raw("<th class=\"num\"").attr("data-key", m.metric_keys[k]).raw(">").clipped(m.metric_keys[k], 40);
    if (m.metric_keys[k] == m.rank_key) h.raw(m.ascending ? Markup(" ↓") : Markup(" ↑"));
    h.raw("</th>");
  }
  h.raw("</tr></thead><tbody>");
  const std::size_t ncols = 5 + params.size() + metrics_shown;
  std::size_t pos = 0;
  for (const TableRow& row : m.rows) {
    if (!row.run) {
      h.raw("<tr class=\"group\"").attr("data-group", row.group_id).raw("><td").attr_int("colspan", static_cast<std::int64_t>(ncols))
          .raw(">sweep <b>").clipped(row.header_text, 80).raw("</b> <code>").text(row.group_id)
          .raw("</code> <span class=\"note\">(the parent run is not in this report)</span></td></tr>");
      continue;
    }
    const std::size_t i = *row.run;
    const Run& r = m.runs[i];
    ++pos;
    std::string cls = row.child ? "child" : row.parent ? "parent" : "";
    if (m.best && *m.best == i) cls += cls.empty() ? "best" : " best";
    h.raw("<tr").attr("data-run", r.info.run_id);
    if (!cls.empty()) h.attr("class", cls);
    if (!row.group_id.empty()) h.attr("data-group", row.group_id);
    h.raw("><td class=\"num\"").attr_int("data-v", static_cast<std::int64_t>(pos)).raw(">").integer(static_cast<std::int64_t>(pos))
        .raw("</td><td class=\"name\"").attr("data-v", run_label(r)).raw(">");
    swatch(h, m.colors[i]);
    cell_text(h, run_label(r));
    h.raw("</td><td").attr("data-v", to_string(r.info.status)).raw(">");
    status_badge(h, r.info.status);
    h.raw("</td><td").attr_int("data-v", r.info.start_time).raw(">").text(utc(r.info.start_time, false)).raw("</td>");
    if (r.info.end_time) {
      const std::int64_t d = *r.info.end_time - r.info.start_time;
      h.raw("<td class=\"num\"").attr_int("data-v", d).raw(">").text(duration_text(d)).raw("</td>");
    } else {
      h.raw("<td class=\"num na\" data-v=\"\">–</td>");
    }
    for (const ParamColumn* c : params) {
      auto it = r.params.find(c->key);
      if (it == r.params.end()) {
        h.raw("<td class=\"na\" data-v=\"\">–</td>");
        continue;
      }
      h.raw("<td>");
      cell_text(h, it->second);
      h.raw("</td>");
    }
    for (std::size_t k = 0; k < metrics_shown; ++k) {
      auto it = r.metrics.find(m.metric_keys[k]);
      if (it == r.metrics.end()) {
        h.raw("<td class=\"num na\" data-v=\"\">–</td>");
        continue;
      }
      h.raw("<td class=\"num\"").attr("data-v", python_repr(it->second.value)).raw(">").sig(it->second.value).raw("</td>");
    }
    h.raw("</tr>");
  }
  h.raw("</tbody></table></div></section>");
}

}  // namespace

std::size_t write_report_page(std::ostream& out, const ReportModel& m) {
  Html h(out);
  const std::string title = m.options.title.empty() ? "mlruns report: " + m.experiment_names : m.options.title;
  h.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta http-equiv=\"Content-Security-Policy\"")
      .attr("content", "default-src 'none'; style-src '" + csp_hash(kReportCss) + "'; script-src '" +
                           csp_hash(kReportJs) + "'; img-src data:; base-uri 'none'; form-action 'none'")
      .raw("><meta name=\"generator\" content=\"mlruns " MLRUNS_VERSION_STRING "\"><title>").clipped(title, 200)
      .raw("</title><style>").raw(kReportCss).raw("</style></head>\n<body><main>");
  write_header(h, m);
  write_best(h, m);
  const std::size_t drawn = write_charts(h, m);
  write_parcoords(h, m);
  write_table(h, m);
  h.raw("<footer>Made by <b>mlruns report</b> from the tree alone: no server, no network. Numbers in the table "
        "are shown to 6 significant digits; <code>mlruns show RUN_ID</code> prints them in full. Downsampling: "
        "min/max per bucket (see Metrics).</footer></main><script>")
      .raw(kReportJs).raw("</script></body></html>\n");
  return drawn;
}

}  // namespace mlruns::detail
