#include "report/chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace mlruns::detail {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kMaxDouble = std::numeric_limits<double>::max();
// The decades whose power of ten is a normal double (DBL_MIN_10_EXP, DBL_MAX_10_EXP).
constexpr double kMinDecade = std::numeric_limits<double>::min_exponent10;
constexpr double kMaxDecade = std::numeric_limits<double>::max_exponent10;

// 1, 2 or 5 x 10^k, at least `raw`.
double nice_step(double raw) {
  if (!(raw > 0) || !std::isfinite(raw)) return 0;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= raw * (1 - 1e-9)) return m * p;
  return 10 * p;
}

constexpr double kMarginLeft = 64;
constexpr double kMarginRight = 18;
constexpr double kMarginTop = 12;
constexpr double kMarginBottom = 42;
constexpr double kLegendRow = 18;
constexpr double kTitleHeight = 24;

}  // namespace

double Scale::unit(double v) const {
  if (!std::isfinite(v)) return kNaN;
  if (log) {
    if (v <= 0) return kNaN;
    return (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
  }
  // long double: hi - lo may overflow a double for values near 1e308.
  return static_cast<double>((static_cast<long double>(v) - lo) / (static_cast<long double>(hi) - lo));
}

std::vector<double> Scale::ticks(int target) const {
  std::vector<double> out;
  if (log) {
    const int a = static_cast<int>(std::ceil(std::log10(lo) - 1e-9));
    const int b = static_cast<int>(std::floor(std::log10(hi) + 1e-9));
    const int decades = b - a;
    const int every = std::max(1, (decades + target - 1) / std::max(1, target));
    for (int e = a; e <= b; e += every) {
      const double p = std::pow(10.0, e);
      out.push_back(p);
      if (decades <= 2) {
        for (double m : {2.0, 5.0})
          if (m * p <= hi * (1 + 1e-9) && e < b) out.push_back(m * p);
      }
    }
    if (decades <= 2) {
      const double below = std::pow(10.0, a - 1);
      for (double m : {2.0, 5.0})
        if (m * below >= lo * (1 - 1e-9)) out.push_back(m * below);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  const double span = static_cast<double>(static_cast<long double>(hi) - lo);
  double step = nice_step(span / std::max(1, target));
  if (integer && step > 0 && step < 1) step = 1;
  if (step == 0) return {lo, hi};
  const double first = std::ceil(lo / step - 1e-9) * step;
  for (int i = 0; i < 50; ++i) {
    double t = first + i * step;
    if (!std::isfinite(t) || t - hi > step * 1e-9) break;  // (hi + a bit overflows near the largest double)
    if (std::fabs(t) < step * 1e-9) t = 0;
    out.push_back(t);
  }
  return out;
}

void Extent::add(double v, bool log) {
  if (!std::isfinite(v) || (log && v <= 0)) return;
  if (empty()) {
    min = max = v;
    return;
  }
  min = std::min(min, v);
  max = std::max(max, v);
}

Scale make_scale(double min, double max, bool log, bool nice, bool integer) {
  Scale s;
  s.log = log;
  s.integer = integer && !log;
  if (min > max) {
    s.lo = log ? 1 : 0;
    s.hi = log ? 10 : 1;
    return s;
  }
  if (log) {
    // Whole decades, found in log space: 10^e is a normal double for e in
    // [-307, 308]; past those ends the data's own extreme is the end.
    double a = std::floor(std::log10(min)), b = std::ceil(std::log10(max));
    if (b <= a) {  // every value the same power of ten: a decade above it, or below at the top
      if (a + 1 <= kMaxDecade) b = a + 1;
      else a = b - 1;
    }
    s.lo = a >= kMinDecade ? std::pow(10.0, a) : min;
    s.hi = b <= kMaxDecade ? std::pow(10.0, b) : max;
    if (!(s.hi > s.lo)) {  // one value at a clamped end
      if (s.lo <= kMaxDouble / 10) s.hi = s.lo * 10;
      else s.lo = s.hi / 10;
    }
    return s;
  }
  if (min == max) {
    // Room around one value, never past the largest double, and some even
    // for a subnormal (where a tenth of it rounds to 0).
    double pad = s.integer || min == 0 ? 1 : std::fabs(min) * 0.1;
    if (!(pad > 0)) pad = std::fabs(min);
    min = std::max(min - pad, -kMaxDouble);
    max = std::min(max + pad, kMaxDouble);
  }
  s.lo = min;
  s.hi = max;
  if (!nice) return s;
  const double span = max - min;  // may be inf: then the data's ends stay
  double step = nice_step(span / 5);
  if (s.integer && step > 0 && step < 1) step = 1;
  if (step > 0 && std::isfinite(step)) {
    const double lo = std::floor(min / step) * step;
    const double hi = std::ceil(max / step) * step;
    if (std::isfinite(lo) && std::isfinite(hi) && hi > lo) {
      s.lo = lo;
      s.hi = hi;
    }
  }
  return s;
}

double Scale::middle() const {
  if (log) return std::pow(10.0, std::log10(lo) / 2 + std::log10(hi) / 2);
  return lo / 2 + hi / 2;  // (lo + hi) / 2 overflows near the largest double
}

std::string not_drawn_note(std::span<const ChartPoint> points, bool log, bool unicode) {
  std::size_t non_finite = 0, non_positive = 0;
  for (const ChartPoint& p : points) {
    if (!std::isfinite(p.y)) ++non_finite;
    else if (log && p.y <= 0) ++non_positive;
  }
  std::string out;
  if (non_finite) out += std::to_string(non_finite) + " NaN/inf";
  if (non_positive) out += (out.empty() ? "" : ", ") + std::to_string(non_positive) + (unicode ? " \u2264 0" : " <= 0") + " on the log scale";
  return out.empty() ? out : "not drawn: " + out;
}

std::string tick_label(double v) {
  if (v == 0) return "0";
  std::string s = format_sig(v, 4);
  // 1e+06 -> 1e6, 1e-05 -> 1e-5: shorter, as plotting tools print them
  auto e = s.find('e');
  if (e != std::string::npos) {
    std::string mant = s.substr(0, e);
    std::string exp = s.substr(e + 1);
    bool neg = !exp.empty() && exp[0] == '-';
    if (!exp.empty() && (exp[0] == '+' || exp[0] == '-')) exp.erase(0, 1);
    while (exp.size() > 1 && exp[0] == '0') exp.erase(0, 1);
    s = mant + "e" + (neg ? "-" : "") + exp;
  }
  return s;
}

std::pair<double, const char*> time_unit(double max_seconds) {
  if (max_seconds >= 3 * 3600) return {3600, "h"};
  if (max_seconds >= 3 * 60) return {60, "min"};
  return {1, "s"};
}

const char* palette_color(std::size_t i) {
  static constexpr const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
                                             "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#393b79"};
  return kPalette[i % (sizeof kPalette / sizeof kPalette[0])];
}

std::string viridis(double t) {
  static constexpr double kStops[][3] = {
      {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  if (!std::isfinite(t)) t = 0;
  t = std::clamp(t, 0.0, 1.0) * 4;
  const int i = std::min(3, static_cast<int>(t));
  const double f = t - i;
  char buf[8];
  int rgb[3];
  for (int c = 0; c < 3; ++c) rgb[c] = static_cast<int>(std::lround(kStops[i][c] + f * (kStops[i + 1][c] - kStops[i][c])));
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
  return buf;
}

Frame plot_frame(int width, int height, bool title) {
  Frame f;
  f.left = kMarginLeft;
  f.top = kMarginTop + (title ? kTitleHeight : 0);
  f.width = std::max(10.0, width - kMarginLeft - kMarginRight);
  f.height = std::max(10.0, height - f.top - kMarginBottom);
  return f;
}

void plot_scales(const PlotSpec& spec, Scale& x, Scale& y, double& x_div) {
  Extent ex, ey;
  for (const PlotLine& l : spec.lines) {
    for (const ChartPoint& p : l.points) {
      if (!std::isfinite(p.y) || (spec.log_y && p.y <= 0)) continue;
      ex.add(p.x, false);
      ey.add(p.y, spec.log_y);
    }
  }
  x_div = 1;
  if (spec.time_axis && !ex.empty()) x_div = time_unit(ex.max).first;
  x = make_scale(ex.empty() ? 1 : ex.min / x_div, ex.empty() ? 0 : ex.max / x_div, false, true, !spec.time_axis);
  y = make_scale(ey.min, ey.max, spec.log_y);
}

namespace {

// The path data of a line ("M x y x y ... M x y"): a new subpath after every
// point that cannot be drawn; a lone point is written twice (with round caps
// it shows as a dot). Returns the points drawn.
std::size_t path_data(std::string& d, std::span<const ChartPoint> points, const Scale& xs, const Scale& ys,
                      double x_div, const Frame& f) {
  d.clear();
  std::size_t drawn = 0, in_segment = 0;
  double last_px = 0, last_py = 0;
  auto close_segment = [&] {
    if (in_segment == 1) d += ' ' + format_fixed(last_px, 1) + ' ' + format_fixed(last_py, 1);
    in_segment = 0;
  };
  for (const ChartPoint& p : points) {
    const double u = xs.unit(p.x / x_div);
    const double v = ys.unit(p.y);
    if (std::isnan(u) || std::isnan(v)) {
      close_segment();
      continue;
    }
    const double px = f.left + u * f.width;
    const double py = f.top + (1 - v) * f.height;
    if (!d.empty()) d += ' ';
    if (in_segment == 0) d += 'M';
    d += format_fixed(px, 1);
    d += ' ';
    d += format_fixed(py, 1);
    ++in_segment;
    ++drawn;
    last_px = px;
    last_py = py;
  }
  close_segment();
  return drawn;
}

}  // namespace

std::size_t write_svg_plot(Html& html, const PlotSpec& spec) {
  Scale xs, ys;
  double x_div = 1;
  plot_scales(spec, xs, ys, x_div);
  const std::size_t legend_rows = spec.legend ? spec.lines.size() : 0;
  const int height = spec.height + static_cast<int>(legend_rows * kLegendRow);
  const Frame f = plot_frame(spec.width, spec.height, !spec.title.empty());

  html.raw("<svg");
  if (spec.standalone) {
    html.raw(" xmlns=\"http://www.w3.org/2000/svg\"").attr_int("width", spec.width).attr_int("height", height);
    html.raw(" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\"");
  }
  html.raw(" viewBox=\"0 0 ").integer(spec.width).raw(" ").integer(height).raw("\"");
  if (!spec.svg_class.empty()) html.attr("class", spec.svg_class);
  html.raw(" role=\"img\"").attr("aria-label", spec.aria_label).raw(">");
  if (spec.standalone) html.raw("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>");
  if (!spec.title.empty()) {
    html.raw("<text class=\"title\" font-size=\"14\" font-weight=\"600\" fill=\"#111827\"").attr_num("x", f.left)
        .attr_num("y", kMarginTop + 12).raw(">").clipped(spec.title, 100).raw("</text>");
  }

  // grid and ticks
  html.raw("<g class=\"axis\" fill=\"#4b5563\" stroke=\"none\" font-size=\"11\">");
  for (double t : ys.ticks(5)) {
    const double v = ys.unit(t);
    if (!(v >= -1e-9 && v <= 1 + 1e-9)) continue;
    const double py = f.top + (1 - v) * f.height;
    html.raw("<line class=\"grid\" stroke=\"#e5e7eb\"").attr_num("x1", f.left).attr_num("x2", f.left + f.width)
        .attr_num("y1", py).attr_num("y2", py).raw("/>");
    html.raw("<text text-anchor=\"end\" dominant-baseline=\"middle\"").attr_num("x", f.left - 6).attr_num("y", py)
        .raw(">").text(tick_label(t)).raw("</text>");
  }
  for (double t : xs.ticks(6)) {
    const double u = xs.unit(t);
    if (!(u >= -1e-9 && u <= 1 + 1e-9)) continue;
    const double px = f.left + u * f.width;
    html.raw("<line class=\"tick\" stroke=\"#9ca3af\"").attr_num("x1", px).attr_num("x2", px)
        .attr_num("y1", f.top + f.height).attr_num("y2", f.top + f.height + 4).raw("/>");
    html.raw("<text text-anchor=\"middle\"").attr_num("x", px).attr_num("y", f.top + f.height + 16).raw(">")
        .text(tick_label(t)).raw("</text>");
  }
  html.raw("<rect class=\"frame\" fill=\"none\" stroke=\"#9ca3af\"").attr_num("x", f.left).attr_num("y", f.top)
      .attr_num("width", f.width).attr_num("height", f.height).raw("/>");
  std::string x_label(spec.x_label);
  if (spec.time_axis) x_label += std::string(" (") + time_unit(xs.hi * x_div).second + ")";
  html.raw("<text class=\"label\" text-anchor=\"middle\" fill=\"#374151\"")
      .attr_num("x", f.left + f.width / 2).attr_num("y", f.top + f.height + 34).raw(">").text(x_label).raw("</text>");
  if (!spec.y_label.empty()) {
    html.raw("<text class=\"label\" text-anchor=\"middle\" fill=\"#374151\"")
        .attr("transform", "translate(14 " + format_fixed(f.top + f.height / 2, 1) + ") rotate(-90)").raw(">")
        .clipped(std::string(spec.y_label) + (spec.log_y ? " (log)" : ""), 60).raw("</text>");
  }
  html.raw("</g>");

  // lines
  html.raw("<g class=\"plot\" fill=\"none\" stroke-linejoin=\"round\" stroke-linecap=\"round\"")
      .attr("data-x0", python_repr(xs.lo * x_div)).attr("data-x1", python_repr(xs.hi * x_div))
      .attr("data-y0", python_repr(ys.lo)).attr("data-y1", python_repr(ys.hi))
      .attr("data-log", spec.log_y ? "1" : "0").attr_num("data-left", f.left).attr_num("data-top", f.top)
      .attr_num("data-width", f.width).attr_num("data-height", f.height).raw(">");
  std::size_t drawn = 0;
  std::string d;
  bool in_muted_group = false;
  for (const PlotLine& l : spec.lines) {
    drawn += path_data(d, l.points, xs, ys, x_div, f);
    // Grey lines of a large sweep share their look through one group and
    // carry no <title>: a thousand of them stay a few hundred kB. (The page's
    // script names the run of any line on hover.)
    if (l.muted && l.points.size() > 3) {
      if (!in_muted_group) {
        html.raw("<g class=\"muted\" stroke-width=\"1\" stroke-opacity=\"0.45\"").attr("stroke", l.color).raw(">");
        in_muted_group = true;
      }
      html.raw("<path");
      if (!l.id.empty()) html.attr("data-run", l.id);
      html.attr("d", d).raw("/>");
      continue;
    }
    if (in_muted_group) {
      html.raw("</g>");
      in_muted_group = false;
    }
    html.raw("<path class=\"").raw(l.best ? Markup("run best") : Markup("run")).raw("\"");
    if (!l.id.empty()) html.attr("data-run", l.id);
    html.attr("stroke", l.color);
    if (l.points.size() <= 3) html.raw(" stroke-width=\"5\"");  // so few points: dots a reader can see
    else if (l.best) html.raw(" stroke-width=\"2.5\"");
    else html.raw(" stroke-width=\"1.5\"");
    if (l.muted) html.raw(" stroke-opacity=\"0.45\"");
    html.attr("d", d).raw("><title>").text(l.title).raw("</title></path>");
  }
  if (in_muted_group) html.raw("</g>");
  html.raw("</g>");

  if (spec.legend) {
    double y = spec.height + 2;
    for (const PlotLine& l : spec.lines) {
      html.raw("<g class=\"legend\"><line stroke-width=\"3\"").attr("stroke", l.color).attr_num("x1", f.left)
          .attr_num("x2", f.left + 18).attr_num("y1", y + 6).attr_num("y2", y + 6).raw("/>");
      html.raw("<text fill=\"#111827\" dominant-baseline=\"middle\"").attr_num("x", f.left + 24).attr_num("y", y + 6)
          .raw(">").clipped(l.title, 100);
      if (std::string note = not_drawn_note(l.points, spec.log_y); !note.empty()) html.text(" (" + note + ")");
      html.raw("</text></g>");
      y += kLegendRow;
    }
  }
  html.raw("</svg>");
  return drawn;
}

}  // namespace mlruns::detail
