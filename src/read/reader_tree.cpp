// The Reader's walk over the tree (reader_impl.h): experiment folders and
// their meta.yaml, the trash, and the folder of a run by id.
#include <algorithm>
#include <chrono>
#include <thread>

#include "format/layout.h"
#include "format/meta_parse.h"
#include "mlruns/env.h"
#include "mlruns/key.h"
#include "read/reader_impl.h"

namespace mlruns::detail {
namespace {

// MLflow retries an empty meta.yaml after 0.1 s and 0.2 s (spec §11, §14.9):
// it may be caught between truncate and write.
constexpr int kEmptyMetaRetryMs[] = {100, 200};
// A writer replaces meta.yaml by rename (never empty in between) or, for
// MLflow, truncates and writes within milliseconds: only a file modified in
// the last second may be caught mid-write. A future mtime (a clock skew, or a
// tree crafted to stall readers) never qualifies.
constexpr std::int64_t kRecentMetaMs = 1000;

}  // namespace

Result<std::string> ReaderContext::read_meta(const std::string& path) const {
  auto text = read_file(path);
  if (!text || !text->empty()) return text;
  // Only a file written in the last few seconds may be mid-write; an old
  // empty one (a job killed between truncate and write) stays empty, and
  // waiting for each of many such runs would stall the listing.
  auto info = env->stat(path, false);
  if (!info) return text;
  const std::int64_t age = env->now_ms() - info->mtime_ms;
  if (age < 0 || age > kRecentMetaMs) return text;
  // At most kEmptyMetaRetries files per listing are waited for, so a tree
  // whose author keeps touching empty files costs a bounded 0.3 s each.
  if (empty_meta_retries->fetch_sub(1, std::memory_order_relaxed) <= 0) return text;
  for (int delay : kEmptyMetaRetryMs) {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    text = read_file(path);
    if (!text || !text->empty()) break;
  }
  return text;
}

std::optional<Experiment> ReaderContext::load_experiment(const std::string& base, const std::string& id,
                                                         bool in_trash) const {
  std::string dir = join(base, id);
  std::string meta_path = join(dir, kMetaFile);
  auto text = read_meta(meta_path);
  if (!text) {
    warn(meta_path, text.error().code() == Code::kNotFound
                        ? "no meta.yaml; experiment skipped"
                        : "cannot read: " + detail_of(text.error(), meta_path) + "; experiment skipped");
    return std::nullopt;
  }
  std::vector<std::string> problems;
  auto e = parse_experiment_meta(*text, in_trash, &problems);
  if (!e) {
    warn(meta_path, e.error().message() + "; experiment skipped");
    return std::nullopt;
  }
  for (const std::string& p : problems) warn(meta_path, p);
  if (e->experiment_id != id) {
    // MLflow >= 2.0 skips it too (spec §3.2).
    warn(meta_path, "experiment_id " + quoted(e->experiment_id) + " does not match the folder name " + quoted(id) +
                        "; experiment skipped");
    return std::nullopt;
  }
  read_value_dir(*this, join(dir, "tags"), "experiment tag", e->tags);
  return std::move(*e);
}

std::vector<std::string> ReaderContext::experiment_dirs(const std::string& base) const {
  std::vector<std::string> out;
  auto entries = env->list_dir(base);
  if (!entries) {
    if (entries.error().code() != Code::kNotFound) warn(base, "cannot list: " + entries.error().to_string());
    return out;
  }
  for (const DirEntry& e : *entries) {
    std::string_view name = e.name;
    if (name.size() >= kTrashDir.size() && name.substr(name.size() - kTrashDir.size()) == kTrashDir) continue;
    if (name == "models") continue;  // the model registry (spec §1.2)
    if (e.type == FileType::kSymlink) {
      warn(join(base, e.name), "symbolic link; not followed, not read as an experiment");
      continue;
    }
    if (e.type != FileType::kDirectory) continue;  // files at root level are ignored, as MLflow does
    if (Status s = validate_experiment_id(e.name); !s) {
      // MLflow fails search_experiments for the whole store here (spec §1.2, §14.7).
      warn(join(base, e.name), "folder is not an experiment (" + s.message() + "); ignored");
      continue;
    }
    out.push_back(e.name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// .trash is entered only if it is a real folder: a symlink could lead anywhere.
bool ReaderContext::trash_usable(bool report) const {
  FileType t = lstat_type(layout.trash());
  if (t == FileType::kDirectory) return true;
  if (report && t != FileType::kMissing)
    warn(layout.trash(), std::string("is ") + type_name(t) + ", not a folder; deleted experiments not read");
  return false;
}

// <root>/<id> if it is an experiment folder, else <root>/.trash/<id>.
std::optional<std::pair<std::string, bool>> ReaderContext::experiment_location(std::string_view id) const {
  for (bool deleted : {false, true}) {
    if (deleted && !trash_usable(false)) break;
    std::string base = deleted ? layout.trash() : layout.root;
    std::string dir = join(base, id);
    FileType t = lstat_type(dir);
    if (t == FileType::kDirectory) return std::make_pair(base, deleted);
    if (t == FileType::kSymlink) warn(dir, "symbolic link; not followed, not read as an experiment");
  }
  return std::nullopt;
}

Result<std::string> ReaderContext::find_run_dir(std::string_view run_id, std::string* exp_id) const {
  if (Status s = validate_run_id(run_id); !s) return fail(s);
  std::vector<RunLocation> found;
  for (bool deleted : {false, true}) {
    if (deleted && !trash_usable(false)) break;
    std::string base = deleted ? layout.trash() : layout.root;
    for (const std::string& exp : experiment_dirs_quiet(base)) {
      std::string dir = join(join(base, exp), run_id);
      if (lstat_type(dir) != FileType::kDirectory) continue;
      if (lstat_type(join(dir, kMetaFile)) != FileType::kRegular) continue;
      found.push_back(RunLocation{dir, exp, deleted});
    }
  }
  // The Store's rule (format/layout.h): the only one, or the one in
  // ReaderOptions::run_experiment_id.
  auto loc = pick_run(std::move(found), run_id, options.run_experiment_id, layout.root);
  if (!loc) return fail(loc.error());
  if (exp_id) *exp_id = loc->experiment_id;
  return std::move(loc->dir);
}

std::vector<std::string> ReaderContext::experiment_dirs_quiet(const std::string& base) const {
  std::vector<std::string> out;
  auto entries = env->list_dir(base);
  if (!entries) return out;
  for (const DirEntry& e : *entries) {
    if (e.type != FileType::kDirectory || e.name == "models" || e.name == kTrashDir) continue;
    if (validate_experiment_id(e.name)) out.push_back(e.name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace mlruns::detail
