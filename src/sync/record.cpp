#include "sync/record.h"

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

#include "env/atomic_file.h"

namespace mlruns::detail {

using nlohmann::json;

std::string hash_hex(std::string_view data) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string to_json(const RunRecord& r) {
  json j;
  j["version"] = 1;
  j["server_run_id"] = r.server_run_id;
  j["server_experiment_id"] = r.server_experiment_id;
  j["server_artifact_uri"] = r.server_artifact_uri;
  j["create_attempted"] = r.create_attempted;
  j["server_deleted"] = r.server_deleted;
  j["meta_fp"] = r.meta_fp;
  j["art_fp"] = r.art_fp;
  j["local_artifact_dir"] = r.local_artifact_dir;
  j["info_hash"] = r.info_hash;
  j["skipped_fp"] = r.skipped_fp;
  j["params"] = r.params;
  j["tags"] = r.tags;
  j["inputs"] = r.inputs;
  json m = json::object();
  for (const auto& [k, a] : r.metrics) m[k] = {a.offset, a.size_seen};
  j["metrics"] = m;
  json p = json::object();
  for (const auto& [k, a] : r.pending) p[k] = {a.from, a.to};
  j["pending"] = p;
  json art = json::object();
  for (const auto& [k, a] : r.artifacts) art[k] = {a.size, a.mtime_ns};
  j["artifacts"] = art;
  j["conflicts"] = r.conflicts;
  // Keys and values come from the tree: invalid UTF-8 is replaced, never an exception.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<RunRecord> parse_run_record(std::string_view text) {
  try {
    json j = json::parse(text);
    if (!j.is_object() || j.value("version", 0) != 1) return fail(Status::corruption("sync record", "unknown version"));
    RunRecord r;
    r.server_run_id = j.value("server_run_id", std::string{});
    r.server_experiment_id = j.value("server_experiment_id", std::string{});
    r.server_artifact_uri = j.value("server_artifact_uri", std::string{});
    r.create_attempted = j.value("create_attempted", bool{});
    r.server_deleted = j.value("server_deleted", bool{});
    r.meta_fp = j.value("meta_fp", std::string{});
    r.art_fp = j.value("art_fp", std::string{});
    r.local_artifact_dir = j.value("local_artifact_dir", std::string{});
    r.info_hash = j.value("info_hash", std::string{});
    r.skipped_fp = j.value("skipped_fp", std::string{});
    r.params = j.value("params", std::map<std::string, std::string>{});
    r.tags = j.value("tags", std::map<std::string, std::string>{});
    r.inputs = j.value("inputs", std::set<std::string>{});
    const json metrics = j.value("metrics", json::object());
    const json pending = j.value("pending", json::object());
    const json artifacts = j.value("artifacts", json::object());
    for (const auto& [k, v] : metrics.items()) r.metrics[k] = {v.at(0).get<std::uint64_t>(), v.at(1).get<std::uint64_t>()};
    for (const auto& [k, v] : pending.items()) r.pending[k] = {v.at(0).get<std::uint64_t>(), v.at(1).get<std::uint64_t>()};
    for (const auto& [k, v] : artifacts.items()) r.artifacts[k] = {v.at(0).get<std::uint64_t>(), v.at(1).get<std::int64_t>()};
    r.conflicts = j.value("conflicts", std::map<std::string, std::string>{});
    return r;
  } catch (const std::exception& e) {
    return fail(Status::corruption("sync record", e.what()));
  }
}

namespace {

// scheme://host[:port]/path, lower-case scheme and host, no userinfo, no trailing '/'.
std::string normalized_url(std::string_view url) {
  std::string s(url);
  while (!s.empty() && s.back() == '/') s.pop_back();
  auto p = s.find("://");
  if (p == std::string::npos) return s;
  std::size_t host_begin = p + 3;
  std::size_t path_begin = s.find('/', host_begin);
  std::string authority = s.substr(host_begin, path_begin == std::string::npos ? std::string::npos : path_begin - host_begin);
  if (auto at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
  std::string head = s.substr(0, p + 3) + authority;
  std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
  return head + (path_begin == std::string::npos ? "" : s.substr(path_begin));
}

}  // namespace

RecordStore::RecordStore(Env& env, std::string root, std::string_view server_url)
    : env_(env), root_(std::move(root)), server_url_(normalized_url(server_url)) {
  dir_ = join(join(root_, kSyncDir), hash_hex(server_url_));
}

Status RecordStore::prepare() {
  MLRUNS_RETURN_IF_ERROR(env_.create_dirs(join(dir_, "runs")));
  std::string server = join(dir_, "server");
  auto info = env_.stat(server, false);
  if (info && info->type == FileType::kRegular) return Status::ok();
  return write_file_atomic(env_, server, server_url_ + "\n");
}

std::optional<RunRecord> RecordStore::load(std::string_view run_id) const {
  auto text = env_.read_file(join(join(dir_, "runs"), std::string(run_id) + ".json"), 64ull << 20, true);
  if (!text) return std::nullopt;
  auto r = parse_run_record(*text);
  if (!r) return std::nullopt;
  return std::move(*r);
}

Status RecordStore::save(std::string_view run_id, const RunRecord& record) const {
  return write_file_atomic(env_, join(join(dir_, "runs"), std::string(run_id) + ".json"), to_json(record));
}

Result<std::unique_ptr<FileLock>> RecordStore::lock(std::string_view run_id) const {
  return env_.lock_file(join(join(dir_, "runs"), std::string(run_id) + ".lock"), /*wait=*/true);
}

Result<std::optional<std::string>> tree_id(Env& env, const std::string& root, bool create) {
  std::string dir = join(root, kSyncDir);
  std::string path = join(dir, "tree-id");
  auto read = [&]() -> std::optional<std::string> {
    auto text = env.read_file(path, 4096, true);
    if (!text) return std::nullopt;
    std::string id = *text;
    while (!id.empty() && (id.back() == '\n' || id.back() == '\r' || id.back() == ' ')) id.pop_back();
    if (id.size() != 36 || id.find_first_not_of("0123456789abcdef-") != std::string::npos) return std::nullopt;
    return id;
  };
  if (auto id = read()) return id;
  auto info = env.stat(path, false);
  if (info && info->type != FileType::kMissing)
    return fail(Status::corruption(path, "is not a tree id (a UUID); move it away to make a new one"));
  if (!create) return std::optional<std::string>{};
  if (Status s = env.create_dirs(dir); !s) return fail(s);
  thread_local boost::uuids::random_generator gen;
  std::string id = boost::uuids::to_string(gen());
  std::string temp = join(dir, unique_temp_name());
  if (Status s = write_new_file(env, temp, id + "\n", /*sync=*/true); !s) return fail(s);
  Status linked = env.link(temp, path);
  (void)env.remove_file(temp);
  if (!linked.is_ok() && linked.code() != Code::kAlreadyExists) return fail(linked);
  if (auto winner = read()) return winner;  // ours, or the one a racing sync linked first
  return fail(Status::corruption(path, "could not be read back"));
}

}  // namespace mlruns::detail
