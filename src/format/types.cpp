#include "mlruns/types.h"

#include "format/metric_file.h"
#include "format/py_format.h"

namespace mlruns {

std::string_view to_string(RunStatus status) {
  switch (status) {
    case RunStatus::kRunning: return "RUNNING";
    case RunStatus::kScheduled: return "SCHEDULED";
    case RunStatus::kFinished: return "FINISHED";
    case RunStatus::kFailed: return "FAILED";
    case RunStatus::kKilled: return "KILLED";
  }
  return "RUNNING";
}

std::optional<RunStatus> parse_run_status(std::string_view name) {
  for (int i = 1; i <= 5; ++i) {
    auto s = static_cast<RunStatus>(i);
    if (to_string(s) == name) return s;
  }
  return std::nullopt;
}

std::optional<RunStatus> run_status_from_int(std::int64_t value) {
  if (value < 1 || value > 5) return std::nullopt;
  return static_cast<RunStatus>(value);
}

std::string_view to_string(LifecycleStage stage) {
  return stage == LifecycleStage::kActive ? "active" : "deleted";
}

std::string python_repr(double value) { return detail::py_float(value); }

std::string_view to_string(ModelStage stage) {
  switch (stage) {
    case ModelStage::kNone: return "None";
    case ModelStage::kStaging: return "Staging";
    case ModelStage::kProduction: return "Production";
    case ModelStage::kArchived: return "Archived";
  }
  return "None";
}

std::optional<ModelStage> parse_model_stage(std::string_view name) {
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& c : out)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
  };
  std::string n = lower(name);
  for (ModelStage s : {ModelStage::kNone, ModelStage::kStaging, ModelStage::kProduction, ModelStage::kArchived})
    if (n == lower(to_string(s))) return s;
  return std::nullopt;
}

std::string python_repr_float32(float value) { return detail::py_float32(value); }

namespace {
// Python's str.strip(): ASCII whitespace.
std::string_view strip(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}
}  // namespace

std::optional<double> parse_python_float(std::string_view text) {
  double v = 0;
  if (!detail::parse_float_field(strip(text), v)) return std::nullopt;
  return v;
}

std::optional<std::int64_t> parse_python_int(std::string_view text) {
  std::int64_t v = 0;
  if (!detail::parse_int_field(strip(text), v)) return std::nullopt;
  return v;
}

}  // namespace mlruns
