// Store: opening a tree, experiments, and the by-id run operations.
#include <unistd.h>

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <random>
#include <thread>

#include "write/artifact_copy.h"
#include "env/atomic_file.h"
#include "format/file_uri.h"
#include "format/meta_parse.h"
#include "format/meta_write.h"
#include "mlruns/key.h"
#include "write/store_impl.h"
#include "format/tracking_uri.h"

namespace mlruns {
namespace detail {

std::string new_run_id() {
  thread_local boost::uuids::random_generator gen;
  boost::uuids::uuid u = gen();
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (auto b : u) {
    out += kHex[(b >> 4) & 15];
    out += kHex[b & 15];
  }
  return out;
}

// MLflow >= 2.0 (spec §3.3): the last 18 decimal digits of a uuid4 as a
// 128-bit integer; each leading zero replaced by a random digit appended.
std::string random_experiment_id() {
  thread_local boost::uuids::random_generator gen;
  thread_local std::mt19937 rng{std::random_device{}()};
  boost::uuids::uuid u = gen();
  unsigned __int128 v = 0;
  for (auto b : u) v = (v << 8) | b;
  std::string dec;
  while (v > 0) {
    dec.insert(dec.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  while (dec.size() < 18) dec.insert(dec.begin(), '0');
  std::string last = dec.substr(dec.size() - 18);
  std::size_t zeros = last.find_first_not_of('0');
  if (zeros == std::string::npos) zeros = 18;
  std::string out = last.substr(zeros);
  std::uniform_int_distribution<int> digit(0, 9);
  for (std::size_t i = 0; i < zeros; ++i) out += static_cast<char>('0' + digit(rng));
  if (out.front() == '0') out.front() = '1';  // all-zero draw: keep 18 digits
  return out;
}

// A stable 18-digit id for a name (get-or-create across processes): FNV-1a
// of the name and the attempt, finalised with splitmix64, mapped into
// [10^17, 10^18 - 1]. The same on every platform and every run.
std::string derived_experiment_id(std::string_view name, int attempt) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (unsigned char c : name) mix(c);
  mix(0);
  for (int i = 0; i < 4; ++i) mix(static_cast<unsigned char>(attempt >> (8 * i)));
  h += 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  h ^= h >> 31;
  constexpr std::uint64_t kLow = 100000000000000000ull, kSpan = 900000000000000000ull;
  return std::to_string(kLow + h % kSpan);
}

std::int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

namespace {

std::string sanitize_host() {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) return "host";
  std::string out;
  for (char* p = host; *p && out.size() < 40; ++p) {
    char c = *p;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    out += ok ? c : '-';
  }
  return out.empty() ? "host" : out;
}

bool exists(Env& env, const std::string& path) {
  auto info = env.stat(path);
  return info && info->type != FileType::kMissing;
}

void read_tag_dir(Env& env, const std::string& dir, const std::string& prefix, StringMap& out, int depth) {
  if (depth > 32) return;
  auto entries = env.list_dir(dir);
  if (!entries) return;
  for (const DirEntry& e : *entries) {
    std::string key = prefix.empty() ? e.name : prefix + "/" + e.name;
    if (e.type == FileType::kDirectory) {
      read_tag_dir(env, join(dir, e.name), key, out, depth + 1);
    } else if (e.type == FileType::kRegular) {
      auto v = env.read_file(join(dir, e.name), 1 << 20, /*no_follow=*/true);
      if (v) out[key] = *v;
    }
  }
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// Cuts to `limit` characters (code points).
void utf8_truncate(std::string& s, std::size_t limit) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (n == limit) {
        s.resize(i);
        return;
      }
      ++n;
    }
  }
}

}  // namespace
}  // namespace detail

using namespace detail;

// ---------------------------------------------------------------- Impl ----

Store::Impl::~Impl() {
  if (!staging.empty()) (void)env->remove_dir(staging);  // only if empty
}

Status Store::Impl::note(Status s, bool call_on_error) {
  if (s.is_ok()) return s;
  failures.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(error_mu);
    last_error = s;
  }
  if (call_on_error && options.on_error) {
    try {
      options.on_error(s);
    } catch (...) {
    }
  }
  return s;
}

Status Store::Impl::finish(Status s) {
  if (s.is_ok()) return s;
  note(s);
  if (options.errors == ErrorMode::kThrow) throw Error(s);
  return s;
}

Result<std::string> Store::Impl::new_staging_folder() {
  std::lock_guard<std::mutex> lock(staging_mu);
  // Twice: after months of idling, fsck --repair may have quarantined the
  // staging folder of this very process.
  for (int attempt = 0;; ++attempt) {
    if (staging.empty()) {
      // Root folders ending in ".trash" are skipped by every MLflow reader (spec §1.2).
      std::string dir = join(layout.root, std::string(kTempPrefix) + sanitize_host() + "-" +
                                              std::to_string(::getpid()) + "-" + new_run_id().substr(0, 8) + ".trash");
      Status s = env->create_dir(dir);
      if (!s.is_ok() && s.code() != Code::kAlreadyExists) return fail(s);
      staging = dir;
    }
    std::string folder = join(staging, unique_temp_name());
    Status s = env->create_dir(folder);
    if (s.is_ok()) return folder;
    if (s.code() != Code::kNotFound || attempt > 0) return fail(s);
    staging.clear();
  }
}

Status Store::Impl::publish(const std::string& staged, const std::string& target) {
  Status s = env->rename(staged, target);
  if (s.is_ok()) return s;
  (void)env->remove_tree(staged);
  if (s.code() == Code::kAlreadyExists || s.os_error() == ENOTEMPTY || s.os_error() == EEXIST)
    return Status::already_exists(target, "already exists");
  return s;
}

Result<std::string> Store::Impl::default_artifact_location(const std::string& id) const {
  return path_to_file_uri(layout.root) + "/" + id;
}

Status Store::Impl::write_experiment_meta(const std::string& dir, const Experiment& e) {
  AtomicWriteOptions o;
  o.sync = sync_meta();
  return write_file_atomic(*env, join(dir, kMetaFile), render_experiment_meta(e), o);
}

Status Store::Impl::build_experiment(const std::string& id, std::string_view name, const StringMap& tags,
                                     const std::string& artifact_location, std::int64_t now) {
  auto staged = new_staging_folder();
  if (!staged) return staged.error();
  Experiment e;
  e.experiment_id = id;
  e.name = std::string(name);
  e.artifact_location = artifact_location.empty() ? *default_artifact_location(id) : artifact_location;
  e.creation_time = now;
  e.last_update_time = now;
  // Plain writes: the staging folder is invisible to readers until the rename.
  Status s = write_new_file(*env, join(*staged, kMetaFile), render_experiment_meta(e), sync_meta());
  if (s.is_ok() && !tags.empty()) {
    std::string tag_dir = join(*staged, "tags");
    s = env->create_dir(tag_dir);
    for (const auto& [k, v] : tags) {
      if (!s.is_ok()) break;
      std::string path = join(tag_dir, k);
      if (k.find('/') != std::string::npos) s = env->create_dirs(parent_dir(path));
      if (s.is_ok()) s = write_new_file(*env, path, v, sync_meta());
    }
  }
  if (!s.is_ok()) {
    (void)env->remove_tree(*staged);
    return s;
  }
  s = publish(*staged, layout.experiment_dir(id));
  if (s.is_ok() && sync_meta()) (void)env->sync_dir(layout.root);
  return s;
}

Status Store::Impl::ensure_tree() {
  MLRUNS_RETURN_IF_ERROR(env->create_dirs(layout.root));
  auto info = env->stat(layout.root, /*follow_symlinks=*/true);
  if (!info) return info.error();
  if (info->type != FileType::kDirectory)
    return Status::invalid_argument("tracking root '" + layout.root + "'", "is not a directory");
  Status s = env->create_dir(layout.trash());
  if (!s.is_ok() && s.code() != Code::kAlreadyExists) return s;
  if (!exists(*env, layout.experiment_dir("0")) && !exists(*env, layout.experiment_dir("0", true))) {
    s = build_experiment("0", "Default", {}, "", env->now_ms());
    if (!s.is_ok() && s.code() != Code::kAlreadyExists) return s;  // another process made it
  }
  return Status::ok();
}

Result<Experiment> Store::Impl::load_experiment(std::string_view id, bool with_tags, bool* in_trash) const {
  if (Status v = validate_experiment_id(id); !v.is_ok()) return fail(v);
  for (bool deleted : {false, true}) {
    std::string dir = layout.experiment_dir(id, deleted);
    auto text = env->read_file(join(dir, kMetaFile), 1 << 20, /*no_follow=*/true);
    if (!text) {
      if (text.error().code() == Code::kNotFound) continue;
      return fail(text.error());
    }
    auto e = parse_experiment_meta(*text, deleted);
    if (!e) return fail(e.error().with_context(join(dir, kMetaFile)));
    if (e->experiment_id != id)
      return fail(Status::corruption(join(dir, kMetaFile), "experiment_id '" + e->experiment_id +
                                                               "' differs from the folder name (spec §3.2)"));
    if (with_tags) read_tag_dir(*env, join(dir, "tags"), "", e->tags, 0);
    if (in_trash) *in_trash = deleted;
    return e;
  }
  return fail(Status::not_found("experiment '" + std::string(id) + "'", "no such experiment in " + layout.root));
}

std::vector<Experiment> Store::Impl::list_experiments() const {
  std::vector<Experiment> out;
  for (bool deleted : {false, true}) {
    auto ids = list_experiment_dirs(*env, deleted ? layout.trash() : layout.root);
    if (!ids) continue;
    for (const std::string& id : *ids) {
      auto text = env->read_file(join(layout.experiment_dir(id, deleted), kMetaFile), 1 << 20, true);
      if (!text) continue;
      auto e = parse_experiment_meta(*text, deleted);
      if (e && e->experiment_id == id) out.push_back(std::move(*e));
    }
  }
  return out;
}

std::optional<Experiment> Store::Impl::find_experiment_by_name(std::string_view name) const {
  std::optional<Experiment> deleted;
  for (Experiment& e : list_experiments()) {
    if (e.name != name) continue;
    if (e.lifecycle_stage == LifecycleStage::kActive) return std::move(e);
    if (!deleted) deleted = std::move(e);
  }
  return deleted;
}

Result<Store::Impl::RunRef> Store::Impl::load_run(std::string_view run_id) const {
  if (Status v = validate_run_id(run_id); !v.is_ok()) return fail(v);
  auto loc = find_run(*env, layout, run_id);
  if (!loc) return fail(loc.error());
  auto text = env->read_file(join(loc->dir, kMetaFile), 1 << 20, true);
  if (!text) return fail(text.error());
  auto info = parse_run_meta(*text);
  if (!info) return fail(info.error().with_context(join(loc->dir, kMetaFile)));
  if (info->run_id != run_id)
    return fail(Status::corruption(join(loc->dir, kMetaFile), "run_id '" + info->run_id +
                                                                  "' differs from the folder name"));
  return RunRef{loc->dir, std::move(*info)};
}

Status Store::Impl::write_run_meta(const std::string& run_dir, const RunInfo& info) {
  AtomicWriteOptions o;
  o.sync = sync_each_flush();
  return write_file_atomic(*env, join(run_dir, kMetaFile), render_run_meta(info), o);
}

Status Store::Impl::check_value(std::string_view what, std::string_view key, std::string& value,
                                std::size_t limit) const {
  if (!is_valid_utf8(value))
    return Status::invalid_argument(std::string(what) + " value for '" + std::string(key) + "'",
                                    "not valid UTF-8 (MLflow reads these files as UTF-8, spec §2.2)");
  std::size_t n = utf8_length(value);
  if (n > limit) {
    if (options.long_values == LongValues::kTruncate) {
      utf8_truncate(value, limit);
    } else {
      return Status::invalid_argument(
          std::string(what) + " value for '" + std::string(key) + "'",
          std::to_string(n) + " characters, longer than the limit of " + std::to_string(limit) +
              " (spec §6.2; LongValues::kTruncate cuts it instead)");
    }
  }
  return Status::ok();
}

Status Store::Impl::write_param(const std::string& run_dir, std::string_view key, std::string value,
                                std::map<std::string, std::string, std::less<>>* known) {
  MLRUNS_RETURN_IF_ERROR(validate_key("param key", key, options.names));
  MLRUNS_RETURN_IF_ERROR(check_value("param", key, value, kMaxParamValueLength));
  auto immutable = [&](const std::string& old) {
    return Status::already_exists("param '" + std::string(key) + "'",
                                  "already logged with value '" + old + "'; cannot change it to '" + value +
                                      "' (params are immutable, spec §5.2)");
  };
  if (known) {
    auto it = known->find(key);
    if (it != known->end()) return it->second == value ? Status::ok() : immutable(it->second);
  }
  std::string path = join(join(run_dir, "params"), key);
  auto old = env->read_file(path, 1 << 20, true);
  if (old) {
    if (*old != value) return immutable(*old);
  } else if (old.error().code() != Code::kNotFound) {
    return old.error();
  } else {
    if (key.find('/') != std::string_view::npos) MLRUNS_RETURN_IF_ERROR(env->create_dirs(parent_dir(path)));
    AtomicWriteOptions o;
    o.sync = sync_each_flush();
    o.temp_dir = run_dir;  // never inside params/: MLflow would read a temp file as a key (spec §11)
    MLRUNS_RETURN_IF_ERROR(write_file_atomic(*env, path, value, o));
  }
  if (known) known->emplace(std::string(key), std::move(value));
  return Status::ok();
}

Status Store::Impl::write_tag(const std::string& run_dir, RunInfo* info, std::string_view key, std::string value) {
  MLRUNS_RETURN_IF_ERROR(validate_key("tag key", key, options.names));
  MLRUNS_RETURN_IF_ERROR(check_value("tag", key, value, kMaxTagValueLength));
  std::string path = join(join(run_dir, "tags"), key);
  if (key.find('/') != std::string_view::npos) MLRUNS_RETURN_IF_ERROR(env->create_dirs(parent_dir(path)));
  AtomicWriteOptions o;
  o.sync = sync_each_flush();
  o.temp_dir = run_dir;
  MLRUNS_RETURN_IF_ERROR(write_file_atomic(*env, path, value, o));
  // Setting mlflow.runName renames the run in meta.yaml too (spec §4.4).
  if (key == "mlflow.runName" && info && info->run_name != value) {
    info->run_name = value;
    MLRUNS_RETURN_IF_ERROR(write_run_meta(run_dir, *info));
  }
  return Status::ok();
}

Status Store::Impl::delete_tag(const std::string& run_dir, std::string_view key) {
  MLRUNS_RETURN_IF_ERROR(validate_key("tag key", key, NameRules::kMlflow));
  Status s = env->remove_file(join(join(run_dir, "tags"), key));
  if (s.code() == Code::kNotFound)
    return Status::not_found("tag '" + std::string(key) + "'", "the run has no such tag");
  return s;
}

void Store::Impl::register_run(const std::shared_ptr<ActiveRun::State>& state) {
  std::lock_guard<std::mutex> lock(runs_mu);
  runs.erase(std::remove_if(runs.begin(), runs.end(), [](const auto& w) { return w.expired(); }), runs.end());
  runs.push_back(state);
}

// --------------------------------------------------------------- Store ----

Store::Store(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Store Store::open(StoreOptions options) {
  auto impl = std::make_shared<Impl>();
  impl->options = std::move(options);
  impl->env = impl->options.env ? impl->options.env : Env::posix();
  auto root = resolve_tracking_root(impl->options.tracking_uri, impl->env);
  if (!root) {
    impl->open_status = root.error();
  } else {
    impl->layout.root = *root;
    impl->open_status = impl->ensure_tree();
    if (!impl->open_status.is_ok()) impl->open_status = impl->open_status.with_context("opening " + *root);
  }
  impl->finish(impl->open_status);
  return Store(std::move(impl));
}

bool Store::ok() const { return impl_->open_status.is_ok(); }
Status Store::status() const { return impl_->open_status; }
const std::string& Store::root() const { return impl_->layout.root; }
const StoreOptions& Store::options() const { return impl_->options; }

std::uint64_t Store::failure_count() const { return impl_->failures.load(); }
Status Store::last_error() const {
  std::lock_guard<std::mutex> lock(impl_->error_mu);
  return impl_->last_error;
}

Result<std::string> Store::create_experiment(std::string_view name, const StringMap& tags,
                                             std::string_view artifact_location) {
  Impl& im = *impl_;
  auto run = [&]() -> Result<std::string> {
    if (!im.open_status.is_ok()) return fail(im.open_status);
    if (Status v = validate_experiment_name(name); !v.is_ok()) return fail(v);
    for (const auto& [k, v] : tags)
      if (Status s = validate_key("experiment tag key", k, im.options.names); !s.is_ok()) return fail(s);
    std::string location;
    if (!artifact_location.empty()) {
      if (artifact_location.size() > 2048 || !is_valid_utf8(artifact_location))
        return fail(Status::invalid_argument("artifact_location '" + std::string(artifact_location) + "'",
                                             "must be valid UTF-8 of at most 2048 characters (spec §6.2)"));
      location = std::string(artifact_location);
      if (location.find(':') == std::string::npos && location.front() != '/') {
        auto abs = resolve_tracking_root(location, im.env);  // a relative path made absolute
        if (!abs) return fail(abs.error());
        location = *abs;
      }
    }
    if (auto existing = im.find_experiment_by_name(name))
      return fail(Status::already_exists(
          "experiment '" + std::string(name) + "'",
          "exists with id " + existing->experiment_id +
              (existing->lifecycle_stage == LifecycleStage::kDeleted ? " (deleted; restore it or pick another name)" : "")));
    for (int attempt = 0; attempt < 16; ++attempt) {
      std::string id = random_experiment_id();
      if (exists(*im.env, im.layout.experiment_dir(id, true))) continue;
      Status s = im.build_experiment(id, name, tags, location, im.env->now_ms());
      if (s.is_ok()) return id;
      if (s.code() != Code::kAlreadyExists) return fail(s);
    }
    return fail(Status::io_error("experiment '" + std::string(name) + "'", "no free experiment id after 16 attempts"));
  };
  return im.finish(run());
}

Result<std::string> Store::get_or_create_experiment(std::string_view name) {
  Impl& im = *impl_;
  auto run = [&]() -> Result<std::string> {
    if (!im.open_status.is_ok()) return fail(im.open_status);
    if (Status v = validate_experiment_name(name); !v.is_ok()) return fail(v);
    auto deleted_error = [&](const std::string& id) {
      return Status::failed_precondition("experiment '" + std::string(name) + "' (id " + id + ")",
                                         "is deleted; restore it first (spec §7)");
    };
    // 1. The id derived from the name: the common, cheap case.
    // 2. Any experiment with that name (made by MLflow or create_experiment).
    // 3. Claim the derived id with one atomic rename; a loser reads the winner.
    for (int pass = 0; pass < 2; ++pass) {
      if (pass == 1) {
        if (auto e = im.find_experiment_by_name(name)) {
          if (e->lifecycle_stage == LifecycleStage::kDeleted) return fail(deleted_error(e->experiment_id));
          return e->experiment_id;
        }
      }
      for (int attempt = 0; attempt < 64; ++attempt) {
        std::string id = derived_experiment_id(name, attempt);
        bool in_trash = false;
        auto e = im.load_experiment(id, false, &in_trash);
        if (!e && e.error().code() == Code::kNotFound) {
          if (pass == 0) break;  // free: look for the name elsewhere first
          Status s = im.build_experiment(id, name, {}, "", im.env->now_ms());
          if (s.is_ok()) return id;
          if (s.code() != Code::kAlreadyExists) return fail(s);
          // Lost the race: read the winner (its folder is complete: it was renamed in whole).
          for (int wait = 0; wait < 20; ++wait) {
            e = im.load_experiment(id, false, &in_trash);
            if (e || e.error().code() != Code::kCorruption) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a foreign, half-written meta.yaml
          }
        }
        if (!e) {
          if (e.error().code() == Code::kCorruption) continue;  // an unreadable folder holds this id
          return fail(e.error());
        }
        if (e->name == name) {
          if (in_trash || e->lifecycle_stage == LifecycleStage::kDeleted) return fail(deleted_error(id));
          return id;
        }
        // Another name holds this id: try the next derived id.
      }
    }
    return fail(Status::io_error("experiment '" + std::string(name) + "'", "no free derived id after 64 attempts"));
  };
  return im.finish(run());
}

Result<Experiment> Store::get_experiment(std::string_view experiment_id) const {
  Impl& im = *impl_;
  if (!im.open_status.is_ok()) return im.finish(Result<Experiment>(fail(im.open_status)));
  return im.finish(im.load_experiment(experiment_id, true));
}

Result<Experiment> Store::get_experiment_by_name(std::string_view name) const {
  Impl& im = *impl_;
  auto run = [&]() -> Result<Experiment> {
    if (!im.open_status.is_ok()) return fail(im.open_status);
    auto e = im.find_experiment_by_name(name);
    if (!e) return fail(Status::not_found("experiment '" + std::string(name) + "'", "no experiment has this name"));
    return im.load_experiment(e->experiment_id, true);
  };
  return im.finish(run());
}

Status Store::rename_experiment(std::string_view experiment_id, std::string_view new_name) {
  Impl& im = *impl_;
  auto run = [&]() -> Status {
    MLRUNS_RETURN_IF_ERROR(im.open_status);
    MLRUNS_RETURN_IF_ERROR(validate_experiment_name(new_name));
    bool in_trash = false;
    auto e = im.load_experiment(experiment_id, false, &in_trash);
    if (!e) return e.error();
    if (in_trash || e->lifecycle_stage != LifecycleStage::kActive)
      return Status::failed_precondition("experiment " + std::string(experiment_id),
                                         "is deleted; only active experiments can be renamed (spec §7)");
    if (e->name == new_name) return Status::ok();
    if (auto other = im.find_experiment_by_name(new_name))
      return Status::already_exists("experiment name '" + std::string(new_name) + "'",
                                    "taken by experiment " + other->experiment_id);
    e->name = std::string(new_name);
    e->last_update_time = im.env->now_ms();
    return im.write_experiment_meta(im.layout.experiment_dir(experiment_id), *e);
  };
  return im.finish(run());
}

Status Store::set_experiment_tag(std::string_view experiment_id, std::string_view key, std::string_view value) {
  Impl& im = *impl_;
  auto run = [&]() -> Status {
    MLRUNS_RETURN_IF_ERROR(im.open_status);
    MLRUNS_RETURN_IF_ERROR(validate_key("experiment tag key", key, im.options.names));
    if (!is_valid_utf8(value))
      return Status::invalid_argument("experiment tag value for '" + std::string(key) + "'", "not valid UTF-8");
    bool in_trash = false;
    auto e = im.load_experiment(experiment_id, false, &in_trash);
    if (!e) return e.error();
    if (in_trash || e->lifecycle_stage != LifecycleStage::kActive)
      return Status::failed_precondition("experiment " + std::string(experiment_id), "is deleted (spec §5.4)");
    std::string dir = im.layout.experiment_dir(experiment_id);
    std::string path = join(join(dir, "tags"), key);
    MLRUNS_RETURN_IF_ERROR(im.env->create_dirs(parent_dir(path)));
    AtomicWriteOptions o;
    o.sync = im.sync_meta();
    o.temp_dir = dir;
    return write_file_atomic(*im.env, path, value, o);
  };
  return im.finish(run());
}

Status Store::delete_experiment_tag(std::string_view experiment_id, std::string_view key) {
  Impl& im = *impl_;
  auto run = [&]() -> Status {
    MLRUNS_RETURN_IF_ERROR(im.open_status);
    MLRUNS_RETURN_IF_ERROR(validate_key("experiment tag key", key, NameRules::kMlflow));
    bool in_trash = false;
    auto e = im.load_experiment(experiment_id, false, &in_trash);
    if (!e) return e.error();
    if (in_trash) return Status::failed_precondition("experiment " + std::string(experiment_id), "is deleted");
    Status s = im.env->remove_file(join(join(im.layout.experiment_dir(experiment_id), "tags"), key));
    if (s.code() == Code::kNotFound)
      return Status::not_found("experiment tag '" + std::string(key) + "'", "no such tag");
    return s;
  };
  return im.finish(run());
}

namespace {

// Sets every run of an experiment folder to `stage` (spec §7).
Status set_runs_stage(Store::Impl& im, const std::string& exp_dir, LifecycleStage stage, std::int64_t now,
                      bool only_active) {
  auto entries = im.env->list_dir(exp_dir);
  if (!entries) return entries.error();
  for (const DirEntry& e : *entries) {
    if (e.type != FileType::kDirectory || is_reserved_experiment_folder(e.name)) continue;
    if (!validate_run_id(e.name).is_ok()) continue;
    std::string dir = join(exp_dir, e.name);
    auto text = im.env->read_file(join(dir, kMetaFile), 1 << 20, true);
    if (!text) continue;
    auto info = parse_run_meta(*text);
    if (!info) continue;
    if (only_active && info->lifecycle_stage != LifecycleStage::kActive) continue;
    if (info->lifecycle_stage == stage) continue;
    info->lifecycle_stage = stage;
    info->deleted_time = stage == LifecycleStage::kDeleted ? std::optional<std::int64_t>(now) : std::nullopt;
    MLRUNS_RETURN_IF_ERROR(im.write_run_meta(dir, *info));
  }
  return Status::ok();
}

}  // namespace

Status Store::delete_experiment(std::string_view experiment_id) {
  Impl& im = *impl_;
  auto run = [&]() -> Status {
    MLRUNS_RETURN_IF_ERROR(im.open_status);
    if (experiment_id == "0")
      return Status::invalid_argument("experiment 0", "the default experiment cannot be deleted (spec §7)");
    bool in_trash = false;
    auto e = im.load_experiment(experiment_id, false, &in_trash);
    if (!e) return e.error();
    if (in_trash) return Status::failed_precondition("experiment " + std::string(experiment_id), "is already deleted");
    std::string dir = im.layout.experiment_dir(experiment_id);
    std::string target = im.layout.experiment_dir(experiment_id, true);
    if (exists(*im.env, target))
      return Status::already_exists(target, "a deleted experiment with this id is already in .trash");
    std::int64_t now = im.env->now_ms();
    // As MLflow >= 2.3: runs marked deleted, the file says deleted, then the move (spec §7).
    MLRUNS_RETURN_IF_ERROR(set_runs_stage(im, dir, LifecycleStage::kDeleted, now, true));
    e->lifecycle_stage = LifecycleStage::kDeleted;
    e->last_update_time = now;
    MLRUNS_RETURN_IF_ERROR(im.write_experiment_meta(dir, *e));
    MLRUNS_RETURN_IF_ERROR(im.env->rename(dir, target));
    if (im.sync_meta()) {
      (void)im.env->sync_dir(im.layout.trash());
      (void)im.env->sync_dir(im.layout.root);
    }
    return Status::ok();
  };
  return im.finish(run());
}

Status Store::restore_experiment(std::string_view experiment_id) {
  Impl& im = *impl_;
  auto run = [&]() -> Status {
    MLRUNS_RETURN_IF_ERROR(im.open_status);
    MLRUNS_RETURN_IF_ERROR(validate_experiment_id(experiment_id));
    std::string from = im.layout.experiment_dir(experiment_id, true);
    std::string to = im.layout.experiment_dir(experiment_id);
    if (!exists(*im.env, from))
      return Status::not_found("experiment " + std::string(experiment_id), "is not in .trash");
    if (exists(*im.env, to))
      return Status::already_exists(to, "an active experiment with this id exists (spec §7)");
    MLRUNS_RETURN_IF_ERROR(im.env->rename(from, to));
    auto e = im.load_experiment(experiment_id, false);
    if (!e) return e.error();
    std::int64_t now = im.env->now_ms();
    e->lifecycle_stage = LifecycleStage::kActive;
    e->last_update_time = now;
    MLRUNS_RETURN_IF_ERROR(im.write_experiment_meta(to, *e));
    // MLflow >= 2.3 restores every deleted run in it (spec §7, §14.11).
    return set_runs_stage(im, to, LifecycleStage::kActive, now, false);
  };
  return im.finish(run());
}

Status Store::log_batch(std::string_view run_id, const std::vector<Metric>& metrics, const StringMap& params,
                        const StringMap& tags) {
  Impl& im = *impl_;
  auto run = [&]() -> Status {
    MLRUNS_RETURN_IF_ERROR(im.open_status);
    auto ref = im.load_run(run_id);
    if (!ref) return ref.error();
    if (ref->info.lifecycle_stage != LifecycleStage::kActive)
      return Status::failed_precondition("run " + std::string(run_id), "is deleted; restore it to log to it");
    ActiveRun::State state(join(ref->dir, "metrics"));
    state.store = impl_;
    state.valid = true;
    state.info = ref->info;
    state.dir = ref->dir;
    std::lock_guard<std::mutex> lock(state.mu);
    // Same validation and order as ActiveRun::log_batch; the points are written at once.
    Status s = state.batch_locked(metrics, params, tags);
    if (s.is_ok()) s = state.metrics.flush(*im.env, im.options.durability != Durability::kNone);
    state.ended = true;
    state.metrics.close_all();
    return s;
  };
  return im.finish(run());
}

Status Store::set_terminated(std::string_view run_id, RunStatus status, std::optional<std::int64_t> end_time) {
  Impl& im = *impl_;
  auto run = [&]() -> Status {
    MLRUNS_RETURN_IF_ERROR(im.open_status);
    auto ref = im.load_run(run_id);
    if (!ref) return ref.error();
    if (ref->info.lifecycle_stage != LifecycleStage::kActive)
      return Status::failed_precondition("run " + std::string(run_id), "is deleted (spec §7)");
    ref->info.status = status;
    ref->info.end_time = end_time ? *end_time : im.env->now_ms();
    AtomicWriteOptions o;
    o.sync = im.sync_meta();
    return write_file_atomic(*im.env, join(ref->dir, kMetaFile), render_run_meta(ref->info), o);
  };
  return im.finish(run());
}

Status Store::delete_run(std::string_view run_id) {
  Impl& im = *impl_;
  auto run = [&]() -> Status {
    MLRUNS_RETURN_IF_ERROR(im.open_status);
    auto ref = im.load_run(run_id);
    if (!ref) return ref.error();
    if (ref->info.lifecycle_stage == LifecycleStage::kDeleted) return Status::ok();
    ref->info.lifecycle_stage = LifecycleStage::kDeleted;
    ref->info.deleted_time = im.env->now_ms();
    return im.write_run_meta(ref->dir, ref->info);
  };
  return im.finish(run());
}

Status Store::restore_run(std::string_view run_id) {
  Impl& im = *impl_;
  auto run = [&]() -> Status {
    MLRUNS_RETURN_IF_ERROR(im.open_status);
    auto ref = im.load_run(run_id);
    if (!ref) return ref.error();
    ref->info.lifecycle_stage = LifecycleStage::kActive;
    ref->info.deleted_time.reset();
    return im.write_run_meta(ref->dir, ref->info);
  };
  return im.finish(run());
}

Status Store::log_artifact(std::string_view run_id, const std::string& local_path, std::string_view artifact_path) {
  Impl& im = *impl_;
  auto run = [&]() -> Status {
    MLRUNS_RETURN_IF_ERROR(im.open_status);
    auto ref = im.load_run(run_id);
    if (!ref) return ref.error();
    auto root = file_uri_to_path(ref->info.artifact_uri);
    if (!root)
      return Status::not_supported("artifact_uri '" + ref->info.artifact_uri + "'",
                                   "not a local path; mlruns copies artifacts into local trees only");
    ArtifactTarget t{*root, parent_dir(*root), im.options.durability != Durability::kNone};
    return copy_artifact(*im.env, t, local_path, artifact_path);
  };
  return im.finish(run());
}

Status Store::flush() {
  Impl& im = *impl_;
  std::vector<std::shared_ptr<ActiveRun::State>> live;
  {
    std::lock_guard<std::mutex> lock(im.runs_mu);
    for (auto& w : im.runs)
      if (auto s = w.lock()) live.push_back(std::move(s));
  }
  Status first = im.open_status;
  for (auto& s : live) {
    std::lock_guard<std::mutex> lock(s->mu);
    if (!s->valid || s->ended) continue;
    Status st = s->flush_locked();
    if (!st.is_ok() && first.is_ok()) first = st;
  }
  return im.finish(first);
}

}  // namespace mlruns
