// reap (reap.h): ends orphaned RUNNING runs as KILLED.
#include "mlruns/reap.h"

#include "env/line_tail.h"
#include "format/layout.h"
#include "format/meta_parse.h"
#include "maint/maint_common.h"
#include "mlruns/env.h"
#include "mlruns/key.h"

namespace mlruns {
namespace {

using detail::join;

std::map<std::string, std::string> liveness_tags(Env& env, const std::string& run_dir) {
  std::map<std::string, std::string> tags;
  for (const char* key : {kTagHost, kTagPid, kTagPidStart, kTagOwnerChain}) {
    if (auto v = detail::read_small(env, join(join(run_dir, "tags"), key), 4096)) tags[key] = *v;
  }
  return tags;
}

std::string duration(std::int64_t ms) {
  std::int64_t min = ms / 60000;
  if (min < 60) return std::to_string(min) + "m";
  if (min < 48 * 60) return std::to_string(min / 60) + "h " + std::to_string(min % 60) + "m";
  return std::to_string(min / 1440) + "d " + std::to_string(min % 1440 / 60) + "h";
}

}  // namespace

Result<ReapReport> reap(std::string_view tracking_uri, const ReapOptions& opt) {
  auto tree = detail::open_tree(opt.env, tracking_uri);
  if (!tree) return fail(tree.error());
  Env& env = *tree->env;
  const std::string* root = &tree->root;
  if (opt.older_than_ms < 0) return fail(Status::invalid_argument("--older-than", "must not be negative"));
  ReapReport report;
  report.root = *root;
  const std::int64_t now = env.now_ms();
  for (const detail::ExperimentDir& e : detail::experiment_dirs(env, *root)) {
    if (e.in_trash) continue;  // MLflow updates only active runs (spec §7)
    for (const std::string& name : detail::run_dir_names(env, e.dir)) {
      std::string dir = join(e.dir, name);
      std::string meta = join(dir, "meta.yaml");
      auto text = detail::read_small(env, meta);
      if (!text) continue;
      auto info = detail::parse_run_meta(*text);
      if (!info || info->status != RunStatus::kRunning || info->lifecycle_stage != LifecycleStage::kActive) continue;
      ++report.running;
      auto tags = liveness_tags(env, dir);
      ProcessState state = opt.probe ? opt.probe(tags) : process_state(tags);
      auto life = last_sign_of_life(env, dir);
      if (!life) {
        report.errors.push_back(life.error());
        continue;
      }
      std::string where = tags.count(kTagPid) ? "process " + tags[kTagPid] + " on " + tags[kTagHost] : "";
      std::string reason;
      if (state == ProcessState::kAlive) {
        ++report.alive;
        continue;
      } else if (state == ProcessState::kGone) {
        reason = where + " is gone";
      } else if (now - *life >= opt.older_than_ms) {
        reason = "silent for " + duration(now - *life) + (where.empty() ? "" : " (" + where + ", not checkable here)");
      } else {
        ++report.alive;
        continue;
      }
      // The run cannot have ended before it started (clock skew between nodes).
      std::int64_t end_time = std::max(*life, info->start_time);
      ReapChange change{info->run_id, e.id, meta, reason, end_time, false, {}};
      if (!opt.dry_run) {
        // Its writer is dead: a partial last line is an unfinished append, never acknowledged.
        bool failed = false;
        for (const std::string& path : detail::metric_files(env, join(dir, "metrics"))) {
          auto cut = detail::repair_line_file(env, path);
          if (!cut) {
            if (cut.error().code() == Code::kNotFound) continue;
            report.errors.push_back(cut.error());
            failed = true;
            continue;
          }
          if (!cut->cut.empty() || cut->removed) change.partial_lines_cut.push_back(path);
        }
        if (failed) continue;  // not ended while a metric file still ends in a partial line
      }
      auto done = detail::apply_meta_edit(env, meta, *text,
                                          {{"status", detail::MetaValue::integer(static_cast<int>(RunStatus::kKilled))},
                                           {"end_time", detail::MetaValue::integer(end_time)}},
                                          opt.dry_run);
      if (!done) {
        report.errors.push_back(done.error());
        continue;
      }
      change.applied = !opt.dry_run;
      report.changes.push_back(std::move(change));
    }
  }
  return report;
}

}  // namespace mlruns
