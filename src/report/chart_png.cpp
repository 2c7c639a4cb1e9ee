// write_chart_png (report.h): the standalone chart drawn with cairo, with the
// geometry of the SVG (plot_frame, plot_scales, the same ticks and colours).
#include <cairo.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "mlruns/report.h"
#include "report/chart.h"

namespace mlruns {
namespace {

void set_hex(cairo_t* cr, const char* hex, double alpha = 1) {
  unsigned r = 0, g = 0, b = 0;
  if (hex && hex[0] == '#') std::sscanf(hex + 1, "%02x%02x%02x", &r, &g, &b);
  cairo_set_source_rgba(cr, r / 255.0, g / 255.0, b / 255.0, alpha);
}

// Text as cairo's toy API draws it: UTF-8; control characters would draw as
// boxes, so they are shown escaped as everywhere else.
void show(cairo_t* cr, double x, double y, const std::string& text, double align) {
  std::string clean = detail::clip_text(text, 100);
  for (char& c : clean)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  cairo_text_extents_t ext;
  cairo_text_extents(cr, clean.c_str(), &ext);
  cairo_move_to(cr, x - ext.x_advance * align, y);
  cairo_show_text(cr, clean.c_str());
}

}  // namespace

Status write_chart_png(const Chart& chart, const std::string& path, int width, int height) {
  // Drawn at the SVG's size and scaled, so both look alike.
  const int base_w = 720;
  const double scale = width / static_cast<double>(base_w);
  const int base_h = static_cast<int>(std::lround(height / scale));
  detail::PlotSpec spec = detail::standalone_spec(chart, base_w, base_h - 18 * static_cast<int>(chart.series.size()));
  detail::Scale xs, ys;
  double x_div = 1;
  detail::plot_scales(spec, xs, ys, x_div);
  const detail::Frame f = detail::plot_frame(spec.width, spec.height, !spec.title.empty());

  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
  cairo_t* cr = cairo_create(surface);
  cairo_scale(cr, scale, scale);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  if (!chart.title.empty()) {
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, 14);
    set_hex(cr, "#111827");
    show(cr, f.left, 24, chart.title, 0);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  }
  cairo_set_font_size(cr, 11);
  cairo_set_line_width(cr, 1);

  for (double t : ys.ticks(5)) {
    const double v = ys.unit(t);
    if (!(v >= -1e-9 && v <= 1 + 1e-9)) continue;
    const double py = f.top + (1 - v) * f.height;
    set_hex(cr, "#e5e7eb");
    cairo_move_to(cr, f.left, py);
    cairo_line_to(cr, f.left + f.width, py);
    cairo_stroke(cr);
    set_hex(cr, "#4b5563");
    show(cr, f.left - 6, py + 4, detail::tick_label(t), 1);
  }
  for (double t : xs.ticks(6)) {
    const double u = xs.unit(t);
    if (!(u >= -1e-9 && u <= 1 + 1e-9)) continue;
    const double px = f.left + u * f.width;
    set_hex(cr, "#9ca3af");
    cairo_move_to(cr, px, f.top + f.height);
    cairo_line_to(cr, px, f.top + f.height + 4);
    cairo_stroke(cr);
    set_hex(cr, "#4b5563");
    show(cr, px, f.top + f.height + 16, detail::tick_label(t), 0.5);
  }
  set_hex(cr, "#9ca3af");
  cairo_rectangle(cr, f.left, f.top, f.width, f.height);
  cairo_stroke(cr);
  set_hex(cr, "#374151");
  std::string x_label = chart.x_label;
  if (spec.time_axis) x_label += std::string(" (") + detail::time_unit(xs.hi * x_div).second + ")";
  show(cr, f.left + f.width / 2, f.top + f.height + 34, x_label, 0.5);
  if (!chart.y_label.empty()) {
    cairo_save(cr);
    cairo_translate(cr, 14, f.top + f.height / 2);
    cairo_rotate(cr, -M_PI / 2);
    show(cr, 0, 4, chart.y_label + (chart.log_y ? " (log)" : ""), 0.5);
    cairo_restore(cr);
  }

  cairo_save(cr);
  cairo_rectangle(cr, f.left, f.top, f.width, f.height);
  cairo_clip(cr);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  for (const detail::PlotLine& l : spec.lines) {
    bool pen = false;
    for (const ChartPoint& p : l.points) {
      const double u = xs.unit(p.x / x_div);
      const double v = ys.unit(p.y);
      if (std::isnan(u) || std::isnan(v)) {
        pen = false;
        continue;
      }
      const double px = f.left + u * f.width, py = f.top + (1 - v) * f.height;
      if (pen) {
        cairo_line_to(cr, px, py);
      } else {
        cairo_move_to(cr, px, py);
        cairo_line_to(cr, px, py);  // a lone point shows as a dot
      }
      pen = true;
    }
    set_hex(cr, l.color);
    cairo_set_line_width(cr, l.best ? 2.5 : 1.5);
    cairo_stroke(cr);
  }
  cairo_restore(cr);

  double y = spec.height + 2;
  cairo_set_font_size(cr, 12);
  for (const detail::PlotLine& l : spec.lines) {
    set_hex(cr, l.color);
    cairo_set_line_width(cr, 3);
    cairo_move_to(cr, f.left, y + 6);
    cairo_line_to(cr, f.left + 18, y + 6);
    cairo_stroke(cr);
    set_hex(cr, "#111827");
    std::string text(l.title);
    if (std::string note = detail::not_drawn_note(l.points, spec.log_y); !note.empty()) text += " (" + note + ")";
    show(cr, f.left + 24, y + 10, text, 0);
    y += 18;
  }

  cairo_destroy(cr);
  cairo_surface_flush(surface);
  const cairo_status_t st = cairo_surface_write_to_png(surface, path.c_str());
  cairo_surface_destroy(surface);
  if (st != CAIRO_STATUS_SUCCESS)
    return Status::io_error(path, std::string("cannot write the PNG: ") + cairo_status_to_string(st));
  return Status::ok();
}

}  // namespace mlruns
