// Store: experiments. Creation (race-free get-or-create across processes and
// nodes, docs/design.md), lookup, rename, tags, delete and restore (spec §7).
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid.hpp>

#include <chrono>
#include <random>
#include <thread>

#include "env/atomic_file.h"
#include "format/file_uri.h"
#include "format/meta_parse.h"
#include "format/meta_write.h"
#include "format/tracking_uri.h"
#include "mlruns/key.h"
#include "util/printable.h"
#include "write/name_claim.h"
#include "write/store_impl.h"

namespace mlruns {
namespace detail {

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

namespace {

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

}  // namespace
}  // namespace detail

using namespace detail;

Result<std::string> Store::Impl::default_artifact_location(const std::string& id) const {
  if (artifact_root.empty()) return path_to_file_uri(layout.root) + "/" + id;
  return append_to_uri_path(artifact_root, id);
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

NameClaims Store::Impl::experiment_names() {
  return NameClaims(*env, layout.root, "experiments");
}

Status Store::Impl::claim_experiment_name(std::string_view name, const std::string& id) {
  NameClaims claims = experiment_names();
  auto holds = [&](std::string_view owner, std::string_view n) {
    auto e = load_experiment(owner, false);
    return e && e->name == n;
  };
  Status s = claims.claim(name, id, holds, kNameClaimGraceMs, env->now_ms());
  if (!s.is_ok()) {
    if (s.code() == Code::kAlreadyExists)
      return Status::already_exists("experiment '" + std::string(name) + "'", "exists (" + s.message() + ")");
    return s.with_context("experiment '" + escape_control(name) + "'");  // the user's value first
  }
  // Trees written by MLflow have no claims: look for a holder all the same.
  if (auto other = find_experiment_by_name(name); other && other->experiment_id != id) {
    (void)claims.release(name, id);
    return Status::already_exists(
        "experiment '" + std::string(name) + "'",
        "exists with id " + other->experiment_id +
            (other->lifecycle_stage == LifecycleStage::kDeleted ? " (deleted; restore it or pick another name)" : ""));
  }
  return Status::ok();
}

Result<std::string> Store::create_experiment(std::string_view name, const StringMap& tags,
                                             std::string_view artifact_location) {
  Impl& im = *impl_;
  auto run = [&]() -> Result<std::string> {
    if (!im.open_status.is_ok()) return fail(im.open_status);
    if (Status v = validate_experiment_name(name); !v.is_ok()) return fail(v);
    for (const auto& [k, v] : tags)
      if (Status s = validate_tag_key("experiment tag key", k, im.options.names); !s.is_ok()) return fail(s);
    std::string location;
    if (!artifact_location.empty()) {
      if (artifact_location.size() > 2048 || !is_valid_utf8(artifact_location))
        return fail(Status::invalid_argument("artifact_location '" + std::string(artifact_location) + "'",
                                             "must be valid UTF-8 of at most 2048 characters (spec §6.2)"));
      // A relative path or file: URI is taken against the current directory, as MLflow's
      // FileStore.create_experiment does (resolve_uri_if_local, mlflow/utils/uri.py).
      auto resolved = resolve_uri_if_local(artifact_location, *im.env);
      if (!resolved) return fail(resolved.error());
      location = std::move(*resolved);
    }
    if (auto existing = im.find_experiment_by_name(name))
      return fail(Status::already_exists(
          "experiment '" + std::string(name) + "'",
          "exists with id " + existing->experiment_id +
              (existing->lifecycle_stage == LifecycleStage::kDeleted ? " (deleted; restore it or pick another name)" : "")));
    for (int attempt = 0; attempt < 16; ++attempt) {
      std::string id = random_experiment_id();
      if (exists(*im.env, im.layout.experiment_dir(id, true))) continue;
      // The name first (unique across processes, write/name_claim.h), then the folder.
      if (Status c = im.claim_experiment_name(name, id); !c.is_ok()) return fail(c);
      Status s = im.build_experiment(id, name, tags, location, im.env->now_ms());
      if (s.is_ok()) return id;
      (void)im.experiment_names().release(name, id);
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
          // Claim the name like create_experiment does, so the two never
          // make one name twice. Another get-or-create of this name holds
          // the claim for this very id: read the winner below.
          Status c = im.claim_experiment_name(name, id);
          if (!c.is_ok() && c.code() != Code::kAlreadyExists) return fail(c);
          if (!c.is_ok()) {
            auto holder = im.experiment_names().find(name);
            if (holder && holder->owner != id) {
              // create_experiment (or MLflow) holds it: wait for that experiment.
              for (int wait = 0; wait < 100; ++wait) {
                auto other = im.load_experiment(holder->owner, false, &in_trash);
                if (other && other->name == name) {
                  if (in_trash || other->lifecycle_stage == LifecycleStage::kDeleted)
                    return fail(deleted_error(holder->owner));
                  return holder->owner;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
              }
              if (auto e2 = im.find_experiment_by_name(name)) {
                if (e2->lifecycle_stage == LifecycleStage::kDeleted) return fail(deleted_error(e2->experiment_id));
                return e2->experiment_id;
              }
              return fail(c);
            }
            if (!holder) {
              if (auto e2 = im.find_experiment_by_name(name)) {
                if (e2->lifecycle_stage == LifecycleStage::kDeleted) return fail(deleted_error(e2->experiment_id));
                return e2->experiment_id;
              }
            }
          }
          Status s = c.is_ok() ? im.build_experiment(id, name, {}, "", im.env->now_ms())
                               : Status::already_exists(id, "being created by another process");
          if (s.is_ok()) return id;
          if (c.is_ok()) (void)im.experiment_names().release(name, id);
          if (s.code() != Code::kAlreadyExists) return fail(s);
          // Lost the race: read the winner (its folder is complete: it was renamed in whole).
          // (Not found yet: the claim's holder is between claim and rename.)
          for (int wait = 0; wait < 100; ++wait) {
            e = im.load_experiment(id, false, &in_trash);
            if (e || (e.error().code() != Code::kCorruption && e.error().code() != Code::kNotFound)) break;
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
    // The new name first, then the file, then the old name goes.
    std::string id(experiment_id);
    MLRUNS_RETURN_IF_ERROR(im.claim_experiment_name(new_name, id));
    std::string old_name = e->name;
    e->name = std::string(new_name);
    e->last_update_time = im.env->now_ms();
    Status s = im.write_experiment_meta(im.layout.experiment_dir(experiment_id), *e);
    if (!s.is_ok()) {
      (void)im.experiment_names().release(new_name, id);
      return s;
    }
    (void)im.experiment_names().release(old_name, id);
    return Status::ok();
  };
  return im.finish(run());
}

Status Store::set_experiment_tag(std::string_view experiment_id, std::string_view key, std::string_view value) {
  Impl& im = *impl_;
  auto run = [&]() -> Status {
    MLRUNS_RETURN_IF_ERROR(im.open_status);
    MLRUNS_RETURN_IF_ERROR(validate_tag_key("experiment tag key", key, im.options.names));
    if (!is_valid_utf8(value))
      return Status::invalid_argument("experiment tag value for '" + printable_prefix(key, 80) + "'", "not valid UTF-8");
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
    MLRUNS_RETURN_IF_ERROR(validate_key_name("experiment tag key", key, NameRules::kMlflow));
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
    // Its name, claimed for it: a creator of the same name racing this
    // restore either finds the claim or, after claiming, the experiment.
    {
      auto text = im.env->read_file(join(from, kMetaFile), 1 << 20, true);
      auto meta = text ? parse_experiment_meta(*text, true) : Result<Experiment>(fail(text.error()));
      if (meta) MLRUNS_RETURN_IF_ERROR(im.claim_experiment_name(meta->name, std::string(experiment_id)));
    }
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

}  // namespace mlruns
