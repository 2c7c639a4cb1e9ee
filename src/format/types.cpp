#include "mlruns/types.h"

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

}  // namespace mlruns
