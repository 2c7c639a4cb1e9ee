// Helpers for the report tests: render a report, read chart paths back to
// values, generate a large sweep with plain file writes.
#pragma once

#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "format/yaml_emit.h"
#include "html_dom.h"
#include "mlruns/reader.h"
#include "mlruns/report.h"
#include "test_util.h"

namespace mlruns::testing {

inline std::string render_report(const Reader& reader, ReportOptions options) {
  if (!options.generated_at_ms) options.generated_at_ms = 1700000000000;
  std::ostringstream out;
  auto summary = write_report(reader, options, out);
  INFO((summary ? std::string() : summary.error().to_string()));
  REQUIRE(summary);
  return out.str();
}

// The points of an SVG path "M x y x y M x y ..." (the report's form: M
// starts a subpath, pairs after it are line-tos; a lone point is written
// twice so that it shows as a dot, and counted once here).
inline std::vector<std::pair<double, double>> path_points(const std::string& d) {
  std::vector<std::pair<double, double>> out;
  std::istringstream in(d);
  std::string tok;
  std::vector<std::vector<double>> segments;
  while (in >> tok) {
    if (tok[0] == 'M') {
      segments.emplace_back();
      tok.erase(0, 1);
    }
    REQUIRE(!segments.empty());
    segments.back().push_back(std::stod(tok));
  }
  for (const std::vector<double>& s : segments) {
    REQUIRE(s.size() % 2 == 0);
    const bool lone = s.size() == 4 && s[0] == s[2] && s[1] == s[3];
    for (std::size_t i = 0; i < (lone ? 2 : s.size()); i += 2) out.emplace_back(s[i], s[i + 1]);
  }
  return out;
}

// Maps path coordinates back to (x, value) through the data-* attributes of
// the plot group (report.h / chart.h: write_svg_plot).
struct PlotFrame {
  double x0, x1, y0, y1, left, top, width, height;
  bool log;
  explicit PlotFrame(const GumboNode* g) {
    auto num = [&](const char* a) {
      const char* v = Dom::attr(g, a);
      REQUIRE(v != nullptr);
      return std::stod(v);
    };
    x0 = num("data-x0");
    x1 = num("data-x1");
    y0 = num("data-y0");
    y1 = num("data-y1");
    left = num("data-left");
    top = num("data-top");
    width = num("data-width");
    height = num("data-height");
    log = Dom::attr_or(g, "data-log") == "1";
  }
  double x(double px) const { return x0 + (px - left) / width * (x1 - x0); }
  double y(double py) const {
    const double u = 1 - (py - top) / height;
    return log ? std::pow(10.0, std::log10(y0) + u * (std::log10(y1) - std::log10(y0))) : y0 * (1 - u) + y1 * u;
  }
  // How far a value may be from the drawn one: 0.05 px of rounding, in value units.
  double x_tol() const { return (x1 / width - x0 / width) * 0.06; }
  double y_tol(double v) const {
    return log ? std::fabs(v) * (std::pow(10.0, (std::log10(y1) - std::log10(y0)) / height * 0.06) - 1)
               : (y1 / height - y0 / height) * 0.06;
  }
};

// A sweep of `runs` runs, `metrics` metrics m0.. of `steps` steps each, two
// varying params and a parent run, written as MLflow's file store lays it out.
inline void generate_sweep(const fs::path& root, std::size_t runs, int metrics, int steps) {
  const std::string exp = "1";
  write_file(root / exp / "meta.yaml",
             "artifact_location: file://" + (root / exp).string() +
                 "\ncreation_time: 1700000000000\nexperiment_id: '1'\nlast_update_time: 1700000000000\n"
                 "lifecycle_stage: active\nname: big-sweep\n");
  auto run_meta = [&](const std::string& run, const std::string& name, int status, long long start) {
    // An id PyYAML would type (000...0 is the octal int 0) is quoted, as yaml.safe_dump writes it (spec §14.4).
    const std::string id = detail::yaml_plain_is_ambiguous(run) ? "'" + run + "'" : run;
    return "artifact_uri: file://" + (root / exp / run / "artifacts").string() + "\nend_time: " +
           std::to_string(start + 60000) + "\nentry_point_name: ''\nexperiment_id: '1'\nlifecycle_stage: active\nrun_id: " +
           id + "\nrun_name: " + name + "\nrun_uuid: " + id + "\nsource_name: ''\nsource_type: 4\nsource_version: ''\n"
           "start_time: " + std::to_string(start) + "\nstatus: " + std::to_string(status) + "\ntags: []\nuser_id: bench\n";
  };
  const std::string parent = "ffffffffffffffffffffffffffffffff";
  write_file(root / exp / parent / "meta.yaml", run_meta(parent, "sweep", 3, 1700000000000));
  write_file(root / exp / parent / "tags" / "mlflow.runName", "sweep");
  for (std::size_t i = 0; i < runs; ++i) {
    char id[33];
    std::snprintf(id, sizeof id, "%08zx%024zx", (i * 2654435761u) % 0xffffffffu, i);
    const fs::path dir = root / exp / id;
    const int status = i % 97 == 5 ? 4 : 3;
    write_file(dir / "meta.yaml", run_meta(id, "trial-" + std::to_string(i), status, 1700000000000 + i * 1000));
    write_file(dir / "tags" / "mlflow.runName", "trial-" + std::to_string(i));
    write_file(dir / "tags" / "mlflow.parentRunId", parent);
    write_file(dir / "params" / "lr", std::to_string(1e-4 * (1 + i % 10)));
    write_file(dir / "params" / "layers", std::to_string(2 + i % 4));
    write_file(dir / "params" / "env", "CartPole-v1");
    const double quality = std::sin(static_cast<double>(i) * 0.7) * 0.5 + 0.5;
    for (int m = 0; m < metrics; ++m) {
      std::string text;
      for (int s = 0; s < steps; ++s) {
        const double v = quality * 100 * (1 - std::exp(-s / 50.0)) + m + std::sin(s * 0.3 + i) * 3;
        text += std::to_string(1700000000000LL + static_cast<long long>(i) * 1000 + s * 10) + " " +
                python_repr(v) + " " + std::to_string(s) + "\n";
      }
      write_file(dir / "metrics" / ("m" + std::to_string(m)), text);
    }
    fs::create_directories(dir / "artifacts");
  }
}

}  // namespace mlruns::testing
