// Syncing one run: find or create it on the server (by its source tag, never
// twice), then send what the record says the server lacks, verifying
// against the server wherever the record cannot be trusted (no record, a
// batch whose answer was lost).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <map>
#include <thread>

#include "mlruns/key.h"
#include "format/layout.h"
#include "sync/engine.h"
#include "util/printable.h"

namespace mlruns::detail {

using nlohmann::json;

PointKey point_key(std::int64_t step, std::int64_t timestamp, double value) {
  if (std::isnan(value)) value = std::numeric_limits<double>::quiet_NaN();
  else if (std::isinf(value)) value = value > 0 ? DBL_MAX : -DBL_MAX;
  else if (value == 0) value = 0.0;  // -0.0 comes back from SQL servers as 0.0
  std::uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return {step, timestamp, bits};
}

namespace {

constexpr std::size_t kMaxMetricsPerBatch = 1000;   // mlflow/utils/validation.py MAX_METRICS_PER_BATCH
constexpr std::size_t kMaxParamsTagsPerBatch = 100; // MAX_PARAMS_TAGS_PER_BATCH
constexpr std::size_t kMaxRequestBytes = 900'000;   // under MAX_BATCH_LOG_REQUEST_SIZE (1e6), with room for the envelope
constexpr std::size_t kMaxKeyLength = 250;          // MAX_ENTITY_KEY_LENGTH
constexpr std::size_t kMaxParamValue = 6000;        // MAX_PARAM_VAL_LENGTH
constexpr int kHistoryPage = 25000;                 // what MLflow's Python client asks for

std::string q(std::string_view s) { return "'" + escape_control(s) + "'"; }

bool is_inactive_error(const Status& s) {
  return s.code() == Code::kInvalidArgument && s.message().find("must be in the 'active' state") != std::string::npos;
}

struct PendingPoint {
  std::string_view key;
  LinePoint point;
  std::size_t json_bytes;
};

class RunSync {
 public:
  RunSync(SyncShared& sh, MlflowApi* api, RunTask& task, RunSyncReport& rep)
      : sh_(sh), api_(api), task_(task), rep_(rep) {}

  void run() {
    rep_.run_id = task_.run_id;
    rep_.experiment_name = task_.experiment_name;
    Status s;
    try {
      s = sync();
    } catch (const std::exception& e) {
      // A JSON answer of an unexpected shape (nlohmann throws): this run fails, the pass goes on.
      s = Status::io_error("server " + (api_ ? api_->http().display_url() : std::string()),
                           std::string("unexpected answer: ") + escape_control(e.what()));
    }
    if (!s.is_ok()) {
      rep_.state = RunSyncState::kFailed;
      rep_.notes.push_back(s.to_string());
    }
  }

 private:
  // ---- helpers ----
  void note(std::string text) { rep_.notes.push_back(std::move(text)); }

  Status save() {
    if (sh_.options.dry_run) return Status::ok();
    return sh_.records.save(task_.run_id, rec_);
  }

  std::string source() const { return sh_.tree_id + "/" + task_.run_id; }

  // A key the server will take; otherwise a note says why it is left out.
  bool key_ok(std::string_view what, const std::string& key) {
    if (detail::utf8_length(key) > kMaxKeyLength) {  // Python len(): characters
      note(std::string(what) + " key " + q(key) + " skipped: longer than " + std::to_string(kMaxKeyLength) +
           " characters (mlflow/utils/validation.py)");
      return false;
    }
    if (key.find(':') != std::string::npos && !sh_.server_takes_colon()) {
      note(std::string(what) + " key " + q(key) + " skipped: MLflow servers before 2.16 refuse ':' in keys (spec §14.6)");
      return false;
    }
    return true;
  }

  // Server run `server_id`, named by a record in the tree, if it is local run
  // `local_id`'s copy (its mlruns.sync.source tag); nullopt if it is another
  // run, or gone (then `*gone` is set).
  Result<std::optional<json>> recorded_copy(const std::string& server_id, const std::string& local_id, bool* gone) {
    *gone = false;
    auto r = api_->get("runs/get", {{"run_id", server_id}});
    if (!r) {
      if (r.error().code() != Code::kNotFound) return fail(r.error());
      *gone = true;
      return std::optional<json>{};
    }
    if (!r->contains("run") || !is_ours((*r)["run"], local_id)) return std::optional<json>{};
    return std::optional<json>(std::move((*r)["run"]));
  }

  Result<json> get_run(const std::string& id) {
    auto r = api_->get("runs/get", {{"run_id", id}});
    if (!r) return fail(r.error());
    if (!r->contains("run")) return fail(Status::io_error("runs/get", "answer without a run"));
    return (*r)["run"];
  }

  // The server's run carrying our source tag, over all lifecycle stages.
  Result<std::optional<json>> find_by_source(const std::string& server_exp) {
    json body = {{"experiment_ids", {server_exp}},
                 {"filter", "tags.`" + std::string(kSyncSourceTag) + "` = '" + source() + "'"},
                 {"run_view_type", "ALL"},
                 {"max_results", 10}};
    auto r = api_->post("runs/search", body, RetryPolicy::kIdempotent, /*write=*/false);
    if (!r) return fail(r.error());
    if (!r->contains("runs") || (*r)["runs"].empty()) return std::optional<json>{};
    // Should two exist (made by a tool other than mlruns), the oldest is ours.
    const json* best = nullptr;
    for (const json& run : (*r)["runs"])
      if (!best || run["info"].value("start_time", 0LL) < (*best)["info"].value("start_time", 0LL)) best = &run;
    return std::optional<json>(*best);
  }

  static std::map<std::string, std::string> kv_map(const json& run, const char* field) {
    std::map<std::string, std::string> out;
    if (run.contains("data") && run["data"].contains(field))
      for (const json& kv : run["data"][field]) out[kv.value("key", "")] = kv.value("value", "");
    return out;
  }

  // Whether a server run is the one sync made for local run `local_id`: it carries the source
  // tag "<tree id>/<local run id>", set in the create request itself. The record is a file in
  // the tree, whose author controls it (docs/hpc.md): no run id read from it is written to or
  // deleted before this holds. The experiment is not compared: a run synced before its local
  // experiment was renamed stays in the server experiment it was made in.
  bool is_ours(const json& run, const std::string& local_id) const {
    auto tags = kv_map(run, "tags");
    auto it = tags.find(std::string(kSyncSourceTag));
    return it != tags.end() && it->second == sh_.tree_id + "/" + local_id;
  }

  // The server run of local run `local_id` (a parent) when this pass made or verified it, or
  // when its record names a server run that is_ours(); nullopt otherwise.
  Result<std::optional<std::string>> verified_server_run(const std::string& local_id) {
    if (auto p = sh_.verified_server_run_id(local_id)) return std::optional<std::string>(*p);
    auto recorded = sh_.recorded_server_run_id(local_id);
    if (!recorded) return std::optional<std::string>{};
    bool gone = false;
    auto copy = recorded_copy(*recorded, local_id, &gone);
    if (!copy) return fail(copy.error());
    if (gone) return std::optional<std::string>{};
    if (!*copy) {
      note("the sync record of run " + q(local_id) + " names server run " + q(*recorded) +
           ", which is not that run's copy (no matching mlruns.sync.source tag): not used");
      return std::optional<std::string>{};
    }
    std::lock_guard<std::mutex> g(sh_.mu);
    sh_.server_run_ids[local_id] = *recorded;
    return std::optional<std::string>(*recorded);
  }

  Status sync();
  Status find_or_create(const std::string& server_exp);
  Status send_params_and_tags();
  Status send_metrics();
  Status send_inputs();
  Status send_info();
  Status send_artifacts();
  Status restore_if_deleted();
  Status post_write(std::string_view endpoint, const json& body, RetryPolicy policy);
  Result<std::multiset<PointKey>> server_history(const std::string& key);
  Result<std::map<std::string, std::uint64_t>> server_artifacts();
  void plan_only();

  SyncShared& sh_;
  MlflowApi* api_;
  RunTask& task_;
  RunSyncReport& rep_;
  RunRecord rec_;
  RunScan scan_;
  bool rebuild_ = false;       // the record cannot be trusted: compare with the server
  bool created_ = false;
  bool sent_ = false;
  bool local_deleted_ = false;
  bool incomplete_ = false;    // something waits for a later pass: keep no fingerprint
  std::optional<json> server_run_;  // fetched when rebuilding
};

Status RunSync::post_write(std::string_view endpoint, const json& body, RetryPolicy policy) {
  auto r = api_->post(endpoint, body, policy);
  if (!r && is_inactive_error(r.error()) && !local_deleted_) {
    // Deleted on the server by someone else: the tree says active, so restore it (sync mirrors the tree).
    MLRUNS_RETURN_IF_ERROR(post_write("runs/restore", {{"run_id", rec_.server_run_id}}, RetryPolicy::kIdempotent));
    note("the run was deleted on the server; restored");
    r = api_->post(endpoint, body, policy);
  }
  if (!r) return r.error();
  sent_ = true;
  return Status::ok();
}

Status RunSync::sync() {
  std::unique_ptr<FileLock> lock;
  if (!sh_.options.dry_run) {
    auto l = sh_.records.lock(task_.run_id);
    if (!l) return l.error().with_context("locking the run's sync record");
    lock = std::move(*l);
  }
  if (!sh_.options.rebuild_record) {
    if (auto r = sh_.records.load(task_.run_id)) rec_ = std::move(*r);
  }
  std::string art_dir = rec_.local_artifact_dir;
  if (art_dir.empty()) {
    auto a = sh_.ctx.artifact_root_of(task_.run_dir, task_.run_id);
    art_dir = a ? *a : join(task_.run_dir, "artifacts");
  }
  const std::int64_t now_ns = sh_.env.now_ms() * 1000000;
  scan_ = scan_run(sh_.env, task_.run_dir, art_dir, now_ns);
  if (scan_matches_record(scan_, rec_)) {
    rep_.server_run_id = rec_.server_run_id;
    rep_.state = RunSyncState::kUnchanged;
    return Status::ok();
  }
  // Load (again) now that the scan is taken: what is sent is never older than the fingerprint kept.
  auto loaded = sh_.ctx.load_run(task_.experiment_dir, task_.experiment_id, task_.run_id, ViewType::kAll,
                                 RunFields{true, true, false, {}, true});
  if (!loaded) return loaded.error();
  if (!*loaded) return Status::not_found("run " + task_.run_id, "vanished from the tree");
  task_.run = std::move(**loaded);
  {
    auto a = sh_.ctx.artifact_root_of(task_.run_dir, task_.run_id);
    std::string fresh = a ? *a : join(task_.run_dir, "artifacts");
    if (fresh != art_dir) scan_ = scan_run(sh_.env, task_.run_dir, art_dir = fresh, now_ns);
  }
  for (const std::string& n : scan_.notes) note(n);
  rep_.files_unread = scan_.unread;
  if (scan_.unread) incomplete_ = true;  // never recorded as done: the next pass reports it again
  const Run& run = *task_.run;
  local_deleted_ = run.info.lifecycle_stage == LifecycleStage::kDeleted || task_.experiment_deleted;
  if (local_deleted_ && !sh_.options.include_deleted) {
    rep_.state = RunSyncState::kSkipped;
    note("deleted locally: not synced (--include-deleted syncs it and deletes it on the server)");
    if (!scan_.racy && !sh_.options.dry_run) {
      rec_.skipped_fp = scan_.meta_fp;  // not looked at again until it changes
      return save();
    }
    return Status::ok();
  }
  if (sh_.options.dry_run) {
    plan_only();
    return Status::ok();
  }
  ServerExperiment exp = sh_.server_experiment(*api_, task_);
  if (!exp.status.is_ok()) return exp.status;
  MLRUNS_RETURN_IF_ERROR(find_or_create(exp.id));
  rep_.server_run_id = rec_.server_run_id;
  {
    std::lock_guard<std::mutex> g(sh_.mu);
    sh_.server_run_ids[task_.run_id] = rec_.server_run_id;
  }
  if (rebuild_ && !server_run_) {
    auto r = get_run(rec_.server_run_id);
    if (!r) return r.error();
    server_run_ = std::move(*r);
  }
  if (server_run_) {
    rec_.server_deleted = (*server_run_)["info"].value("lifecycle_stage", "active") == "deleted";
    rec_.server_artifact_uri = (*server_run_)["info"].value("artifact_uri", rec_.server_artifact_uri);
  }
  MLRUNS_RETURN_IF_ERROR(restore_if_deleted());
  MLRUNS_RETURN_IF_ERROR(send_params_and_tags());
  if (sh_.stopping()) return Status::ok();
  MLRUNS_RETURN_IF_ERROR(send_inputs());
  MLRUNS_RETURN_IF_ERROR(send_metrics());
  if (sh_.stopping()) return Status::ok();
  rec_.local_artifact_dir = art_dir;
  MLRUNS_RETURN_IF_ERROR(send_artifacts());
  if (sh_.stopping()) return Status::ok();
  MLRUNS_RETURN_IF_ERROR(send_info());
  if (local_deleted_ && !rec_.server_deleted) {
    MLRUNS_RETURN_IF_ERROR(post_write("runs/delete", {{"run_id", rec_.server_run_id}}, RetryPolicy::kIdempotent));
    rec_.server_deleted = true;
  }
  rec_.meta_fp = scan_.racy || incomplete_ ? "" : scan_.meta_fp;
  rec_.art_fp = scan_.racy || scan_.unread ? "" : scan_.art_fp;
  rec_.skipped_fp.clear();
  for (const LocalFile& f : scan_.metrics) rec_.metrics[f.rel].size_seen = f.size;
  for (auto it = rec_.metrics.begin(); it != rec_.metrics.end();) {
    bool present = std::any_of(scan_.metrics.begin(), scan_.metrics.end(), [&](const LocalFile& f) { return f.rel == it->first; });
    it = present ? std::next(it) : rec_.metrics.erase(it);
  }
  MLRUNS_RETURN_IF_ERROR(save());
  rep_.state = created_ ? RunSyncState::kCreated : sent_ ? RunSyncState::kUpdated : RunSyncState::kUnchanged;
  return Status::ok();
}

Status RunSync::find_or_create(const std::string& server_exp) {
  if (!rec_.server_run_id.empty()) {
    // The record is a file in the tree: confirm the run it names is this run's copy before
    // anything is written to it or deleted (docs/sync.md#identity).
    bool gone = false;
    auto copy = recorded_copy(rec_.server_run_id, task_.run_id, &gone);
    if (!copy) return copy.error();
    if (*copy) {
      server_run_ = std::move(**copy);
      if (!rec_.pending.empty()) note("verifying a batch whose answer was lost");
      return Status::ok();
    }
    note("the sync record names server run " + q(rec_.server_run_id) +
         (gone ? ", which the server does not have" : ", which is not this run's copy (its mlruns.sync.source tag differs)") +
         ": record ignored; the run is looked up by its source tag");
  }
  // No record of a server run: it may still exist (record lost, a killed
  // sync, another machine). Look it up by its source tag before creating.
  rebuild_ = true;
  rec_ = RunRecord{};
  const Run& run = *task_.run;
  for (int round = 0;; ++round) {
    auto found = find_by_source(server_exp);
    if (!found) return found.error();
    if (*found) {
      server_run_ = std::move(**found);
      rec_.server_run_id = (*server_run_)["info"].value("run_id", "");
      rec_.server_experiment_id = server_exp;
      if (rec_.server_run_id.empty()) return Status::io_error("runs/search", "a run without run_id");
      return save();
    }
    if (round > sh_.options.server.max_retries) return Status::io_error("runs/create", "no answer after retries");
    json tags = json::array();
    tags.push_back({{"key", kSyncSourceTag}, {"value", source()}});
    std::size_t n = 1;
    for (const auto& [k, v] : run.tags) {
      // System tags go in the create request; the rest follow in batches (limits, conflicts).
      if (k == "mlflow.runName" || k == "mlflow.parentRunId" || !k.starts_with("mlflow.")) continue;
      if (n >= kMaxParamsTagsPerBatch || v.size() > sh_.max_tag_value() || !key_ok("tag", k)) continue;
      tags.push_back({{"key", k}, {"value", v}});
      rec_.tags[k] = hash_hex(v);
      ++n;
    }
    if (!task_.parent_id.empty()) {
      auto p = verified_server_run(task_.parent_id);
      if (!p) return p.error();
      if (*p) {
        tags.push_back({{"key", "mlflow.parentRunId"}, {"value", **p}});
        rec_.tags["mlflow.parentRunId"] = hash_hex(task_.parent_id);
      }
    }
    json body = {{"experiment_id", server_exp}, {"run_name", run.info.run_name}, {"start_time", run.info.start_time},
                 {"user_id", run.info.user_id}, {"tags", tags}};
    rec_.create_attempted = true;
    MLRUNS_RETURN_IF_ERROR(save());
    auto r = api_->post("runs/create", body, RetryPolicy::kOnce);
    if (r) {
      rec_.server_run_id = (*r)["run"]["info"].value("run_id", "");
      rec_.server_artifact_uri = (*r)["run"]["info"].value("artifact_uri", "");
      rec_.server_experiment_id = server_exp;
      rec_.create_attempted = false;
      if (rec_.server_run_id.empty()) return Status::io_error("runs/create", "answer without a run id");
      created_ = true;
      sent_ = true;
      rebuild_ = false;  // a new run holds exactly what the create request carried
      return save();
    }
    if (!api_->last_uncertain()) return r.error();
    // The create may have been applied: search again, never create blindly.
    rec_.tags.clear();
  }
}

Status RunSync::restore_if_deleted() {
  if (!rec_.server_deleted) return Status::ok();
  // The server refuses every write to a deleted run; it is deleted again at the end if the tree says so.
  MLRUNS_RETURN_IF_ERROR(post_write("runs/restore", {{"run_id", rec_.server_run_id}}, RetryPolicy::kIdempotent));
  rec_.server_deleted = false;
  return save();
}

Status RunSync::send_params_and_tags() {
  const Run& run = *task_.run;
  std::map<std::string, std::string> server_params, server_tags;
  if (server_run_) {
    server_params = kv_map(*server_run_, "params");
    server_tags = kv_map(*server_run_, "tags");
  }
  std::vector<std::pair<std::string, std::string>> params, tags;
  for (const auto& [k, v] : run.params) {
    std::string h = hash_hex(v);
    if (rec_.params.count(k) && rec_.params[k] == h) continue;
    if (auto c = rec_.conflicts.find(k); c != rec_.conflicts.end() && c->second != v) continue;  // known; reported below
    if (rebuild_ && server_params.count(k)) {
      if (server_params[k] == v) rec_.params[k] = h;
      else rec_.conflicts[k] = server_params[k];
      continue;
    }
    if (!key_ok("param", k)) continue;
    if (detail::utf8_length(v) > kMaxParamValue) {
      note("param " + q(k) + " skipped: value longer than " + std::to_string(kMaxParamValue) + " characters");
      continue;
    }
    params.emplace_back(k, v);
  }
  for (const auto& [k, v0] : run.tags) {
    if (k == kSyncSourceTag) continue;
    std::string v = v0;
    std::string h = hash_hex(v0);
    if (rec_.tags.count(k) && rec_.tags[k] == h) continue;
    if (k == "mlflow.parentRunId") {
      auto vp = verified_server_run(v0);
      if (!vp) return vp.error();
      const std::optional<std::string>& p = *vp;
      if (!p) {
        note("parent run " + q(v0) + " is not on the server (yet): mlflow.parentRunId left out");
        incomplete_ = true;  // looked at again next pass, when the parent may be there
        continue;
      }
      v = *p;
    }
    if (rebuild_ && server_tags.count(k) && server_tags[k] == v) {
      rec_.tags[k] = h;
      continue;
    }
    if (!key_ok("tag", k)) continue;
    if (detail::utf8_length(v) > sh_.max_tag_value()) {
      note("tag " + q(k) + " skipped: value longer than " + std::to_string(sh_.max_tag_value()) +
           " characters, the server's limit");
      continue;
    }
    tags.emplace_back(k, v);
  }
  std::size_t pi = 0, ti = 0;
  while (pi < params.size() || ti < tags.size()) {
    if (sh_.stopping()) return Status::ok();
    json body = {{"run_id", rec_.server_run_id}, {"params", json::array()}, {"tags", json::array()}};
    std::size_t bytes = 100, taken = 0;
    // Adds entries of `list` from `from` while the batch stays within MLflow's limits; returns how many.
    auto fill = [&](const std::vector<std::pair<std::string, std::string>>& list, std::size_t from, json& out) {
      std::size_t n = 0;
      for (; from + n < list.size() && n < kMaxParamsTagsPerBatch; ++n, ++taken) {
        const auto& [k, v] = list[from + n];
        if (bytes + k.size() + v.size() + 40 > kMaxRequestBytes && taken > 0) break;
        bytes += k.size() + v.size() + 40;
        out.push_back({{"key", k}, {"value", v}});
      }
      return n;
    };
    const std::size_t np = fill(params, pi, body["params"]);
    const std::size_t nt = fill(tags, ti, body["tags"]);
    Status s = post_write("runs/log-batch", body, RetryPolicy::kIdempotent);
    if (!s.is_ok() && s.code() == Code::kInvalidArgument && np > 0 &&
        s.message().find("Changing param values is not allowed") != std::string::npos) {
      // A param the server holds with another value: a conflict of this run, not an abort.
      auto srv = get_run(rec_.server_run_id);
      if (!srv) return srv.error();
      auto have = kv_map(*srv, "params");
      std::vector<std::pair<std::string, std::string>> keep;
      for (std::size_t i = pi; i < params.size(); ++i) {
        const auto& [k, v] = params[i];
        auto it = have.find(k);
        if (it == have.end()) keep.push_back(params[i]);
        else if (it->second == v) rec_.params[k] = hash_hex(v);
        else rec_.conflicts[k] = it->second;
      }
      params.erase(params.begin() + static_cast<std::ptrdiff_t>(pi), params.end());
      params.insert(params.end(), keep.begin(), keep.end());
      continue;
    }
    MLRUNS_RETURN_IF_ERROR(s);
    for (std::size_t i = pi; i < pi + np; ++i) {
      rec_.params[params[i].first] = hash_hex(params[i].second);
      rec_.conflicts.erase(params[i].first);
    }
    for (std::size_t i = ti; i < ti + nt; ++i) rec_.tags[tags[i].first] = hash_hex(run.tags.at(tags[i].first));
    rep_.params_sent += np;
    rep_.tags_sent += nt;
    pi += np;
    ti += nt;
    MLRUNS_RETURN_IF_ERROR(save());
  }
  for (const auto& [k, server_value] : rec_.conflicts) {
    auto it = run.params.find(k);
    if (it == run.params.end() || hash_hex(it->second) == rec_.params[k]) continue;
    rep_.conflicts.push_back({k, it->second, server_value});
  }
  return Status::ok();
}

Result<std::multiset<PointKey>> RunSync::server_history(const std::string& key) {
  std::multiset<PointKey> out;
  std::string token;
  for (int page = 0; page < 100000; ++page) {
    // 3.x needs max_results, else it answers with a page token and no points (/work/ext/README.md).
    std::vector<std::pair<std::string, std::string>> query = {
        {"run_id", rec_.server_run_id}, {"metric_key", key}, {"max_results", std::to_string(kHistoryPage)}};
    if (!token.empty()) query.emplace_back("page_token", token);
    auto r = api_->get("metrics/get-history", query);
    if (!r) return fail(r.error());
    if (r->contains("metrics")) {
      for (const json& m : (*r)["metrics"]) {
        double v = 0;
        if (!metric_value_from_json(m.value("value", json()), v)) continue;
        out.insert(point_key(m.value("step", 0LL), m.value("timestamp", 0LL), v));
      }
    }
    std::string next = r->value("next_page_token", "");
    if (next.empty() || next == token || !r->contains("metrics") || (*r)["metrics"].empty()) break;
    token = next;
  }
  return out;
}

Status RunSync::send_metrics() {
  // Per key: the points to send (in file order) and where its whole lines end.
  struct KeyWork {
    const LocalFile* file;
    std::vector<LinePoint> points;
    std::uint64_t whole_end = 0;
    std::size_t next = 0;
  };
  std::vector<KeyWork> work;
  std::set<std::string> verify;  // keys whose record may be behind the server
  for (const auto& [k, _] : rec_.pending) verify.insert(k);
  const std::uint64_t cap = sh_.ctx.options.max_file_bytes;  // bytes of one file read at once
  bool more = true;  // a file had more than `cap` new bytes: another round of batches after this one
  for (int round = 0;; ++round) {
    work.clear();
    more = false;
    for (const LocalFile& f : scan_.metrics) {
      if (!key_ok("metric", f.rel)) {
        rec_.metrics[f.rel].offset = f.size;
        continue;
      }
      MetricAck& ack = rec_.metrics[f.rel];
      bool reconcile = rebuild_ || verify.count(f.rel) || f.size < ack.offset;
      std::uint64_t from = reconcile ? 0 : ack.offset;
      if (from >= f.size) continue;
      std::uint64_t to = f.size;
      if (to - from > cap) {
        if (reconcile)
          return Status::failed_precondition("metric " + q(f.rel), std::to_string(f.size) +
                                             " bytes, more than max_file_bytes: too big to match against the server");
        to = from + cap;
        more = true;
      }
      auto lines = read_metric_lines(sh_.env, f.path, from, to);
      if (!lines) return lines.error();
      if (lines->whole_end == from && to < f.size)
        return Status::corruption(f.path, "a line longer than max_file_bytes");
      if (lines->bad_lines)
        note("metric " + q(f.rel) + ": " + std::to_string(lines->bad_lines) + " unreadable line(s) skipped");
      KeyWork w{&f, {}, lines->whole_end, 0};
      if (reconcile) {
        auto have = server_history(f.rel);
        if (!have) return have.error();
        for (const LinePoint& p : lines->points) {
          auto it = have->find(point_key(p.step, p.timestamp, p.value));
          if (it != have->end()) have->erase(it);
          else w.points.push_back(p);
        }
        rec_.pending.erase(f.rel);
        if (w.points.empty()) ack.offset = w.whole_end;
      } else {
        w.points = std::move(lines->points);
        if (w.points.empty()) ack.offset = w.whole_end;
      }
      if (!w.points.empty()) work.push_back(std::move(w));
    }
    verify.clear();
    // Batches across keys, within MLflow's limits.
    std::size_t wi = 0;
    bool lost = false;
    while (wi < work.size()) {
      if (sh_.stopping()) return save();
      json metrics = json::array();
      std::size_t bytes = 64;
      std::map<std::string, std::uint64_t> batch_end;  // key -> offset past its last line in the batch
      std::uint64_t line_bytes = 0;
      while (wi < work.size() && metrics.size() < kMaxMetricsPerBatch) {
        KeyWork& w = work[wi];
        while (w.next < w.points.size() && metrics.size() < kMaxMetricsPerBatch) {
          const LinePoint& p = w.points[w.next];
          json m = {{"key", w.file->rel}, {"value", metric_value_json(p.value)}, {"timestamp", p.timestamp}, {"step", p.step}};
          std::size_t sz = w.file->rel.size() + 80;
          if (bytes + sz > kMaxRequestBytes && !metrics.empty()) break;
          bytes += sz;
          metrics.push_back(std::move(m));
          batch_end[w.file->rel] = w.next + 1 == w.points.size() ? w.whole_end : p.end;
          ++w.next;
        }
        if (w.next < w.points.size()) break;  // the batch is full
        ++wi;
      }
      // Write-ahead: these ranges are in flight until the server says so.
      for (const auto& [k, end] : batch_end) rec_.pending[k] = {rec_.metrics[k].offset, end};
      MLRUNS_RETURN_IF_ERROR(save());
      json body = {{"run_id", rec_.server_run_id}, {"metrics", metrics}};
      Status s = post_write("runs/log-batch", body, RetryPolicy::kOnce);
      if (!s.is_ok()) {
        if (!api_->last_uncertain() || round >= sh_.options.server.max_retries) return s;
        // Applied or not? Ask the server (get-history) before sending again.
        for (const auto& [k, _] : batch_end) verify.insert(k);
        lost = true;
        break;
      }
      for (const auto& [k, end] : batch_end) {
        std::uint64_t& offset = rec_.metrics[k].offset;
        if (end > offset) line_bytes += end - offset;
        offset = end;
        rec_.pending.erase(k);
      }
      rep_.points_sent += metrics.size();
      rep_.bytes_sent += line_bytes;
      sh_.add_progress(line_bytes, metrics.size(), false);
      MLRUNS_RETURN_IF_ERROR(save());
    }
    if (!lost && !more) break;
    if (lost) std::this_thread::sleep_for(std::chrono::milliseconds(200 * (round + 1)));
    if (!lost) --round;  // the next chunk of a big file is not a retry
  }
  return Status::ok();
}

Status RunSync::send_inputs() {
  const Run& run = *task_.run;
  json datasets = json::array();
  std::vector<std::string> ids;
  for (const DatasetInput& in : run.dataset_inputs) {
    json tags = json::array();
    for (const auto& [k, v] : in.tags) tags.push_back({{"key", k}, {"value", v}});
    json ds = {{"name", in.dataset.name}, {"digest", in.dataset.digest}, {"source_type", in.dataset.source_type},
               {"source", in.dataset.source}};
    if (in.dataset.schema) ds["schema"] = *in.dataset.schema;
    if (in.dataset.profile) ds["profile"] = *in.dataset.profile;
    json entry = {{"tags", tags}, {"dataset", ds}};
    std::string id = hash_hex(entry.dump(-1, ' ', false, json::error_handler_t::replace));
    if (rec_.inputs.count(id)) continue;
    datasets.push_back(std::move(entry));
    ids.push_back(id);
  }
  if (datasets.empty()) return Status::ok();
  // The server keeps one input per (dataset, run): sending again is harmless.
  MLRUNS_RETURN_IF_ERROR(
      post_write("runs/log-inputs", {{"run_id", rec_.server_run_id}, {"datasets", datasets}}, RetryPolicy::kIdempotent));
  rec_.inputs.insert(ids.begin(), ids.end());
  return save();
}

Status RunSync::send_info() {
  const RunInfo& info = task_.run->info;
  std::string h = hash_hex(std::string(to_string(info.status)) + '\0' + std::to_string(info.end_time.value_or(-1)) +
                           '\0' + info.run_name);
  if (h == rec_.info_hash) return Status::ok();
  if (rebuild_ && server_run_) {
    const json& si = (*server_run_)["info"];
    bool same = si.value("status", "") == to_string(info.status) && si.value("run_name", "") == info.run_name &&
                (info.end_time ? si.value("end_time", -1LL) == *info.end_time : !si.contains("end_time"));
    if (same) {
      rec_.info_hash = h;
      return save();
    }
  }
  if (created_ && info.status == RunStatus::kRunning && !info.end_time) {
    rec_.info_hash = h;  // the create request set the name, the start time and RUNNING
    return save();
  }
  json body = {{"run_id", rec_.server_run_id}, {"status", to_string(info.status)}, {"run_name", info.run_name}};
  if (info.end_time) body["end_time"] = *info.end_time;
  MLRUNS_RETURN_IF_ERROR(post_write("runs/update", body, RetryPolicy::kIdempotent));
  rec_.info_hash = h;
  return save();
}

Result<std::map<std::string, std::uint64_t>> RunSync::server_artifacts() {
  std::map<std::string, std::uint64_t> out;
  std::vector<std::string> dirs = {""};
  std::size_t listed = 0;
  while (!dirs.empty() && listed < 100000) {
    std::string dir = dirs.back();
    dirs.pop_back();
    ++listed;
    std::vector<std::pair<std::string, std::string>> query = {{"run_id", rec_.server_run_id}};
    if (!dir.empty()) query.emplace_back("path", dir);
    auto r = api_->get("artifacts/list", query);
    if (!r) return fail(r.error());
    if (!r->contains("files")) continue;
    for (const json& f : (*r)["files"]) {
      std::string path = f.value("path", "");
      if (path.empty() || path == dir) continue;
      if (f.value("is_dir", false)) dirs.push_back(path);
      else out[path] = f.value("file_size", 0ULL);
    }
  }
  return out;
}

Status RunSync::send_artifacts() {
  if (scan_.artifacts.empty()) return Status::ok();
  std::string uri = rec_.server_artifact_uri;
  if (uri.empty()) {
    auto r = get_run(rec_.server_run_id);
    if (!r) return r.error();
    uri = rec_.server_artifact_uri = (*r)["info"].value("artifact_uri", "");
  }
  constexpr std::string_view kScheme = "mlflow-artifacts:";
  if (!uri.starts_with(kScheme)) {
    std::string scheme = uri.substr(0, uri.find(':'));
    note("artifacts not synced: the server keeps this run's artifacts at " + q(scheme + ":...") +
         ", not behind itself (mlflow-artifacts:); only a server started with --serve-artifacts (the default) "
         "takes uploads");
    return Status::ok();
  }
  // mlflow-artifacts:/<exp>/<run>/artifacts or mlflow-artifacts://host/<exp>/<run>/artifacts
  std::string path = uri.substr(kScheme.size());
  if (path.starts_with("//")) {
    auto slash = path.find('/', 2);
    path = slash == std::string::npos ? "" : path.substr(slash);
  }
  while (path.starts_with("/")) path.erase(0, 1);
  while (path.ends_with("/")) path.pop_back();
  std::optional<std::map<std::string, std::uint64_t>> listing;
  for (const LocalFile& f : scan_.artifacts) {
    if (sh_.stopping()) return save();
    auto it = rec_.artifacts.find(f.rel);
    if (it != rec_.artifacts.end() && it->second.size == f.size && it->second.mtime_ns == f.mtime_ns) continue;
    if (!validate_artifact_path(f.rel).is_ok()) {
      note("artifact " + q(f.rel) + " skipped: not a valid artifact path");
      continue;
    }
    if (rebuild_ || it != rec_.artifacts.end()) {
      if (!listing) {
        auto l = server_artifacts();
        if (!l) return l.error();
        listing = std::move(*l);
      }
      auto s = listing->find(f.rel);
      if (s != listing->end() && s->second == f.size && (it == rec_.artifacts.end() || it->second.size != f.size)) {
        rec_.artifacts[f.rel] = {f.size, f.mtime_ns};
        continue;
      }
    }
    Status s = api_->put_artifact(path + "/" + f.rel, sh_.env, f.path, f.size);
    if (!s.is_ok()) return s.with_context("artifact " + q(f.rel));
    sent_ = true;
    rec_.artifacts[f.rel] = {f.size, f.mtime_ns};
    ++rep_.artifacts_sent;
    rep_.bytes_sent += f.size;
    sh_.add_progress(f.size, 0, false);
    MLRUNS_RETURN_IF_ERROR(save());
  }
  return save();
}

void RunSync::plan_only() {
  const Run& run = *task_.run;
  rep_.server_run_id = rec_.server_run_id;
  for (const auto& [k, v] : run.params)
    if (!rec_.params.count(k) || rec_.params[k] != hash_hex(v)) ++rep_.params_sent;
  for (const auto& [k, v] : run.tags)
    if (!rec_.tags.count(k) || rec_.tags[k] != hash_hex(v)) ++rep_.tags_sent;
  for (const LocalFile& f : scan_.metrics) {
    std::uint64_t from = rec_.server_run_id.empty() ? 0 : rec_.metrics[f.rel].offset;
    if (from >= f.size) continue;
    auto lines = read_metric_lines(sh_.env, f.path, from, std::min(f.size, from + sh_.ctx.options.max_file_bytes));
    if (lines) rep_.points_sent += lines->points.size();
  }
  for (const LocalFile& f : scan_.artifacts) {
    auto it = rec_.artifacts.find(f.rel);
    if (it != rec_.artifacts.end() && it->second.size == f.size && it->second.mtime_ns == f.mtime_ns) continue;
    ++rep_.artifacts_sent;
    rep_.bytes_sent += f.size;
  }
  bool any = rep_.params_sent + rep_.tags_sent + rep_.points_sent + rep_.artifacts_sent > 0;
  rep_.state = rec_.server_run_id.empty() ? RunSyncState::kCreated : any ? RunSyncState::kUpdated : RunSyncState::kUnchanged;
  if (rec_.server_run_id.empty()) note("would be looked up by its source tag and created if absent");
}

}  // namespace

void sync_one_run(SyncShared& shared, MlflowApi* api, RunTask& task, RunSyncReport& report) {
  RunSync(shared, api, task, report).run();
}

}  // namespace mlruns::detail
