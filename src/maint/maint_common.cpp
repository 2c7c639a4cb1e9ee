#include "maint/maint_common.h"

#include "util/printable.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>

#include "env/atomic_file.h"
#include "format/layout.h"
#include "format/tracking_uri.h"

namespace mlruns::detail {

Result<std::string> resolve_tree_root(Env& env, std::string_view tracking_uri) {
  auto path = resolve_tracking_root(tracking_uri, &env);
  if (!path) return fail(path.error());
  auto info = env.stat(*path, true);
  if (!info) return fail(info.error());
  if (info->type != FileType::kDirectory)
    return fail(Status::not_found(*path, "not a directory (an mlruns tree is a folder)"));
  // The real path: symlinked parents resolved, so "inside the tree" checks
  // compare like with like.
  auto real = env.real_path(*path);
  if (!real) return fail(real.error());
  return *real;
}

Result<Tree> open_tree(Env* given, std::string_view tracking_uri) {
  Tree t;
  auto root = resolve_tree_root(given ? *given : *Env::posix(), tracking_uri);
  if (!root) return fail(root.error());
  t.root = *root;
  if (given) {
    t.env = given;
  } else {
    t.owned = Env::posix_beneath(t.root);
    t.env = t.owned.get();
  }
  return t;
}

std::string compact_utc(std::int64_t ms) {
  using namespace std::chrono;
  sys_time<milliseconds> tp{milliseconds{ms}};
  auto day = floor<days>(tp);
  year_month_day ymd{day};
  hh_mm_ss hms{floor<seconds>(tp - day)};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02ld%02ld%02ldZ", int(ymd.year()), unsigned(ymd.month()),
                unsigned(ymd.day()), long(hms.hours().count()), long(hms.minutes().count()),
                long(hms.seconds().count()));
  return buf;
}

std::string relative_to(std::string_view root, std::string_view path) {
  if (path.size() <= root.size()) return {};
  std::string_view rest = path.substr(root.size());
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  return std::string(rest);
}

Quarantine::Quarantine(Env& env, std::string root, std::int64_t now_ms)
    // The random part keeps two fsck runs in the same second apart.
    : env_(env), root_(std::move(root)),
      dir_(join(root_, "quarantine-" + compact_utc(now_ms) + "-" + random_hex(6) + ".trash")) {}

Status Quarantine::ensure_dir(const std::string& rel_parent) {
  used_ = true;
  return env_.create_dirs(rel_parent.empty() ? dir_ : join(dir_, rel_parent));
}

Status Quarantine::note(std::string_view line) {
  MLRUNS_RETURN_IF_ERROR(ensure_dir({}));
  std::size_t before = notes_.size();
  notes_.append(line);
  notes_ += '\n';
  Status s = write_file_atomic(env_, join(dir_, "NOTES.txt"), notes_, {.sync = true, .temp_dir = {}});
  if (!s) notes_.resize(before);
  last_note_ = s.is_ok() ? before : notes_.size();
  return s;
}

void Quarantine::unnote() {
  if (last_note_ >= notes_.size()) return;
  notes_.resize(last_note_);
  // Best effort: a stale line names an item that is still in its place.
  (void)write_file_atomic(env_, join(dir_, "NOTES.txt"), notes_, {.sync = true, .temp_dir = {}});
}

Result<std::string> Quarantine::move_in(const std::string& path, std::string_view reason) {
  std::string rel = relative_to(root_, path);
  if (rel.empty()) return fail(Status::invalid_argument(path, "cannot quarantine the tree root"));
  std::size_t slash = rel.rfind('/');
  MLRUNS_TRY(ensure_dir(slash == std::string::npos ? std::string() : rel.substr(0, slash)));
  std::string target = join(dir_, rel);
  auto exists = env_.stat(target);
  if (exists && exists->type != FileType::kMissing) target += ".moved-" + std::to_string(env_.now_ms());
  // The note goes first: NOTES.txt must never miss a move that happened.
  MLRUNS_TRY(note("moved " + rel + " -> " + relative_to(root_, target) + ": " + std::string(reason)));
  if (Status s = env_.rename(path, target); !s) {
    unnote();
    return fail(s);
  }
  return target;
}

Result<std::string> Quarantine::save(const std::string& origin, std::string_view suffix, std::string_view data,
                                     std::string_view reason) {
  std::string rel = relative_to(root_, origin) + std::string(suffix);
  std::size_t slash = rel.rfind('/');
  MLRUNS_TRY(ensure_dir(slash == std::string::npos ? std::string() : rel.substr(0, slash)));
  std::string target = join(dir_, rel);
  auto exists = env_.stat(target);
  if (exists && exists->type != FileType::kMissing) target += "-" + std::to_string(env_.now_ms());
  MLRUNS_TRY(note("saved " + relative_to(root_, target) + " (from " + relative_to(root_, origin) +
                              "): " + std::string(reason)));
  if (Status s = write_file_atomic(env_, target, data, {.sync = true, .temp_dir = {}}); !s) {
    unnote();
    return fail(s);
  }
  return target;
}

}  // namespace mlruns::detail

#include "mlruns/key.h"

namespace mlruns::detail {

std::vector<ExperimentDir> experiment_dirs(Env& env, const std::string& root) {
  std::vector<ExperimentDir> out;
  for (bool trash : {false, true}) {
    std::string base = trash ? join(root, kTrashDir) : root;
    auto names = list_experiment_dirs(env, base);
    if (!names) continue;
    std::sort(names->begin(), names->end());
    for (const std::string& n : *names) out.push_back({n, join(base, n), trash});
  }
  return out;
}

std::vector<std::string> run_dir_names(Env& env, const std::string& experiment_dir) {
  std::vector<std::string> out;
  auto entries = env.list_dir(experiment_dir);
  if (!entries) return out;
  for (const DirEntry& e : *entries) {
    if (e.type != FileType::kDirectory || is_reserved_experiment_folder(e.name)) continue;
    if (!validate_run_id(e.name).is_ok()) continue;
    out.push_back(e.name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {
void collect_files(Env& env, const std::string& dir, int depth, std::vector<std::string>& out) {
  if (depth > 64) return;
  auto entries = env.list_dir(dir);
  if (!entries) return;
  for (const DirEntry& e : *entries) {
    if (e.type == FileType::kRegular) out.push_back(join(dir, e.name));
    else if (e.type == FileType::kDirectory) collect_files(env, join(dir, e.name), depth + 1, out);
  }
}
}  // namespace

std::vector<std::string> metric_files(Env& env, const std::string& metrics_dir) {
  std::vector<std::string> out;
  collect_files(env, metrics_dir, 0, out);
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::string> read_small(Env& env, const std::string& path, std::uint64_t max) {
  return env.read_file(path, max, true);
}

}  // namespace mlruns::detail

namespace mlruns::detail {

Result<std::string> apply_meta_edit(Env& env, const std::string& path, std::string_view before,
                                    const std::map<std::string, MetaValue>& edits, bool dry_run) {
  auto doc = MetaDoc::parse(before);
  if (!doc) return fail(doc.error().with_context(path));
  for (const auto& [key, value] : edits) {
    switch (value.kind) {
      case MetaValue::Kind::kString: doc->set_str(key, value.text); break;
      case MetaValue::Kind::kInt: doc->set_int(key, std::stoll(value.text)); break;
      case MetaValue::Kind::kNull: doc->set_null(key); break;
      case MetaValue::Kind::kAbsent: doc->erase(key); break;
    }
  }
  std::string after = doc->text();
  Status ok = verify_meta_edit(before, after, edits);
  if (!ok) return fail(ok.with_context(path));
  if (dry_run) return after;
  auto now = read_small(env, path);
  if (!now || *now != before)
    return fail(Status::failed_precondition(path, "changed while being edited; left alone"));
  Status s = write_file_atomic(env, path, after, {.sync = true, .temp_dir = {}});
  if (!s) return fail(s);
  return after;
}

}  // namespace mlruns::detail
