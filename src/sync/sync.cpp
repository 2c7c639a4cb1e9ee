// One sync pass (sync.h): find what changed since the record (stat only),
// load just those runs, and sync them parents first with `jobs` workers,
// each with its own connection.
#include "mlruns/sync.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>

#include "mlruns/key.h"
#include "format/layout.h"
#include "sync/engine.h"
#include "util/parallel.h"
#include "util/printable.h"

// MLRUNS_RETURN_IF_ERROR for functions that return a Result.
#define RETURN_FAIL_IF_ERROR(expr)                    \
  do {                                                \
    ::mlruns::Status status_ = (expr);                \
    if (!status_.is_ok()) return ::mlruns::fail(status_); \
  } while (0)

namespace mlruns {

using nlohmann::json;

std::string_view to_string(RunSyncState state) {
  switch (state) {
    case RunSyncState::kCreated: return "created";
    case RunSyncState::kUpdated: return "updated";
    case RunSyncState::kUnchanged: return "unchanged";
    case RunSyncState::kSkipped: return "skipped";
    case RunSyncState::kFailed: return "failed";
  }
  return "unknown";
}

namespace {

Status env_number(const char* name, double& out, bool integer) {
  const char* v = std::getenv(name);
  if (!v || !*v) return Status::ok();
  char* end = nullptr;
  double d = std::strtod(v, &end);
  if (end == v || *end != '\0' || d < 0 || (integer && d != static_cast<double>(static_cast<long long>(d))))
    return Status::invalid_argument(std::string(name) + "='" + detail::escape_control(v) + "'",
                                    integer ? "must be a whole number >= 0" : "must be a number >= 0");
  out = d;
  return Status::ok();
}

Status env_bool(const char* name, bool& out) {
  const char* v = std::getenv(name);
  if (!v || !*v) return Status::ok();
  std::string s(v);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  // mlflow/environment_variables.py _BooleanEnvironmentVariable: true, false, 1, 0.
  if (s == "true" || s == "1") out = true;
  else if (s == "false" || s == "0") out = false;
  else return Status::invalid_argument(std::string(name) + "='" + detail::escape_control(v) + "'",
                                       "must be true, false, 1 or 0");
  return Status::ok();
}

std::string env_string(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

Result<ServerOptions> ServerOptions::from_environment(std::string url) {
  ServerOptions o;
  o.url = std::move(url);
  o.username = env_string("MLFLOW_TRACKING_USERNAME");
  o.password = env_string("MLFLOW_TRACKING_PASSWORD");
  o.token = env_string("MLFLOW_TRACKING_TOKEN");
  o.server_cert_path = env_string("MLFLOW_TRACKING_SERVER_CERT_PATH");
  o.client_cert_path = env_string("MLFLOW_TRACKING_CLIENT_CERT_PATH");
  RETURN_FAIL_IF_ERROR(env_bool("MLFLOW_TRACKING_INSECURE_TLS", o.insecure_tls));
  RETURN_FAIL_IF_ERROR(env_bool("MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER", o.respect_retry_after));
  double retries = o.max_retries;
  RETURN_FAIL_IF_ERROR(env_number("MLFLOW_HTTP_REQUEST_MAX_RETRIES", retries, true));
  o.max_retries = static_cast<int>(std::min(retries, 100.0));
  RETURN_FAIL_IF_ERROR(env_number("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", o.backoff_factor, false));
  RETURN_FAIL_IF_ERROR(env_number("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", o.backoff_jitter, false));
  RETURN_FAIL_IF_ERROR(env_number("MLFLOW_HTTP_REQUEST_TIMEOUT", o.timeout_seconds, false));
  if (o.insecure_tls && !o.server_cert_path.empty())
    return fail(Status::invalid_argument("MLFLOW_TRACKING_INSECURE_TLS and MLFLOW_TRACKING_SERVER_CERT_PATH",
                                         "cannot both be set (mlflow/utils/rest_utils.py)"));
  return o;
}

namespace detail {

ServerExperiment SyncShared::server_experiment(MlflowApi& api, const RunTask& task) {
  std::lock_guard<std::mutex> g(mu);  // one lookup per experiment and pass; workers of the same experiment wait
  auto it = experiments.find(task.experiment_id);
  if (it != experiments.end()) return it->second;
  ServerExperiment out;
  const std::string& name = task.experiment_name;
  for (int round = 0; round <= options.server.max_retries + 1; ++round) {
    auto got = api.get("experiments/get-by-name", {{"experiment_name", name}});
    if (got) {
      const json& e = (*got)["experiment"];
      out.id = e.value("experiment_id", "");
      if (e.value("lifecycle_stage", "active") == "deleted") {
        out.status = Status::failed_precondition(
            "experiment '" + escape_control(name) + "'",
            "is deleted on the server (id " + escape_control(out.id) + "): restore it there (mlflow experiments restore "
            "--experiment-id " + escape_control(out.id) + ") or rename the local one (mlruns experiments rename)");
      }
      break;
    }
    if (got.error().code() != Code::kNotFound) {
      out.status = got.error();
      break;
    }
    json tags = json::array();
    if (auto le = local_experiments.find(task.experiment_id); le != local_experiments.end())
      for (const auto& [k, v] : le->second.tags) tags.push_back({{"key", k}, {"value", v}});
    auto made = api.post("experiments/create", {{"name", name}, {"tags", tags}}, RetryPolicy::kOnce);
    if (made) {
      out.id = made->value("experiment_id", "");
      break;
    }
    // Created meanwhile by another sync, or our create's answer was lost: look it up again.
    if (made.error().code() != Code::kAlreadyExists && !api.last_uncertain()) {
      out.status = made.error();
      break;
    }
  }
  if (out.status.is_ok() && out.id.empty())
    out.status = Status::io_error("experiment '" + escape_control(name) + "'", "the server gave no experiment id");
  experiments[task.experiment_id] = out;
  return out;
}

std::optional<std::string> SyncShared::verified_server_run_id(const std::string& local_run_id) {
  std::lock_guard<std::mutex> g(mu);
  auto it = server_run_ids.find(local_run_id);
  if (it != server_run_ids.end()) return it->second;
  return std::nullopt;
}

std::optional<std::string> SyncShared::recorded_server_run_id(const std::string& local_run_id) {
  if (!validate_run_id(local_run_id).is_ok()) return std::nullopt;
  auto rec = records.load(local_run_id);
  if (rec && !rec->server_run_id.empty()) return rec->server_run_id;
  return std::nullopt;
}

void SyncShared::add_progress(std::uint64_t bytes, std::uint64_t points, bool run_done) {
  std::lock_guard<std::mutex> g(mu);
  progress.bytes_done += bytes;
  progress.points_sent += points;
  if (run_done) ++progress.runs_done;
  auto now = std::chrono::steady_clock::now();
  if (options.on_progress && (run_done || now - last_progress > std::chrono::milliseconds(200))) {
    last_progress = now;
    options.on_progress(progress);
  }
}

namespace {

// Depth of a run below the runs of this pass (parents first).
int depth_of(const std::string& id, const std::map<std::string, RunTask*>& by_id, int guard = 0) {
  auto it = by_id.find(id);
  if (it == by_id.end() || it->second->parent_id.empty() || guard > 64) return 0;
  if (!by_id.count(it->second->parent_id)) return 0;
  return 1 + depth_of(it->second->parent_id, by_id, guard + 1);
}

void count(SyncResult& result, const RunSyncReport& r) {
  switch (r.state) {
    case RunSyncState::kCreated: ++result.runs_created; break;
    case RunSyncState::kUpdated: ++result.runs_updated; break;
    case RunSyncState::kUnchanged: ++result.runs_unchanged; break;
    case RunSyncState::kSkipped: ++result.runs_skipped; break;
    case RunSyncState::kFailed: ++result.runs_failed; break;
  }
  result.conflicts += r.conflicts.size();
  result.files_unread += r.files_unread;
  result.points_sent += r.points_sent;
  result.params_sent += r.params_sent;
  result.tags_sent += r.tags_sent;
  result.artifacts_sent += r.artifacts_sent;
}

}  // namespace
}  // namespace detail

Result<SyncResult> sync_tree(const Reader& reader, const SyncOptions& options) {
  using namespace detail;
  SyncResult result;
  Env& env = *reader.options().env;
  ReaderContext ctx;
  ctx.env = &env;
  ctx.layout.root = reader.root();
  ctx.options = reader.options();
  ctx.warn_mu = std::make_shared<std::mutex>();
  const unsigned jobs = std::clamp(options.jobs, 1u, 64u);

  // Connections: one per worker, checked before anything else is done.
  std::vector<std::unique_ptr<HttpClient>> clients;
  std::vector<std::unique_ptr<MlflowApi>> apis;
  if (!options.dry_run) {
    for (unsigned i = 0; i < jobs; ++i) {
      auto c = HttpClient::create(options.server, options.stop);
      if (!c) return fail(c.error());
      clients.push_back(std::move(*c));
      apis.push_back(std::make_unique<MlflowApi>(*clients.back()));
    }
  } else if (!options.server.url.starts_with("http://") && !options.server.url.starts_with("https://")) {
    return fail(Status::invalid_argument("server URL '" + redact_url(options.server.url) + "'",
                                         "must be http://HOST[:PORT][/PATH] or https://..."));
  }
  SyncShared sh(options, env, std::move(ctx), redact_url(options.server.url));

  // Experiments to sync.
  std::vector<Experiment> exps;
  const ViewType view = options.include_deleted ? ViewType::kAll : ViewType::kActiveOnly;
  if (options.experiments.empty()) {
    auto all = reader.experiments(view);
    if (!all) return fail(all.error());
    exps = std::move(*all);
  } else {
    for (const std::string& e : options.experiments) {
      auto found = reader.find_experiment(e);
      if (!found) return fail(found.error());
      exps.push_back(std::move(*found));
    }
  }
  for (const Experiment& e : exps) sh.local_experiments[e.experiment_id] = e;

  // The tree's id and the record's folder (never made in a dry run).
  auto id = tree_id(env, sh.ctx.layout.root, !options.dry_run);
  if (!id) return fail(id.error());
  sh.tree_id = id->value_or("");
  result.tree_id = sh.tree_id;
  if (!options.dry_run) {
    RETURN_FAIL_IF_ERROR(sh.records.prepare());
    auto version = apis[0]->version();
    if (!version) return fail(version.error());
    result.server_version = *version;
    if (!result.server_version.empty()) {
      sh.server_major = std::atoi(result.server_version.c_str());
      auto dot = result.server_version.find('.');
      if (dot != std::string::npos) sh.server_minor = std::atoi(result.server_version.c_str() + dot + 1);
    }
  }

  // Pass 1: stat every run folder; keep those that differ from the record.
  struct Candidate {
    RunTask task;
    bool changed = false;
    bool skipped = false;  // deleted, left out before, unchanged since
    std::string server_run_id;
  };
  std::vector<Candidate> all;
  std::set<std::string> wanted(options.run_ids.begin(), options.run_ids.end());
  for (const Experiment& e : exps) {
    auto loc = sh.ctx.experiment_location(e.experiment_id);
    if (!loc) continue;
    std::string exp_dir = join(loc->first, e.experiment_id);
    auto entries = env.list_dir(exp_dir);
    if (!entries) continue;
    std::sort(entries->begin(), entries->end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
    for (const DirEntry& d : *entries) {
      if (d.type != FileType::kDirectory || is_reserved_experiment_folder(d.name) || !validate_run_id(d.name).is_ok())
        continue;
      Candidate c;
      c.task.run_id = d.name;
      c.task.experiment_id = e.experiment_id;
      c.task.experiment_name = e.name;
      c.task.experiment_dir = exp_dir;
      c.task.experiment_deleted = loc->second || e.lifecycle_stage == LifecycleStage::kDeleted;
      c.task.run_dir = join(exp_dir, d.name);
      all.push_back(std::move(c));
    }
  }
  const std::int64_t now_ns = env.now_ms() * 1000000;
  parallel_for(all.size(), sh.ctx.options.threads, [&](std::size_t i) {
    Candidate& c = all[i];
    auto rec = options.rebuild_record ? std::nullopt : sh.records.load(c.task.run_id);
    if (rec) {
      std::string art = rec->local_artifact_dir.empty() ? join(c.task.run_dir, "artifacts") : rec->local_artifact_dir;
      RunScan scan = scan_run(env, c.task.run_dir, art, now_ns);
      c.server_run_id = rec->server_run_id;
      if (scan_matches_record(scan, *rec)) return;
      if (!rec->skipped_fp.empty() && rec->skipped_fp == scan.meta_fp && !options.include_deleted) {
        c.skipped = true;
        return;
      }
      std::uint64_t bytes = 0;
      for (const LocalFile& f : scan.metrics) {
        auto it = rec->metrics.find(f.rel);
        std::uint64_t from = it == rec->metrics.end() ? 0 : it->second.offset;
        if (f.size > from) bytes += f.size - from;
      }
      for (const LocalFile& f : scan.artifacts) {
        auto it = rec->artifacts.find(f.rel);
        if (it == rec->artifacts.end() || it->second.size != f.size || it->second.mtime_ns != f.mtime_ns) bytes += f.size;
      }
      c.task.bytes_estimate = bytes;
    }
    c.changed = true;
    auto run = sh.ctx.load_run(c.task.experiment_dir, c.task.experiment_id, c.task.run_id, ViewType::kAll,
                               RunFields{false, true, false, {}, false});
    if (run && *run) {
      auto p = (*run)->tags.find("mlflow.parentRunId");
      if (p != (*run)->tags.end()) c.task.parent_id = p->second;
      if (!rec || rec->server_run_id.empty()) {
        RunScan scan = scan_run(env, c.task.run_dir, join(c.task.run_dir, "artifacts"), now_ns);
        for (const LocalFile& f : scan.metrics) c.task.bytes_estimate += f.size;
        for (const LocalFile& f : scan.artifacts) c.task.bytes_estimate += f.size;
      }
    }
  });
  // --run-id: those runs and their ancestors.
  if (!wanted.empty()) {
    std::map<std::string, const Candidate*> by;
    for (const Candidate& c : all) by[c.task.run_id] = &c;
    std::set<std::string> keep;
    for (const std::string& r : wanted) {
      if (!by.count(r)) return fail(Status::not_found("run '" + escape_control(r) + "'", "not in the experiments synced"));
      for (std::string cur = r; by.count(cur) && keep.insert(cur).second; cur = by[cur]->task.parent_id) {
      }
    }
    std::erase_if(all, [&](const Candidate& c) { return !keep.count(c.task.run_id); });
  }

  std::vector<RunTask*> tasks;
  std::map<std::string, RunTask*> by_id;
  for (Candidate& c : all) {
    if (!c.changed) {
      RunSyncReport r;
      r.run_id = c.task.run_id;
      r.server_run_id = c.server_run_id;
      r.experiment_name = c.task.experiment_name;
      r.state = c.skipped ? RunSyncState::kSkipped : RunSyncState::kUnchanged;
      count(result, r);
      result.runs.push_back(std::move(r));
      continue;
    }
    tasks.push_back(&c.task);
    by_id[c.task.run_id] = &c.task;
    sh.progress.bytes_total += c.task.bytes_estimate;
  }
  sh.progress.runs_total = tasks.size();
  // Parents first: by depth among the runs of this pass, then in tree order.
  std::map<int, std::vector<RunTask*>> levels;
  for (RunTask* t : tasks) levels[depth_of(t->run_id, by_id)].push_back(t);

  std::mutex result_mu;
  std::set<std::string> experiment_errors;
  for (auto& [depth, level] : levels) {
    std::vector<RunSyncReport> reports(level.size());
    std::atomic<std::size_t> next{0};
    auto worker = [&](unsigned w) {
      MlflowApi* api = options.dry_run ? nullptr : apis[w].get();
      for (std::size_t i = next++; i < level.size(); i = next++) {
        if (sh.stopping()) break;
        sync_one_run(sh, api, *level[i], reports[i]);
        sh.add_progress(0, 0, true);
        std::lock_guard<std::mutex> g(result_mu);
        if (options.on_run) options.on_run(reports[i]);
      }
    };
    std::vector<std::thread> threads;
    unsigned n = static_cast<unsigned>(std::min<std::size_t>(jobs, level.size()));
    for (unsigned w = 1; w < n; ++w) threads.emplace_back(worker, w);
    worker(0);
    for (auto& t : threads) t.join();
    for (std::size_t i = 0; i < level.size(); ++i) {
      if (reports[i].run_id.empty()) continue;  // not reached: stopped
      count(result, reports[i]);
      result.runs.push_back(std::move(reports[i]));
    }
    if (sh.stopping()) break;
  }
  for (const auto& [id, e] : sh.experiments)
    if (!e.status.is_ok()) result.errors.push_back(e.status.to_string());
  result.interrupted = sh.stopping();
  for (const auto& c : clients) result.bytes_sent += c->bytes_sent();
  for (const auto& a : apis) {
    result.write_requests += a->write_requests();
    result.read_requests += a->read_requests();
  }
  if (options.dry_run)
    for (const RunSyncReport& r : result.runs) result.bytes_sent += r.bytes_sent;
  return result;
}

}  // namespace mlruns
