// The report's parts on their own: the one escaping function, min/max
// downsampling, scales, the CSP hash, the standalone SVG and the terminal chart.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <regex>
#include <sstream>

#include "html_dom.h"
#include "report_test_util.h"
#include "mlruns/report.h"
#include "mlruns/text.h"
#include "report/chart.h"
#include "report/html.h"

using namespace mlruns;
using namespace mlruns::detail;
using mlruns::testing::Dom;
using mlruns::testing::path_points;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kMax = std::numeric_limits<double>::max();
constexpr double kSub = std::numeric_limits<double>::denorm_min();

// Data a chart's axis arithmetic can overflow or underflow on: huge ranges,
// one point, all-equal values, subnormals, the largest doubles, signs mixed.
struct Extreme {
  const char* name;
  std::vector<ChartPoint> points;
};
std::vector<Extreme> extreme_data() {
  return {{"1e308 and -1e308", {{1, 1e308}, {2, -1e308}}},
          {"one point 1e308", {{1, 1e308}}},
          {"the largest double, twice", {{1, kMax}, {2, kMax}}},
          {"-max and max", {{0, -kMax}, {5, kMax}}},
          {"all equal", {{0, 5}, {1, 5}, {2, 5}}},
          {"one subnormal", {{3, kSub}}},
          {"subnormals", {{0, kSub}, {1, 2 * kSub}, {2, 1e-310}}},
          {"subnormal to max", {{0, kSub}, {1, kMax}}},
          {"10^-323 alone", {{0, 1e-323}}},
          {"zero and negatives", {{0, 0}, {1, -2}, {2, -2}}},
          {"one negative", {{0, -1e-320}}}};
}
}  // namespace

TEST_CASE("escape_html: markup characters, controls, bidi overrides, separators, bad UTF-8", "[report]") {
  CHECK(escape_html("<script>alert('x') & \"y\"</script>") ==
        "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;");
  CHECK(escape_html(std::string("a\x07" "b\x1b[0m\x7f") + std::string(1, '\0')) == "a\\x07b\\x1b[0m\\x7f\\x00");
  CHECK(escape_html("tab\tnew\nline") == "tab\tnew\nline");
  CHECK(escape_html("x\u2028y\u2029z") == "x\\u2028y\\u2029z");       // JS line separators
  CHECK(escape_html("evil\u202Etxt.exe\u2066") == "evil\\u202etxt.exe\\u2066");  // bidi overrides
  CHECK(escape_html("\xc2\x85") == "\\u0085");                         // C1 control (NEL), as the terminal shows it
  CHECK(escape_html("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x9a\x80") == "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x9a\x80");
  CHECK(escape_html("bad\xff\xfe" "end\xc3") == "bad\xef\xbf\xbd\xef\xbf\xbd" "end\xef\xbf\xbd");
  CHECK(escape_html("\xed\xa0\x80") == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // a UTF-16 surrogate is not UTF-8
}

TEST_CASE("clip_text cuts at code points and marks the cut", "[report]") {
  CHECK(clip_text("short", 10) == "short");
  CHECK(clip_text("abcdefghij", 5) == "abcd\xe2\x80\xa6");
  CHECK(clip_text("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 2) == "\xe6\x97\xa5\xe2\x80\xa6");
  CHECK(count_code_points("\xe6\x97\xa5\xe6\x9c\xac") == 2);
}

TEST_CASE("Markup converts only from literals, and numbers are locale-free", "[report]") {
  STATIC_REQUIRE(!std::is_convertible_v<std::string, Markup>);
  STATIC_REQUIRE(!std::is_convertible_v<const char*, Markup>);
  CHECK(format_fixed(12.25, 1) == "12.2");
  CHECK(format_fixed(3.0, 1) == "3");
  CHECK(format_fixed(-0.01, 1) == "0");
  CHECK(format_sig(0.000123456789, 6) == "0.000123457");
  CHECK(format_sig(kNaN, 6) == "nan");
  CHECK(format_sig(-kInf, 6) == "-inf");
  CHECK(tick_label(1e-5) == "1e-5");
  CHECK(tick_label(250) == "250");
  CHECK(tick_label(1e6) == "1e6");
}

TEST_CASE("csp_hash is base64 of SHA-256, as CSP hashes are written", "[report]") {
  // FIPS 180-2 test vectors, in base64
  CHECK(csp_hash("") == "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  CHECK(csp_hash("abc") == "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
}

TEST_CASE("downsample_min_max keeps first, last, every bucket's extremes and the line breaks", "[report]") {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 1);
  for (std::size_t n : {0u, 1u, 4u, 10u, 11u, 500u, 501u, 10000u}) {
    for (std::size_t budget : {4u, 5u, 20u, 500u}) {
      std::vector<double> y(n);
      double walk = 0;
      for (double& v : y) v = walk += noise(rng);
      if (n > 50) {
        y[n / 3] = 1e6;   // a spike
        y[n / 2] = -1e6;  // a dip
        y[n / 4] = kNaN;
      }
      INFO("n " << n << " budget " << budget);
      auto keep = downsample_min_max(y, budget);
      if (n <= std::max<std::size_t>(budget, 4)) {
        REQUIRE(keep.size() == n);
        for (std::size_t i = 0; i < n; ++i) CHECK(keep[i] == i);
        continue;
      }
      CHECK(std::is_sorted(keep.begin(), keep.end()));
      CHECK(std::adjacent_find(keep.begin(), keep.end()) == keep.end());
      CHECK(keep.front() == 0);
      CHECK(keep.back() == n - 1);
      const std::size_t buckets = (std::max<std::size_t>(budget, 4) - 2) / 2;
      CHECK(keep.size() <= 2 + 3 * buckets);  // two per bucket, plus a break where NaN fell
      std::size_t finite = 0;
      for (std::size_t i : keep) finite += std::isfinite(y[i]);
      CHECK(finite <= std::max<std::size_t>(budget, 4));
      if (n > 50) {
        CHECK(std::count(keep.begin(), keep.end(), n / 3) == 1);
        CHECK(std::count(keep.begin(), keep.end(), n / 2) == 1);
        CHECK(std::count(keep.begin(), keep.end(), n / 4) == 1);  // the NaN: the line breaks there
      }
    }
  }
}

TEST_CASE("scales: round ticks, log decades, values that cannot be drawn", "[report]") {
  Scale s = make_scale(0.3, 9.7, false);
  CHECK(s.lo == 0);
  CHECK(s.hi == 10);
  CHECK(s.ticks(5) == std::vector<double>{0, 2, 4, 6, 8, 10});
  Scale l = make_scale(3e-5, 0.7, true);
  CHECK(l.lo == Approx(1e-5));
  CHECK(l.hi == Approx(1));
  CHECK(l.ticks(6).size() == 6);
  CHECK(std::isnan(l.unit(0)));
  CHECK(std::isnan(l.unit(-1)));
  CHECK(std::isnan(s.unit(kNaN)));
  CHECK(std::isnan(s.unit(kInf)));
  Scale huge = make_scale(-1e308, 1e308, false);
  CHECK(huge.unit(0) == Approx(0.5));
  Scale one = make_scale(5, 5, false);
  CHECK(one.lo < 5);
  CHECK(one.hi > 5);
}

TEST_CASE("chart_svg: a standalone SVG document with legend, escaped labels and no NaN", "[report]") {
  Chart c;
  c.title = "<b>run</b>";
  c.x_label = "step";
  c.y_label = "loss";
  c.series.push_back({"loss </title><script>", {{0, 1}, {1, kNaN}, {2, 0.5}, {3, kInf}, {4, 0.25}, {5, 0.3}}, false});
  const std::string svg = chart_svg(c);
  CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(svg.find("<script>") == std::string::npos);
  Dom dom("<!DOCTYPE html><html><body>" + svg + "</body></html>");
  auto paths = dom.by_tag("path");
  REQUIRE(paths.size() == 1);
  const std::string d = Dom::attr_or(paths[0], "d");
  CHECK(d.find_first_not_of("M0123456789. -") == std::string::npos);  // no nan or inf in the path
  // three segments: (0) | (2) | (4, 5); a lone point is drawn as a dot (repeated)
  CHECK(std::count(d.begin(), d.end(), 'M') == 3);
  CHECK(Dom::text(dom.by_tag("title").at(0)) == "loss </title><script>");
  c.log_y = true;
  CHECK(chart_svg(c).find("loss (log)") != std::string::npos);
}

TEST_CASE("terminal chart: braille or ASCII, sized to the width, labels escaped", "[report]") {
  Chart c;
  c.title = "run\x1b[2J";
  c.x_label = "step";
  std::vector<ChartPoint> pts;
  for (int i = 0; i <= 100; ++i) pts.push_back({static_cast<double>(i), std::sin(i / 10.0) * 50 + 100});
  c.series.push_back({"reward\x07", pts, false});
  c.series.push_back({"\xe6\x97\xa5\xe6\x9c\xac-metric", {{0, 60}, {50, kNaN}, {100, 140}}, false});
  for (bool unicode : {true, false}) {
    std::ostringstream out;
    write_terminal_chart(out, c, {.width = 60, .height = 10, .unicode = unicode, .color = false});
    const std::string text = out.str();
    INFO(text);
    CHECK(text.find('\x1b') == std::string::npos);
    CHECK(text.find('\x07') == std::string::npos);
    CHECK(text.find("run\\e[2J") != std::string::npos);  // ESC as \e: mlruns::terminal_safe (text.h)
    CHECK(text.find("reward\\x07") != std::string::npos);
    CHECK(text.find("(not drawn: 1 NaN/inf)") != std::string::npos);
    std::istringstream lines(text);
    std::string line;
    int rows = 0;
    while (std::getline(lines, line)) {
      std::size_t cols = 0;
      for (unsigned char ch : line) cols += (ch & 0xC0) != 0x80;
      CHECK(cols <= 60);
      ++rows;
    }
    CHECK(rows == 1 + 10 + 2 + 2);  // title, plot, axis and values, legend
    // two series without colours: marks of their own, not braille
    CHECK(text.find("\xe2\xa0") == std::string::npos);
    CHECK(text.find('*') != std::string::npos);
    CHECK(text.find('+') != std::string::npos);
    if (!unicode) {
      for (unsigned char ch : text.substr(0, text.find("\xe6\x97\xa5"))) CHECK(ch < 0x80);
    }
  }
  // with colours: braille, and the only escape sequences are SGR colours
  std::ostringstream out;
  write_terminal_chart(out, c, {.width = 60, .height = 10, .unicode = true, .color = true});
  const std::string text = out.str();
  CHECK(text.find("\xe2\xa0") != std::string::npos);
  CHECK(std::regex_replace(text, std::regex("\x1b\\[[0-9;]*m"), "").find('\x1b') == std::string::npos);
  // one series, no colours: braille
  c.series.pop_back();
  std::ostringstream one;
  write_terminal_chart(one, c, {.width = 60, .height = 10, .unicode = true, .color = false});
  CHECK(one.str().find("\xe2\xa0") != std::string::npos);
}

TEST_CASE("scales of extreme values: finite ends, every value on the axis, in log space", "[report]") {
  for (const Extreme& e : extreme_data()) {
    for (bool log : {false, true}) {
      Extent ext;
      for (const ChartPoint& p : e.points) ext.add(p.y, log);
      INFO(e.name << (log ? " (log)" : ""));
      const Scale s = make_scale(ext.min, ext.max, log);
      CHECK(std::isfinite(s.lo));
      CHECK(std::isfinite(s.hi));
      CHECK(s.lo < s.hi);
      if (log) CHECK(s.lo > 0);
      CHECK(std::isfinite(s.middle()));
      CHECK(s.middle() >= s.lo);
      CHECK(s.middle() <= s.hi);
      for (double t : s.ticks(5)) CHECK(std::isfinite(t));
      for (const ChartPoint& p : e.points) {
        if (log && p.y <= 0) continue;
        const double u = s.unit(p.y);
        INFO("value " << p.y << " at " << u);
        CHECK(u >= 0);
        CHECK(u <= 1);
      }
    }
  }
  // 1e308 alone on a log scale: the decade below it, not one past the largest double
  const Scale top = make_scale(1e308, 1e308, true);
  CHECK(top.lo == 1e307);
  CHECK(top.hi == 1e308);
}

TEST_CASE("SVG and terminal charts of extreme values: no inf on an axis, every drawable point drawn, the rest named",
          "[report]") {
  for (const Extreme& e : extreme_data()) {
    for (bool log : {false, true}) {
      Chart c;
      c.title = e.name;
      c.x_label = "step";
      c.y_label = "n";
      c.log_y = log;
      c.series.push_back({"n", e.points, false});
      std::size_t drawable = 0, non_positive = 0;
      for (const ChartPoint& p : e.points) {
        if (log && p.y <= 0) ++non_positive;
        else ++drawable;
      }
      INFO(e.name << (log ? " (log)" : ""));
      const std::string svg = chart_svg(c);
      INFO(svg);
      Dom dom("<!DOCTYPE html><html><body>" + svg + "</body></html>");
      auto plots = dom.by_class("g", "plot");
      REQUIRE(plots.size() == 1);
      for (const char* a : {"data-x0", "data-x1", "data-y0", "data-y1"}) {
        const std::string v = Dom::attr_or(plots[0], a);
        INFO(a << " = " << v);
        CHECK(std::isfinite(std::strtod(v.c_str(), nullptr)));  // (std::stod throws on a subnormal)
      }
      for (const GumboNode* t : dom.by_tag("text")) {
        const std::string label = Dom::text(t);
        CHECK(label.find("inf") == std::string::npos);
        CHECK(label.find("nan") == std::string::npos);
      }
      auto paths = dom.by_tag("path");
      REQUIRE(paths.size() == 1);
      const std::string d = Dom::attr_or(paths[0], "d");
      CHECK(d.find_first_not_of("M0123456789. -") == std::string::npos);
      // all-equal values at other steps are other points; a lone point is drawn twice, counted once
      CHECK(path_points(d).size() == drawable);
      const std::string legend = Dom::text(dom.by_class("g", "legend").at(0));
      if (non_positive) CHECK(legend.find("not drawn: " + std::to_string(non_positive) + " \u2264 0 on the log scale") != std::string::npos);
      else CHECK(legend.find("not drawn") == std::string::npos);

      for (bool unicode : {true, false}) {
        std::ostringstream out;
        write_terminal_chart(out, c, {.width = 50, .height = 8, .unicode = unicode, .color = false});
        const std::string text = out.str();
        INFO(text);
        CHECK(text.find("inf") == std::string::npos);
        CHECK(text.find("nan") == std::string::npos);
        // the plot rows (after the title): some mark when anything can be drawn
        std::istringstream lines(text);
        std::string line;
        std::getline(lines, line);  // title
        std::size_t marks = 0;
        for (int r = 0; r < 8 && std::getline(lines, line); ++r) {
          const std::size_t axis = line.find(unicode ? "\xe2\x94\xa4" : "|");
          REQUIRE(axis != std::string::npos);
          for (char ch : line.substr(axis + (unicode ? 3 : 1))) marks += ch != ' ';
        }
        CHECK((marks > 0) == (drawable > 0));
        const std::string note = "not drawn: " + std::to_string(non_positive) + (unicode ? " \u2264 0" : " <= 0") + " on the log scale";
        CHECK((text.find(note) != std::string::npos) == (non_positive > 0));
      }
    }
  }
}

TEST_CASE("invisible and format code points are escaped alike on the terminal and in the report's HTML, so two "
          "names that look the same are the same (issue 15 item 5)",
          "[report][terminal]") {
  struct Row {
    const char* utf8;
    const char* shown;
    const char* why;
  };
  const Row table[] = {
      {"\u2028", "\\u2028", "Zl line separator"},
      {"\u2029", "\\u2029", "Zp paragraph separator"},
      {"\u200B", "\\u200b", "Cf zero width space"},
      {"\u200C", "\\u200c", "Cf zero width non-joiner"},
      {"\u200D", "\\u200d", "Cf zero width joiner"},
      {"\u00AD", "\\u00ad", "Cf soft hyphen"},
      {"\u2060", "\\u2060", "Cf word joiner"},
      {"\uFEFF", "\\ufeff", "Cf byte order mark"},
      {"\u200E", "\\u200e", "Cf left-to-right mark"},
      {"\u200F", "\\u200f", "Cf right-to-left mark"},
      {"\u061C", "\\u061c", "Cf Arabic letter mark"},
      {"\u202E", "\\u202e", "Cf right-to-left override"},
      {"\u2066", "\\u2066", "Cf isolate"},
      {"\U000E0001", "\\U000e0001", "Cf language tag"},
      {"\U000E0041", "\\U000e0041", "Cf tag latin capital A"},
      {"\u115F", "\\u115f", "Lo but default-ignorable: Hangul choseong filler"},
      {"\u3164", "\\u3164", "Lo but default-ignorable: Hangul filler"},
      {"\uFE0F", "\\ufe0f", "Mn but default-ignorable: variation selector"},
      {"\uE000", "\\ue000", "Co private use"},
      {"\U0010FFFD", "\\U0010fffd", "Co supplementary private use"},
      {"\xcd\xb8", "\\u0378", "Cn unassigned"},
      {"\xc2\x9b", "\\u009b", "Cc C1 control (CSI)"},
  };
  for (const Row& r : table) {
    INFO(r.why);
    const std::string name = std::string("a") + r.utf8 + "b";
    CHECK(terminal_safe(name) == std::string("a") + r.shown + "b");
    CHECK(escape_html(name) == std::string("a") + r.shown + "b");
  }
  // Visible text passes unchanged on both: accents, CJK, combining marks, emoji.
  for (const char* ok : {"caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "e\xcc\x81", "\xf0\x9f\x9a\x80", "\u00A0"}) {
    CHECK(terminal_safe(ok) == ok);
    CHECK(escape_html(ok) == ok);
  }
}
