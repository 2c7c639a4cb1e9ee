// The HTML report (report.h) read back with an HTML parser (gumbo): the
// numbers of the table and the points of every chart against the tree, on
// MLflow's own trees (fixtures), a generated 1,000-run sweep, and a hostile
// tree.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <regex>
#include <set>

#include "mlruns/rank.h"
#include "mlruns/search.h"
#include "read/reader_test_util.h"
#include "report/html.h"
#include "report/report_assets.h"
#include "report_test_util.h"

using namespace mlruns;
using namespace mlruns::testing;

namespace {

// Column index of each metric of the runs table (th data-key), in the last header row.
std::map<std::string, std::size_t> metric_columns(const Dom& dom) {
  auto tables = dom.by_class("table", "runs");
  REQUIRE(tables.size() == 1);
  auto rows = dom.by_tag("tr", dom.by_tag("thead", tables[0]).at(0));
  REQUIRE(!rows.empty());
  std::map<std::string, std::size_t> out;
  auto cells = Dom::children(rows.back());
  for (std::size_t i = 0; i < cells.size(); ++i)
    if (const char* k = Dom::attr(cells[i], "data-key")) out[k] = i;
  return out;
}

// Checks every row of the table against the run in the tree: name, status,
// and each shown metric's latest value (data-v is Python's repr, exact).
std::size_t check_table(const Dom& dom, const Reader& reader) {
  const auto columns = metric_columns(dom);
  std::size_t rows = 0;
  for (const GumboNode* tr : dom.find([](const GumboNode* n) { return Dom::tag_name(n) == "tr" && Dom::attr(n, "data-run"); })) {
    const std::string id = Dom::attr(tr, "data-run");
    auto run = reader.run(id);
    REQUIRE(run);
    auto cells = Dom::children(tr);
    REQUIRE(cells.size() >= 5);
    CHECK(Dom::attr_or(cells[1], "data-v") == (run->info.run_name.empty() ? id : run->info.run_name));
    CHECK(Dom::attr_or(cells[2], "data-v") == std::string(to_string(run->info.status)));
    CHECK(Dom::attr_or(cells[3], "data-v") == std::to_string(run->info.start_time));
    for (const auto& [key, col] : columns) {
      REQUIRE(col < cells.size());
      auto it = run->metrics.find(key);
      INFO("run " << id << " metric " << key);
      if (it == run->metrics.end()) {
        CHECK(Dom::attr_or(cells[col], "data-v", "?") == "");
      } else {
        CHECK(Dom::attr_or(cells[col], "data-v") == python_repr(it->second.value));
        CHECK(Dom::text(cells[col]) == detail::format_sig(it->second.value, 6));
      }
    }
    ++rows;
  }
  return rows;
}

struct ChartCheck {
  std::size_t lines = 0;
  std::size_t points = 0;
};

// Every point of every line of every chart is a point of the run's history
// (step and value), and the history's lowest and highest finite values are
// drawn (min/max downsampling never drops them). On the log chart, the same
// where every value is positive (values <= 0 are not drawn there, and the
// downsampling keeps the data's extremes, not the positive ones').
ChartCheck check_charts(const Dom& dom, const Reader& reader, XAxis x_axis = XAxis::kStep) {
  ChartCheck out;
  for (const GumboNode* fig : dom.by_class("figure", "chart")) {
    const std::string key = Dom::attr_or(fig, "data-metric");
    REQUIRE(!key.empty());
    for (const GumboNode* svg : dom.by_tag("svg", fig)) {
      const bool log = Dom::has_class(svg, "log");
      if (!log && !Dom::has_class(svg, "lin")) continue;
      auto plots = dom.by_class("g", "plot", svg);
      REQUIRE(plots.size() == 1);
      const PlotFrame frame(plots[0]);
      CHECK(frame.log == log);
      for (const GumboNode* path : dom.by_tag("path", plots[0])) {
        const std::string id = Dom::attr_or(path, "data-run");
        const std::string d = Dom::attr_or(path, "d");
        INFO("chart " << key << (log ? " (log)" : "") << ", run " << id << ", d = " << d.substr(0, 200));
        REQUIRE(std::regex_match(d, std::regex("[M0-9. -]*")));  // never NaN or inf in a path
        auto history = reader.metric_history(id, key);
        REQUIRE(history);
        double lo = std::numeric_limits<double>::infinity(), hi = -lo;
        bool all_positive = true;
        for (const Metric& m : *history)
          if (std::isfinite(m.value)) {
            lo = std::min(lo, m.value);
            hi = std::max(hi, m.value);
            all_positive = all_positive && m.value > 0;
          }
        bool saw_lo = false, saw_hi = false;
        std::int64_t t0 = std::numeric_limits<std::int64_t>::max();
        for (const Metric& m : *history) t0 = std::min(t0, m.timestamp);
        auto x_of = [&](const Metric& m) {  // step, or seconds since the history's first point
          return x_axis == XAxis::kStep ? static_cast<double>(m.step) : static_cast<double>(m.timestamp - t0) / 1000.0;
        };
        for (auto [px, py] : path_points(d)) {
          const double x = frame.x(px), y = frame.y(py);
          bool found = false;
          for (const Metric& m : *history) {
            if (std::fabs(x_of(m) - x) <= frame.x_tol() && std::fabs(m.value - y) <= frame.y_tol(m.value)) {
              found = true;
              saw_lo = saw_lo || m.value == lo;
              saw_hi = saw_hi || m.value == hi;
            }
          }
          INFO("point (" << x << ", " << y << ")");
          CHECK(found);
          ++out.points;
        }
        if (lo <= hi && (!log || all_positive)) {
          CHECK(saw_lo);
          CHECK(saw_hi);
        }
        ++out.lines;
      }
    }
  }
  return out;
}

// Each chart's caption counts what its linear chart draws: "D of R points
// drawn" with D the points of the lin chart's paths and R the points of the
// histories read, and the NaN/inf count the histories' non-finite points.
void check_captions(const Dom& dom, const Reader& reader) {
  for (const GumboNode* fig : dom.by_class("figure", "chart")) {
    const std::string key = Dom::attr_or(fig, "data-metric");
    const std::string caption = Dom::text(dom.by_tag("figcaption", fig).at(0));
    INFO("chart " << key << ": " << caption);
    std::size_t drawn = 0, read = 0, non_finite = 0;
    for (const GumboNode* svg : dom.by_tag("svg", fig)) {
      if (!Dom::has_class(svg, "lin")) continue;
      for (const GumboNode* path : dom.by_tag("path", dom.by_class("g", "plot", svg).at(0))) {
        drawn += path_points(Dom::attr_or(path, "d")).size();
        auto history = reader.metric_history(Dom::attr_or(path, "data-run"), key);
        REQUIRE(history);
        read += history->size();
        for (const Metric& m : *history) non_finite += !std::isfinite(m.value);
      }
    }
    std::smatch match;
    REQUIRE(std::regex_search(caption, match, std::regex("([0-9]+) of ([0-9]+) points drawn")));
    CHECK(std::stoul(match[1]) == drawn);
    CHECK(std::stoul(match[2]) == read);
    if (non_finite > 0) CHECK(caption.find(" · " + std::to_string(non_finite) + " NaN/inf not drawn") != std::string::npos);
    else CHECK(caption.find("NaN/inf") == std::string::npos);
  }
}

// The 3.8 fixture's rl-sweep, ranked by episode_reward_mean.
ReportOptions rl_sweep_options() {
  ReportOptions o;
  o.experiment_ids = {"763558276457519285"};
  o.order_by = {"metrics.episode_reward_mean DESC"};
  return o;
}

void check_safe_markup(const Dom& dom) {
  // The one script is the report's own; no element carries an event handler.
  auto scripts = dom.by_tag("script");
  REQUIRE(scripts.size() == 1);
  CHECK(Dom::text(scripts[0]) == detail::kReportJs);
  CHECK(dom.by_tag("style").size() == 1);
  auto handlers = dom.find([](const GumboNode* n) {
    const GumboVector& attrs = n->v.element.attributes;
    for (unsigned i = 0; i < attrs.length; ++i) {
      std::string name = static_cast<const GumboAttribute*>(attrs.data[i])->name;
      if (name.rfind("on", 0) == 0 || name == "src" || name == "href" || name == "style") return true;
    }
    return false;
  });
  CHECK(handlers.empty());
  for (const char* tag : {"img", "iframe", "object", "embed", "link", "a", "form", "foreignobject", "image", "use"})
    CHECK(dom.by_tag(tag).empty());
}

}  // namespace

TEST_CASE("report of MLflow's trees: table numbers and chart points match the tree", "[report]") {
  for (const char* fixture : {"mlflow-3.8", "mlflow-2.10"}) {
    INFO(fixture);
    auto reader = Reader::open((fixture_dir(fixture) / "mlruns").string());
    REQUIRE(reader);
    auto experiments = reader->experiments();
    REQUIRE(experiments);
    for (const Experiment& e : *experiments) {
      INFO("experiment " << e.name);
      auto runs = reader->runs({e.experiment_id});
      REQUIRE(runs);
      ReportOptions o;
      o.experiment_ids = {e.experiment_id};
      // rank on the first metric of the first run that has one
      for (const Run& r : *runs)
        if (!r.metrics.empty() && o.order_by.empty()) o.order_by = {"metrics.`" + r.metrics.begin()->first + "` DESC"};
      const std::string html = render_report(*reader, o);
      Dom dom(html);
      CHECK(check_table(dom, *reader) == runs->size());
      const ChartCheck charts = check_charts(dom, *reader);
      std::set<std::string> keys;
      for (const Run& r : *runs)
        for (const auto& [k, v] : r.metrics) keys.insert(k);
      CHECK(dom.by_class("figure", "chart").size() == std::min(keys.size(), kDefaultCharts));
      if (!keys.empty()) CHECK(charts.lines > 0);
      check_safe_markup(dom);
    }
  }
}

TEST_CASE("report with time on x: every point at its seconds since the history's first point", "[report]") {
  auto reader = Reader::open((fixture_dir("mlflow-3.8") / "mlruns").string());
  REQUIRE(reader);
  ReportOptions o = rl_sweep_options();
  o.x_axis = XAxis::kRelativeTime;
  Dom dom(render_report(*reader, o));
  const ChartCheck charts = check_charts(dom, *reader, XAxis::kRelativeTime);
  CHECK(charts.lines > 0);
  CHECK(Dom::text(dom.root()).find("time (") != std::string::npos);
}

TEST_CASE("report: the best run is get-top-run's, with its explanation and artifacts", "[report]") {
  auto reader = Reader::open((fixture_dir("mlflow-3.8") / "mlruns").string());
  REQUIRE(reader);
  ReportOptions o = rl_sweep_options();
  Dom dom(render_report(*reader, o));
  RankQuery q{.experiment_ids = o.experiment_ids, .metric = "episode_reward_mean"};
  auto ranking = rank_runs(*reader, q);
  REQUIRE(ranking);
  REQUIRE(!ranking->runs.empty());
  const std::string best = ranking->runs.front().run.info.run_id;
  auto cards = dom.by_class("div", "card");
  REQUIRE(cards.size() == 1);
  CHECK(Dom::attr_or(cards[0], "data-run") == best);
  const std::string why = Dom::text(dom.by_tag("pre", cards[0]).at(0));
  for (const std::string& line : explain_ranking(q, *ranking, "rl-sweep")) CHECK(why.find(line) != std::string::npos);
  auto files = reader->list_artifacts(best, "", true);
  REQUIRE(files);
  const std::string card = Dom::text(cards[0]);
  for (const ArtifactEntry& f : *files) CHECK(card.find(f.path) != std::string::npos);
  // its row and its lines are marked as the best
  auto best_rows = dom.find([](const GumboNode* n) { return Dom::tag_name(n) == "tr" && Dom::has_class(n, "best"); });
  REQUIRE(best_rows.size() == 1);
  CHECK(Dom::attr_or(best_rows[0], "data-run") == best);
  for (const GumboNode* p : dom.find([](const GumboNode* n) { return Dom::tag_name(n) == "path" && Dom::has_class(n, "best"); }))
    CHECK(Dom::attr_or(p, "data-run") == best);
}

TEST_CASE("report of a generated 1,000-run sweep: every run, bounded points, grouped under the parent", "[report]") {
  TempDir tmp;
  const fs::path root = tmp.path() / "mlruns";
  generate_sweep(root, 1000, 3, 120);
  auto reader = Reader::open(root.string());
  REQUIRE(reader);
  ReportOptions o;
  o.experiment_ids = {"1"};
  o.filter = "tags.mlflow.parentRunId = 'ffffffffffffffffffffffffffffffff'";
  o.order_by = {"metrics.m0 DESC"};
  o.points_per_page = 60000;
  std::ostringstream out;
  o.generated_at_ms = 1700000000000;
  std::size_t progress_calls = 0, last_done = 0, last_total = 0;
  o.on_progress = [&](std::size_t done, std::size_t total) {
    ++progress_calls;
    CHECK(done > last_done);  // never concurrent, always forward
    last_done = done;
    last_total = total;
  };
  auto summary = write_report(*reader, o, out);
  REQUIRE(summary);
  const std::string html = out.str();
  CHECK(summary->runs == 1000);
  CHECK(summary->charts == 3);
  CHECK(summary->points_read == 1000u * 3 * 120);
  CHECK(summary->points_drawn <= o.points_per_page);
  CHECK(progress_calls == 1000);
  CHECK(last_done == 1000);
  CHECK(last_total == 1000);
  Dom dom(html);
  CHECK(check_table(dom, *reader) == 1000);
  // one group header (the parent is not in the report: the filter selects its children)
  auto groups = dom.find([](const GumboNode* n) { return Dom::tag_name(n) == "tr" && Dom::has_class(n, "group"); });
  REQUIRE(groups.size() == 1);
  CHECK(Dom::text(groups[0]).find("sweep") != std::string::npos);
  CHECK(dom.find([](const GumboNode* n) { return Dom::tag_name(n) == "tr" && Dom::has_class(n, "child"); }).size() == 1000);
  // the table order is the search's
  SearchQuery sq{.experiment_ids = o.experiment_ids, .filter = o.filter, .order_by = o.order_by};
  auto page = search_runs(*reader, sq);
  REQUIRE(page);
  auto rows = dom.find([](const GumboNode* n) { return Dom::tag_name(n) == "tr" && Dom::attr(n, "data-run"); });
  REQUIRE(rows.size() == page->runs.size());
  for (std::size_t i = 0; i < rows.size(); ++i) CHECK(Dom::attr_or(rows[i], "data-run") == page->runs[i].info.run_id);
  const ChartCheck charts = check_charts(dom, *reader);
  CHECK(charts.lines == 2 * 3 * 1000);  // linear and log, 3 metrics
  CHECK(charts.points == summary->points_drawn);
  // params against the metric: one line per run with a value
  auto pc = dom.by_class("div", "pc");
  REQUIRE(pc.size() == 1);
  CHECK(dom.by_tag("path", pc[0]).size() == 1000);
  CHECK(html.size() < 3'000'000);
}

// The report lists each run's metric keys to choose its charts before it
// reads the files once (report.cpp); a file with no good line has a key but
// no value, and must not take a chart or a column from a metric that has
// values (as it never did when the values were read first).
TEST_CASE("report: metric files without a value take no chart and no column", "[report]") {
  TempDir tmp;
  const fs::path root = tmp.path() / "mlruns";
  generate_sweep(root, 12, 6, 30);
  for (const auto& e : fs::directory_iterator(root / "1"))
    if (fs::exists(e.path() / "metrics" / "m0")) {
      write_file(e.path() / "metrics" / "a_empty", "");                 // first by name, in every run
      write_file(e.path() / "metrics" / "a_partial", "1700000000000 1");  // only an unterminated line
    }
  auto reader = Reader::open(root.string(), ReaderOptions{.on_warning = [](const Warning&) {}});
  REQUIRE(reader);
  ReportOptions o;
  o.experiment_ids = {"1"};
  o.filter = "tags.mlflow.parentRunId = 'ffffffffffffffffffffffffffffffff'";
  const std::string html = render_report(*reader, o);
  Dom dom(html);
  std::vector<std::string> charted;
  for (const GumboNode* fig : dom.by_class("figure", "chart")) charted.push_back(Dom::attr_or(fig, "data-metric"));
  CHECK(charted == std::vector<std::string>{"m0", "m1", "m2", "m3", "m4", "m5"});
  const auto columns = metric_columns(dom);
  CHECK(columns.count("a_empty") == 0);
  CHECK(columns.count("a_partial") == 0);
  CHECK(columns.size() == 6);
  CHECK(check_table(dom, *reader) == 12);
  CHECK(check_charts(dom, *reader).lines == 2 * 6 * 12);
  check_captions(dom, *reader);
  o.metrics = {"a_empty"};
  std::ostringstream out;
  auto r = write_report(*reader, o, out);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Code::kNotFound);
  CHECK(r.error().to_string().find("none of the 12 runs") != std::string::npos);
}

TEST_CASE("report: hostile names and values render as text, bounded, and never break a chart", "[report]") {
  TempDir tmp;
  const fs::path root = tmp.path() / "mlruns";
  const std::string script = "<script>alert(1)</script>";
  const std::string quotes = "\"'><img src=x onerror=alert(2)>";
  const std::string big(10240, 'A');
  const std::string controls = std::string("bell\x07 esc\x1b[31m nul") + '\0' + "x\u2028y\u202Ez";
  write_file(root / "1" / "meta.yaml", exp_meta("1", script));
  auto add_run = [&](const std::string& id, const std::string& name, const std::string& metric_lines) {
    const fs::path dir = root / "1" / id;
    write_file(dir / "meta.yaml", run_meta("1", id, "", root.string()));
    write_file(dir / "tags" / "mlflow.runName", name);
    write_file(dir / "params" / "p", quotes);
    write_file(dir / "params" / "big", big);
    write_file(dir / "params" / "ctl", controls);
    write_file(dir / "tags" / "note", script);
    write_file(dir / "metrics" / "loss", metric_lines);
    write_file(dir / "metrics" / "empty", "");
  };
  add_run("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1", script,
          "1 0.5 0\n2 nan 1\n3 inf 2\n4 -inf 3\n5 0.25 4\n6 1e308 5\n7 -1e308 6\n");
  add_run("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2", quotes, "1 nan 0\n2 nan 1\n");
  add_run("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3", big, "1 -3 0\n2 0 1\n");
  add_run("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa4", controls, "1 7 5\n");
  auto reader = Reader::open(root.string(), ReaderOptions{.on_warning = [](const Warning&) {}});
  REQUIRE(reader);
  ReportOptions o;
  o.experiment_ids = {"1"};
  o.order_by = {"metrics.loss ASC"};
  o.title = script;
  const std::string html = render_report(*reader, o);
  Dom dom(html);
  check_safe_markup(dom);
  CHECK(html.find(script) == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find(big.substr(0, 500)) == std::string::npos);  // cut
  CHECK(html.find('\x1b') == std::string::npos);
  CHECK(html.find('\0') == std::string::npos);
  CHECK(html.find("\u2028") == std::string::npos);
  CHECK(html.find("\u202E") == std::string::npos);
  CHECK(html.size() < 200'000);
  // ... and they are shown as text
  const std::string text = Dom::text(dom.root());
  CHECK(text.find(script) != std::string::npos);
  CHECK(text.find(quotes) != std::string::npos);
  CHECK(text.find("bell\\x07 esc\\x1b[31m nul\\x00x\\u2028y\\u202ez") != std::string::npos);
  CHECK(dom.by_tag("title").size() >= 1);
  CHECK(Dom::text(dom.by_tag("title").at(0)) == script);
  // non-finite values: text in the table, gaps in the charts
  CHECK(check_table(dom, *reader) == 4);
  check_charts(dom, *reader);
  check_captions(dom, *reader);
  CHECK(html.find("data-v=\"nan\"") != std::string::npos);
}

TEST_CASE("report: a chart's caption counts the points drawn, not those kept with NaN/inf", "[report]") {
  // A sweep whose loss has a NaN, +inf and -inf among 56 points, and a long
  // history with non-finite points in many buckets (downsampled: the kept
  // NaN/inf break the line and are not drawn either).
  TempDir tmp;
  const fs::path root = tmp.path() / "mlruns";
  write_file(root / "1" / "meta.yaml", exp_meta("1", "sweep"));
  auto add_run = [&](const std::string& id, const std::string& lines) {
    write_file(root / "1" / id / "meta.yaml", run_meta("1", id, "", root.string()));
    write_file(root / "1" / id / "metrics" / "loss", lines);
  };
  std::string short_history, long_history;
  for (int s = 0; s < 56; ++s) {
    const char* v = s == 10 ? "nan" : s == 20 ? "inf" : s == 30 ? "-inf" : nullptr;
    short_history += std::to_string(1000 + s) + " " + (v ? v : python_repr(1.0 / (s + 1))) + " " + std::to_string(s) + "\n";
  }
  for (int s = 0; s < 20000; ++s)
    long_history += std::to_string(1000 + s) + " " + (s % 97 == 0 ? "nan" : python_repr(std::sin(s * 0.01))) + " " +
                    std::to_string(s) + "\n";
  add_run("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1", short_history);
  auto reader = Reader::open(root.string());
  REQUIRE(reader);
  ReportOptions o;
  o.experiment_ids = {"1"};
  {
    Dom dom(render_report(*reader, o));
    auto captions = dom.by_tag("figcaption");
    REQUIRE(captions.size() == 1);
    CHECK(Dom::text(captions[0]).find("53 of 56 points drawn · 3 NaN/inf not drawn") != std::string::npos);
    check_captions(dom, *reader);
  }
  add_run("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2", long_history);
  auto reader2 = Reader::open(root.string());
  REQUIRE(reader2);
  Dom dom(render_report(*reader2, o));
  check_captions(dom, *reader2);
}

TEST_CASE("report: bad options are refused with the value and the rule", "[report]") {
  auto reader = Reader::open((fixture_dir("mlflow-3.8") / "mlruns").string());
  REQUIRE(reader);
  std::ostringstream out;
  ReportOptions o;
  CHECK(write_report(*reader, o, out).error().code() == Code::kInvalidArgument);  // no experiment
  o.experiment_ids = {"763558276457519285"};
  o.filter = "metrics.x >";
  auto r = write_report(*reader, o, out);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Code::kInvalidArgument);
  o.filter.clear();
  o.metrics = {"no_such_metric"};
  r = write_report(*reader, o, out);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Code::kNotFound);
  CHECK(r.error().to_string().find("no_such_metric") != std::string::npos);
  o.metrics = {"../x"};
  CHECK(write_report(*reader, o, out).error().code() == Code::kInvalidArgument);
  o.metrics.clear();
  o.points_per_line = 2;
  r = write_report(*reader, o, out);
  REQUIRE_FALSE(r);
  CHECK(r.error().to_string().find("points per line 2") != std::string::npos);
  o.points_per_line = kDefaultPointsPerLine;
  o.experiment_ids = {"424242"};
  CHECK(write_report(*reader, o, out).error().code() == Code::kNotFound);
  CHECK(out.str().empty());  // nothing written on a refused report
}
