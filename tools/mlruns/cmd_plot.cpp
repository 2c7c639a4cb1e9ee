// `mlruns plot RUN_ID -m METRIC...`: one chart of a run's metrics, as an SVG
// or PNG file, or drawn in the terminal. Also the terminal settings that
// `mlruns history --plot` shares.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "exit_codes.h"
#include "mlruns/report.h"

namespace mlruns::cli {

struct PlotOptions {
  std::string run_id;
  std::vector<std::string> metrics;
  std::string output;
  std::string x_axis = "step";
  bool log_y = false;
  int width = 0;
  int height = 0;
  bool ascii = false;
};

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The locale's character set is UTF-8 (LC_ALL, else LC_CTYPE, else LANG).
bool utf8_locale() {
  for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') continue;
    std::string s(v);
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s.find("utf-8") != std::string::npos || s.find("utf8") != std::string::npos;
  }
  return false;
}

}  // namespace

TerminalChartOptions terminal_chart_options(int width, int height, bool ascii) {
  TerminalChartOptions t;
  const std::size_t columns = terminal_width();
  t.width = width > 0 ? width : columns > 0 ? static_cast<int>(std::min<std::size_t>(columns, 200)) : 80;
  t.height = height > 0 ? height : 16;
  t.unicode = !ascii && utf8_locale();
  const char* no_color = std::getenv("NO_COLOR");
  t.color = isatty(STDOUT_FILENO) != 0 && (no_color == nullptr || *no_color == '\0');
  return t;
}

int run_plot(const PlotOptions& opt) {
  check(validate_run_id(opt.run_id));
  Reader reader = open_reader();
  Chart chart = check(metric_chart(reader, opt.run_id, opt.metrics,
                                   opt.x_axis == "time" ? XAxis::kRelativeTime : XAxis::kStep));
  chart.log_y = opt.log_y;
  if (opt.output.empty()) {
    write_terminal_chart(machine_out(), chart, terminal_chart_options(opt.width, opt.height, opt.ascii));
    return kExitOk;
  }
  const int w = opt.width > 0 ? opt.width : 0, h = opt.height > 0 ? opt.height : 0;
  if (opt.output == "-" || ends_with(opt.output, ".svg")) {
    const std::string svg = chart_svg(chart, w ? w : 720, h ? h : 360);
    if (opt.output == "-") {
      machine_out() << svg;
    } else {
      std::ofstream out(opt.output, std::ios::binary | std::ios::trunc);
      out << svg;
      out.close();
      if (!out) check(Status::io_error(opt.output, "cannot write the SVG"));
    }
  } else if (ends_with(opt.output, ".png")) {
    check(write_chart_png(chart, opt.output, w ? w : 1440, h ? h : 720));
  } else {
    check(Status::invalid_argument("--output '" + opt.output + "'", "must end in .svg or .png (or be - for SVG on stdout)"));
  }
  if (opt.output != "-") machine_out() << opt.output << '\n';
  return kExitOk;
}

void setup_plot(CLI::App& app, Commands& commands) {
  auto opt = std::make_shared<PlotOptions>();
  auto* sub = app.add_subcommand("plot", "Chart a run's metrics: SVG or PNG file, or in the terminal");
  sub->add_option("RUN_ID", opt->run_id, "Run id")->required();
  sub->add_option("--metric,-m", opt->metrics, "Metric key (repeatable: several lines in one chart)")
      ->required()
      ->allow_extra_args(false);
  sub->add_option("--output,-o", opt->output,
                  "out.svg or out.png (1440x720 by default), - for SVG on stdout; default: draw in the terminal");
  sub->add_option("--x", opt->x_axis, "x axis: step (default) or time (since the first point)")
      ->check(CLI::IsMember({"step", "time"}));
  sub->add_flag("--log", opt->log_y, "Log scale on y (values <= 0 are not drawn)");
  sub->add_option("--width", opt->width, "Width: pixels for a file, columns in the terminal")->check(CLI::Range(30, 10000));
  sub->add_option("--height", opt->height, "Height: pixels for a file, rows in the terminal")->check(CLI::Range(4, 10000));
  sub->add_flag("--ascii", opt->ascii, "Terminal: ASCII marks instead of Unicode braille (the default outside UTF-8 locales)");
  add_tracking_uri(*sub);
  add_run_experiment(*sub);
  commands.add(sub, [opt] { return run_plot(*opt); });
}

}  // namespace mlruns::cli
