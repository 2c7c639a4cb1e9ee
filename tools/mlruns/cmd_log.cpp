// `mlruns log RUN_ID --param K=V --metric K=V[@STEP] --tag K=V`: one batch of
// values into an existing run, from any process (the run need not be ours).
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "exit_codes.h"

namespace mlruns::cli {

struct LogOptions {
  std::string run_id;
  std::vector<std::string> params;
  std::vector<std::string> metrics;
  std::vector<std::string> tags;
  std::optional<std::string> timestamp;
};

namespace {

// KEY=VALUE into `map`; the same key twice with two values is refused as
// MLflow's log_batch does, rather than silently keeping one.
void add_unique(StringMap& map, std::string_view arg, std::string_view what) {
  auto [k, v] = split_key_value(arg, what);
  auto [it, inserted] = map.emplace(k, v);
  if (!inserted && it->second != v) {
    check(Status::invalid_argument(std::string(what) + " '" + k + "'", "given twice with different values"));
  }
}

}  // namespace

int run_log(const LogOptions& opt) {
  if (opt.params.empty() && opt.metrics.empty() && opt.tags.empty()) {
    check(Status::invalid_argument("log", "nothing to log: give --param, --metric or --tag"));
  }
  check(validate_run_id(opt.run_id));
  const std::int64_t ts =
      opt.timestamp ? parse_epoch_ms(*opt.timestamp, "--timestamp") : now_ms();
  StringMap params, tags;
  for (const std::string& p : opt.params) add_unique(params, p, "--param");
  for (const std::string& t : opt.tags) add_unique(tags, t, "--tag");
  std::vector<Metric> metrics;
  for (const std::string& m : opt.metrics) {
    auto [key, text] = split_key_value(m, "--metric");
    Metric point;
    point.key = key;
    point.timestamp = ts;
    // VALUE@STEP; '@' never occurs in a number, so the last one splits.
    std::string_view value = text;
    if (const auto at = value.rfind('@'); at != std::string_view::npos) {
      point.step = parse_int64(value.substr(at + 1), "--metric " + key + " step");
      value = value.substr(0, at);
    }
    point.value = parse_double(value, "--metric " + key + " value");
    metrics.push_back(std::move(point));
  }
  Store store = open_existing_store();
  check(store.log_batch(opt.run_id, metrics, params, tags));
  return kExitOk;
}

void setup_log(CLI::App& app, Commands& commands) {
  auto opt = std::make_shared<LogOptions>();
  auto* sub = app.add_subcommand("log", "Log params, metrics and tags to a run");
  sub->add_option("RUN_ID", opt->run_id, "Run id (from `mlruns run start`)")->required();
  sub->add_option("--param,-p", opt->params, "Param KEY=VALUE (repeatable; params never change)")
      ->allow_extra_args(false);
  sub->add_option("--metric,-m", opt->metrics, "Metric KEY=VALUE or KEY=VALUE@STEP (repeatable; step 0 if omitted)")
      ->allow_extra_args(false);
  sub->add_option("--tag,-t", opt->tags, "Tag KEY=VALUE (repeatable)")
      ->allow_extra_args(false);
  sub->add_option("--timestamp", opt->timestamp, "Metric timestamp in ms since the epoch, 13 digits (default: now)");
  add_tracking_uri(*sub);
  add_run_experiment(*sub);
  commands.add(sub, [opt] { return run_log(*opt); });
}

}  // namespace mlruns::cli
