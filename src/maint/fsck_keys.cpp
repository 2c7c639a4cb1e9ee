// fsck in key folders (fsck_checker.h): metrics/, params/ and tags/ (stray
// files, symlinks, key names) and the lines of each metric file.
#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_set>

#include "env/atomic_file.h"
#include "env/line_tail.h"
#include "format/metric_file.h"
#include "maint/fsck_checker.h"
#include "mlruns/key.h"
#include "util/printable.h"

namespace mlruns::detail {

// Walks metrics/, params/ or tags/: stray files, symlinks, key names, and
// (for metrics, given the run folder) the lines of each file.
void FsckChecker::check_keys(const std::string& base, const std::string& kind_in, const std::string* run_dir) {
  // "metric-running": the run is being written; check lines, never rewrite.
  bool running = kind_in == "metric-running";
  if (running && !run_dir) return;
  std::string kind = running ? "metric" : kind_in;
  walk(base, base, 0, [&](const std::string& path, const std::string& key, FileType type) {
    if (running) {
      if (type == FileType::kRegular && !is_litter_name(key.substr(key.rfind('/') + 1)) &&
          validate_key_name("key", key, NameRules::kMlflow))
        check_metric_lines(path, key, *run_dir, true);
      return;
    }
    std::string name = key.substr(key.rfind('/') + 1);
    if (type == FileType::kSymlink) {
      add(path, kind + ".symlink", "symlink inside " + kind + "s/; MLflow follows it (maybe out of the tree)",
          "MLflow reads whatever it points to; mlruns refuses it", FsckSeverity::kWarning,
          quarantine(path, "symlink in a key folder"));
      return;
    }
    if (is_litter_name(name)) {
      add(path, kind + ".stray_file", "'" + key + "' is OS/editor litter, not a " + kind,
          kind == "metric" ? std::string(kBreaksRunSearch) + " (spec §2.4, §14.5)"
                           : "every version: it shows up as " + kind + " '" + key + "' (spec §2.4, §14.5)",
          kind == "metric" ? FsckSeverity::kError : FsckSeverity::kWarning,
          quarantine(path, "stray file in " + kind + "s/"));
      return;
    }
    if (type != FileType::kRegular) return;
    // What MLflow's readers check (names, not lengths: spec §6.2).
    if (Status name = validate_key_name(kind + " key", key, NameRules::kMlflow); !name) {
      add(path, kind + ".invalid_name", name.message(),
          std::string(kBreaksRunSearch) + " (spec §6.1, §10.6)", FsckSeverity::kError,
          quarantine(path, "invalid " + kind + " name"));
      return;
    }
    if (!validate_key_name("key", key, NameRules::kPortable) && key.find(':') != std::string::npos)
      add(path, kind + ".colon_name", kind + " key '" + key + "' contains ':'",
          "MLflow < 2.16 and every Windows MLflow: the run is unreadable (spec §6.1, §14.6)", FsckSeverity::kNotice,
          Fix::left_alone("valid for MLflow >= 2.16 on Linux and macOS, so kept; moving it would hide it from "
                          "them. Write such keys with NameRules::kPortable if older readers matter"));
    if (kind == "metric" && run_dir) check_metric_lines(path, key, *run_dir, false);
  });
}

void FsckChecker::walk(const std::string& base, const std::string& dir, int depth,
                       const std::function<void(const std::string&, const std::string&, FileType)>& fn) {
  if (depth > 32) return;
  auto entries = env_.list_dir(dir);
  if (!entries) return;
  for (const DirEntry& e : *entries) {
    std::string path = join(dir, e.name);
    if (e.type == FileType::kDirectory && !is_litter_name(e.name)) walk(base, path, depth + 1, fn);
    else fn(path, relative_to(base, path), e.type);
  }
}

namespace {

// One pass over a metric file, streamed (LineStream: 256 KiB chunks, lines cut
// at 64 KiB), so fsck's memory does not grow with the file (issue 15 item 3:
// 3.1 GB for a 1 GB sparse file): which lines MLflow reads, which it fails
// on, and which repeat an earlier line's row in MLflow's SQL store
// (metric_file.h: sql_metric_row), which migrate-filestore refuses. `on_keep`
// gets each line a repair keeps (3 fields, each row once), `on_drop` each
// line it removes (a cut line: its first 64 KiB and how much more there was).
// Repeats are looked for among the last kRowWindow distinct rows (a retry's
// or a second writer's copy lies close to the original), which bounds the
// memory at a few tens of MiB whatever the file's size.
struct MetricScan {
  std::size_t blank = 0, bad = 0, five = 0, good = 0, repeats = 0;
  bool partial = false;  // a last line without '\n'
  std::string first_error;
};

struct RowHash {
  std::size_t operator()(const MetricRow& r) const {
    std::size_t h = std::hash<std::int64_t>{}(r.timestamp);
    h = h * 1000003u ^ std::hash<std::int64_t>{}(r.step);
    h = h * 1000003u ^ std::hash<double>{}(r.value);
    return h ^ static_cast<std::size_t>(r.is_nan);
  }
};

constexpr std::size_t kRowWindow = 1 << 19;

template <typename Keep, typename Drop>
Result<MetricScan> scan_metric_file(Env& env, const std::string& path, Keep&& on_keep, Drop&& on_drop) {
  auto file = env.new_sequential_file(path);
  if (!file) return fail(file.error());
  LineStream lines(**file);
  MetricScan scan;
  std::unordered_set<MetricRow, RowHash> rows;
  LineStream::Line l;
  for (;;) {
    auto more = lines.next(l);
    if (!more) return fail(more.error());
    if (!*more) break;
    std::string_view line = l.text;
    if (!l.complete) {
      scan.partial = true;
      on_drop(line, l.cut_bytes);
      break;
    }
    ParsedPoint p;
    const char* err = l.hole_bytes ? "a hole of a sparse file (NULs; skipped, not read)"
                                   : "longer than any metric line (garbage)";
    if (l.cut_bytes == 0 && line.find_first_not_of(" \t\r") == std::string_view::npos) {
      ++scan.blank;
      on_drop(line, 0);
    } else if (l.cut_bytes == 0 && parse_metric_line(line, p, err)) {
      std::size_t end = line.find_last_not_of(" \t\r");
      line = line.substr(0, end + 1);
      bool is_five = std::count(line.begin(), line.end(), ' ') == 4;
      std::string_view three = line;
      if (is_five) {
        ++scan.five;
        on_drop(line, 0);
        three = line.substr(0, line.find(' ', line.find(' ', line.find(' ') + 1) + 1));
      } else {
        ++scan.good;
      }
      if (rows.size() >= kRowWindow) rows.clear();
      if (!rows.insert(sql_metric_row(p.timestamp, p.value, p.step)).second) {
        ++scan.repeats;
        if (!is_five) on_drop(line, 0);
        continue;
      }
      on_keep(three);
    } else {
      ++scan.bad;
      if (scan.first_error.empty())
        scan.first_error = std::string(err ? err : "malformed") + ": '" + printable_prefix(line, 60) + "'";
      on_drop(line, l.cut_bytes);
    }
  }
  return scan;
}

void append_dropped(std::string& dropped, std::string_view line, std::uint64_t cut) {
  dropped.append(line);
  if (cut) dropped += " [... " + std::to_string(cut) + " more bytes of this line not kept]";
  dropped += '\n';
}

}  // namespace

// Rewrites a metric file of a run nobody writes, keeping each valid row once
// as a 3-field line (the rest saved in the quarantine), under the file's
// lock, streamed: the kept lines go straight to a temp file in the run folder
// (inside metrics/ MLflow would read it as a key, spec §11). Computed from the
// file as it is at repair time, so that the several findings of one file
// share it: the first does the work.
FsckChecker::Repair FsckChecker::rewrite_metric_file(const std::string& path, const std::string& run_dir) {
  return [this, path, run_dir]() -> Result<std::string> {
    auto file = env_.reopen_appendable_file(path);
    if (!file) return fail(file.error());
    AppendLock lock(**file);
    if (!lock.usable()) return fail(lock.status());
    auto seen = env_.stat(path);  // a writer without the lock (no locks here) must not lose lines
    if (!seen) return fail(seen.error());
    std::string tmp = join(run_dir, unique_temp_name(".metric"));
    auto out = env_.new_writable_file(tmp, /*exclusive=*/true);
    if (!out) return fail(out.error());
    std::string dropped, pending;
    bool kept_any = false;
    Status written;
    auto flush_pending = [&] {
      if (written.is_ok() && !pending.empty()) written = (*out)->append(pending);
      pending.clear();
    };
    auto scan = scan_metric_file(
        env_, path,
        [&](std::string_view line) {
          kept_any = true;
          pending.append(line);
          pending += '\n';
          if (pending.size() >= (1 << 20)) flush_pending();
        },
        [&](std::string_view line, std::uint64_t cut) { append_dropped(dropped, line, cut); });
    flush_pending();
    if (written.is_ok()) written = (*out)->sync();
    Status closed = (*out)->close();
    if (written.is_ok()) written = closed;
    if (written.is_ok() && !scan) written = scan.error();
    if (written.is_ok() && dropped.empty()) {
      (void)env_.remove_file(tmp);
      return std::string("nothing left to change (repaired with the finding before)");
    }
    if (written.is_ok() && !kept_any) written = Status::failed_precondition(path, "no valid line would remain; left alone");
    if (auto now = env_.stat(path);
        written.is_ok() && (!now || now->size != seen->size || now->mtime_ns != seen->mtime_ns))
      written = Status::failed_precondition(path, "changed meanwhile; left alone");
    if (!written.is_ok()) {
      (void)env_.remove_file(tmp);
      return fail(written);
    }
    auto saved = q_.save(path, ".removed-lines", dropped, "lines dropped or rewritten by fsck --repair");
    if (!saved) {
      (void)env_.remove_file(tmp);
      return fail(saved.error());
    }
    if (Status s = env_.rename(tmp, path); !s) {
      (void)env_.remove_file(tmp);
      return fail(s);
    }
    // As write_file_atomic: the rename is durable only once its folder is synced.
    if (Status s = env_.sync_dir(parent_dir(path)); !s) return fail(s);
    return "rewrote the file keeping each valid row once as a 3-field line; originals saved in " + *saved;
  };
}

// A metric file whose last line has no '\n' while its run says RUNNING: a
// write in progress, unless nobody holds the file's lock and it still ends
// so (then its writer died in the middle of an append). Without file locks:
// unless it is kDeadFragmentAgeMs old.
bool FsckChecker::dead_writers_tail(const std::string& path) {
  auto file = env_.reopen_appendable_file(path);
  if (!file) return false;
  AppendLock lock(**file, 0);
  if (!lock.usable()) return false;  // held: a live writer is appending
  auto size = (*file)->size();
  if (!size) return false;
  auto tail = read_line_tail(**file, path, *size);
  if (!tail || tail->partial.empty()) return false;
  if (lock.held()) return true;
  auto info = env_.stat(path, false);
  return info && env_.now_ms() - info->mtime_ms >= kDeadFragmentAgeMs;
}

void FsckChecker::check_metric_lines(const std::string& path, const std::string& key, const std::string& run_dir,
                                     bool running) {
  ++r_.metric_files;
  auto before = env_.stat(path);
  if (!before || before->type != FileType::kRegular) return;
  if (before->links > 1) {
    // Another name shares the bytes (cp -al, rsync -H, or a link planted to
    // a file outside the tree): appending in place would write there too.
    // Opening it to append gives it a file of its own (env.h).
    add(path, "file.hardlinked", "has " + std::to_string(before->links) + " names (hard links)",
        "none for MLflow, which appends through it; mlruns gives it a file of its own before its next append "
        "(docs/hpc.md, security model)",
        FsckSeverity::kWarning, [this, path]() -> Result<std::string> {
          auto file = env_.reopen_appendable_file(path);
          if (!file) return fail(file.error());
          return std::string("gave it a file of its own (the other names keep their bytes)");
        });
  }
  auto scanned = scan_metric_file(env_, path, [](std::string_view) {}, [](std::string_view, std::uint64_t) {});
  if (!scanned) return;
  MetricScan m = *scanned;
  // (dead_writers_tail opens the file to append, which would unshare a hard-linked one: not in a check.)
  if (m.partial && running && (before->links > 1 || !dead_writers_tail(path))) m.partial = false;  // a write in progress
  const char* kRunning = "the run is RUNNING: stop its writer, or end it with mlruns reap, then repair";
  if (before->size == 0) {
    // MLflow (file_store.py _get_metric_from_file, 2.10 to 3.11) raises
    // "Metric '<key>' is malformed. No data found." for a metric file without
    // a line: get_run and search_runs fail for the run. (An empty param or
    // tag file is a valid empty value: _get_param_from_file reads "".)
    Fix fix = running ? Fix::left_alone(kRunning) : Fix([this, path]() -> Result<std::string> {
      auto cut = repair_line_file(env_, path);
      if (!cut) return fail(cut.error());
      return std::string(cut->removed ? "removed the empty file" : "no longer empty; left alone");
    });
    add(path, "metric.empty", "metric '" + key + "': the file is empty",
        std::string(kBreaksRunSearch) + ": MLflow fails the run with \"Metric '" + key +
            "' is malformed. No data found.\" (file_store.py _get_metric_from_file; spec §5.1)",
        FsckSeverity::kError, std::move(fix));
    return;
  }
  bool malformed = m.blank || m.bad || m.five;
  bool hopeless = malformed && m.good == 0 && m.five == 0;  // not one valid line: quarantined whole
  // One rewrite fixes every kind of damage in the file; never while the run
  // may have a writer (an append to the replaced file would be lost).
  bool rewrite = !running && !hopeless && (malformed || m.repeats);
  if (m.partial && !hopeless) {
    Fix fix = nullptr;
    if (rewrite) {
      fix = rewrite_metric_file(path, run_dir);
    } else {
      // In place, under the file's lock (what a writer and reap do too): safe
      // even while the run has other writers.
      fix = [this, path]() -> Result<std::string> {
        auto cut = repair_line_file(env_, path);
        if (!cut) return fail(cut.error());
        if (cut->cut.empty()) return std::string(cut->removed ? "removed the empty file" : "nothing left to cut");
        auto saved = q_.save(path, ".partial-line", cut->cut + "\n", "partial last line cut by fsck --repair");
        if (!saved) return fail(saved.error());
        return std::string(cut->removed ? "removed the file, which held no whole line (an empty metric file "
                                          "breaks MLflow)"
                                        : "cut the partial last line (never acknowledged by its writer)") +
               "; the partial line is saved in " + *saved;
      };
    }
    add(path, "metric.partial_last_line",
        "metric '" + key + "': a partial last line (no newline): a writer was killed in the middle of an append",
        std::string(kBreaksRunSearch) + " once a line is appended after it; until then MLflow skips it "
            "(spec §5.1, §11, §14.3)",
        FsckSeverity::kError, std::move(fix));
  }
  if (malformed) {
    std::string what;
    auto part = [&](std::size_t n, const char* s) {
      if (n) what += (what.empty() ? "" : ", ") + std::to_string(n) + " " + s;
    };
    part(m.blank, "blank line(s)");
    part(m.bad, "malformed line(s)");
    part(m.five, "5-field line(s)");
    if (m.partial && hopeless) what += ", a partial last line (no newline)";
    if (!m.first_error.empty()) what += "; first: " + m.first_error;
    std::string breaks = (m.blank || m.bad)
                             ? std::string(kBreaksRunSearch) + " (spec §5.1, §10.6, §14.3)"
                             : "MLflow <= 2.22 cannot read the run; 3.x reads step 0 (spec §5.1, §14.2)";
    Fix fix = running    ? Fix::left_alone(kRunning)
              : hopeless ? quarantine(path, "metric file without a single valid line")
                         : Fix(rewrite_metric_file(path, run_dir));
    add(path, "metric.malformed_lines", "metric '" + key + "': " + what, breaks, FsckSeverity::kError, std::move(fix));
  }
  if (m.repeats) {
    add(path, "metric.duplicate_lines",
        "metric '" + key + "': " + std::to_string(m.repeats) +
            " line(s) repeat an earlier line's timestamp, value and step",
        "mlflow migrate-filestore (MLflow >= 3.10) aborts the whole migration, committing nothing "
        "(UNIQUE constraint failed: metrics...); readers show the point twice in its history",
        FsckSeverity::kWarning,
        running ? Fix::left_alone(kRunning) : hopeless ? Fix(nullptr) : Fix(rewrite_metric_file(path, run_dir)));
  }
}

}  // namespace mlruns::detail
