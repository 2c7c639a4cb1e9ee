// write_terminal_chart (report.h): a chart in a terminal, for SSH sessions.
// Unicode braille gives 2 x 4 dots per character cell; the ASCII fallback
// one mark per cell. Labels from the tree are escaped (no control character
// reaches the terminal) and cut by display width (utf8proc: CJK is 2 wide).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <utf8proc.h>

#include "mlruns/report.h"
#include "report/chart.h"
#include "util/printable.h"

namespace mlruns {
namespace {

constexpr const char* kAnsi[] = {"\x1b[34m", "\x1b[33m", "\x1b[32m", "\x1b[35m", "\x1b[36m", "\x1b[31m"};
constexpr const char kAsciiMarks[] = {'*', '+', 'o', 'x', '#', '%'};

// Calls fn(bytes, code point, width) for each character of UTF-8 text; a byte
// that does not start a valid character comes as itself with code point -1.
template <typename Fn>
void each_char(std::string_view text, Fn&& fn) {
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(text.size());
  while (left > 0) {
    utf8proc_int32_t cp = -1;
    utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) {
      n = 1;
      cp = -1;
    }
    const int w = cp < 0 ? 1 : std::max(0, utf8proc_charwidth(cp));
    if (!fn(std::string_view(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)), cp, w)) return;
    p += n;
    left -= n;
  }
}

int display_width(std::string_view text) {
  int w = 0;
  each_char(text, [&](std::string_view, utf8proc_int32_t, int width) {
    w += width;
    return true;
  });
  return w;
}

// `text` with control characters escaped, cut to `width` terminal columns
// with "…" (invalid UTF-8 shown as U+FFFD).
std::string fit(std::string_view text, int width) {
  const std::string clean = detail::escape_control(text);
  const bool cut = display_width(clean) > width;
  const int room = cut ? width - 1 : width;
  std::string out;
  int used = 0;
  each_char(clean, [&](std::string_view bytes, utf8proc_int32_t cp, int w) {
    if (used + w > room) return false;
    out += cp < 0 ? std::string_view("\xef\xbf\xbd") : bytes;
    used += w;
    return true;
  });
  if (cut) out += "\xe2\x80\xa6";
  return out;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  utf8proc_uint8_t buf[4];
  const utf8proc_ssize_t n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), buf);
  out.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
}

}  // namespace

void write_terminal_chart(std::ostream& out, const Chart& chart, const TerminalChartOptions& options) {
  const int width = std::max(30, options.width);
  const int rows = std::max(4, options.height);
  detail::PlotSpec spec;
  spec.log_y = chart.log_y;
  spec.time_axis = chart.x_label == "time";
  for (const ChartSeries& s : chart.series) {
    detail::PlotLine line;
    line.points = s.points;
    spec.lines.push_back(line);
  }
  detail::Scale xs, ys;
  double x_div = 1;
  detail::plot_scales(spec, xs, ys, x_div);

  std::string top = detail::tick_label(ys.hi), mid = detail::tick_label(ys.middle()),
              bottom = detail::tick_label(ys.lo);
  const int label_w = static_cast<int>(std::max({top.size(), mid.size(), bottom.size()}));
  const int cols = width - label_w - 2;  // labels, a space, the axis line
  // Braille dots take the colour of their cell only: without colours, several
  // series are told apart by marks of their own instead.
  const bool braille = options.unicode && (options.color || chart.series.size() == 1);
  const int dots_x = cols * (braille ? 2 : 1), dots_y = rows * (braille ? 4 : 1);

  // Per cell: braille bits (or 1 for a mark) and the series drawn last.
  std::vector<std::uint8_t> bits(static_cast<std::size_t>(cols * rows), 0);
  std::vector<int> owner(static_cast<std::size_t>(cols * rows), -1);
  auto plot = [&](int dx, int dy, int series) {
    if (dx < 0 || dy < 0 || dx >= dots_x || dy >= dots_y) return;
    const int cx = braille ? dx / 2 : dx, cy = braille ? dy / 4 : dy;
    const std::size_t cell = static_cast<std::size_t>(cy * cols + cx);
    if (braille) {
      static constexpr std::uint8_t kDot[4][2] = {{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}};
      bits[cell] |= kDot[dy % 4][dx % 2];
    } else {
      bits[cell] = 1;
    }
    owner[cell] = series;
  };
  for (std::size_t si = 0; si < chart.series.size(); ++si) {
    bool pen = false;
    int px = 0, py = 0;
    for (const ChartPoint& p : chart.series[si].points) {
      const double u = xs.unit(p.x / x_div), v = ys.unit(p.y);
      if (std::isnan(u) || std::isnan(v)) {
        pen = false;
        continue;
      }
      const int x = static_cast<int>(std::lround(u * (dots_x - 1)));
      const int y = static_cast<int>(std::lround((1 - v) * (dots_y - 1)));
      if (!pen) {
        plot(x, y, static_cast<int>(si));
      } else {  // a straight segment, one dot per step of the longer side
        const int steps = std::max(std::abs(x - px), std::abs(y - py));
        for (int k = 1; k <= steps; ++k)
          plot(px + (x - px) * k / steps, py + (y - py) * k / steps, static_cast<int>(si));
        if (steps == 0) plot(x, y, static_cast<int>(si));
      }
      pen = true;
      px = x;
      py = y;
    }
  }

  if (!chart.title.empty()) out << fit(chart.title, width) << '\n';
  for (int r = 0; r < rows; ++r) {
    std::string label = r == 0 ? top : r == rows - 1 ? bottom : r == rows / 2 ? mid : "";
    out << std::string(static_cast<std::size_t>(label_w) - label.size(), ' ') << label << ' '
        << (options.unicode ? "\xe2\x94\xa4" : "|");  // ┤
    std::string line;
    int color = -1;
    for (int c = 0; c < cols; ++c) {
      const std::size_t cell = static_cast<std::size_t>(r * cols + c);
      const int who = owner[cell];
      if (options.color && who != color) {
        line += who < 0 ? "\x1b[0m" : kAnsi[static_cast<std::size_t>(who) % 6];
        color = who;
      }
      if (bits[cell] == 0) {
        line += ' ';
      } else if (braille) {
        append_utf8(line, 0x2800u + bits[cell]);
      } else {
        line += kAsciiMarks[static_cast<std::size_t>(who) % sizeof kAsciiMarks];
      }
    }
    if (options.color && color >= 0) line += "\x1b[0m";
    out << line << '\n';
  }
  // x axis: a rule, then the first, middle and last tick values under it
  std::string rule;
  for (int c = 0; c < cols; ++c) rule += options.unicode ? "\xe2\x94\x80" : "-";  // ─
  out << std::string(static_cast<std::size_t>(label_w) + 1, ' ') << (options.unicode ? "\xe2\x94\x94" : "+") << rule
      << '\n';
  std::string x_label = chart.x_label;
  if (spec.time_axis) x_label += std::string(" (") + detail::time_unit(xs.hi * x_div).second + ")";
  const std::string lo = detail::tick_label(xs.lo), hi = detail::tick_label(xs.hi);
  std::string name = fit(x_label, std::max(1, cols - static_cast<int>(lo.size() + hi.size()) - 4));
  int gap = cols - static_cast<int>(lo.size() + hi.size()) - display_width(name);
  if (gap < 2) {
    name.clear();
    gap = std::max(1, cols - static_cast<int>(lo.size() + hi.size()));
  }
  out << std::string(static_cast<std::size_t>(label_w) + 2, ' ') << lo << std::string(static_cast<std::size_t>(gap / 2), ' ')
      << name << std::string(static_cast<std::size_t>(gap - gap / 2), ' ') << hi << '\n';
  // legend
  for (std::size_t si = 0; si < chart.series.size(); ++si) {
    const ChartSeries& s = chart.series[si];
    std::string mark = braille ? "\xe2\xa3\xbf" : std::string(1, kAsciiMarks[si % sizeof kAsciiMarks]);
    if (options.color) mark = std::string(kAnsi[si % 6]) + mark + "\x1b[0m";
    std::string note = detail::not_drawn_note(s.points, chart.log_y, options.unicode);
    if (!note.empty()) note = " (" + note + ")";
    out << "  " << mark << ' ' << fit(s.label, width - 4 - display_width(note)) << note << '\n';
  }
}

}  // namespace mlruns
