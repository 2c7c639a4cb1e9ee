// fsck in key folders (fsck_checker.h): metrics/, params/ and tags/ (stray
// files, symlinks, key names) and the lines of each metric file.
#include <algorithm>
#include <string>
#include <string_view>

#include "env/atomic_file.h"
#include "format/metric_file.h"
#include "maint/fsck_checker.h"
#include "mlruns/key.h"

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
          is_valid_key(key, NameRules::kMlflow))
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
    if (!is_valid_key(key, NameRules::kMlflow)) {
      add(path, kind + ".invalid_name", validate_key(kind + " key", key, NameRules::kMlflow).message(),
          std::string(kBreaksRunSearch) + " (spec §6.1, §10.6)", FsckSeverity::kError,
          quarantine(path, "invalid " + kind + " name"));
      return;
    }
    if (!is_valid_key(key, NameRules::kPortable) && key.find(':') != std::string::npos)
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
// 3.1 GB for a 1 GB sparse file). `on_keep` gets each line a repair keeps
// (3 fields), `on_drop` each line it removes (a cut line: its first 64 KiB
// and how much more there was).
struct MetricScan {
  std::size_t blank = 0, bad = 0, five = 0, good = 0;
  bool partial = false;
  std::string first_error;
};

template <typename Keep, typename Drop>
Result<MetricScan> scan_metric_file(Env& env, const std::string& path, Keep&& on_keep, Drop&& on_drop) {
  auto file = env.new_sequential_file(path);
  if (!file) return fail(file.error());
  LineStream lines(**file);
  MetricScan scan;
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
    const char* err = "longer than any metric line (a sparse hole or garbage)";
    if (l.cut_bytes == 0 && line.find_first_not_of(" \t\r") == std::string_view::npos) {
      ++scan.blank;
      on_drop(line, 0);
    } else if (l.cut_bytes == 0 && parse_metric_line(line, p, err)) {
      std::size_t end = line.find_last_not_of(" \t\r");
      line = line.substr(0, end + 1);
      if (std::count(line.begin(), line.end(), ' ') == 4) {
        ++scan.five;
        on_drop(line, 0);
        std::size_t third = line.find(' ', line.find(' ', line.find(' ') + 1) + 1);
        on_keep(line.substr(0, third));
      } else {
        ++scan.good;
        on_keep(line);
      }
    } else {
      ++scan.bad;
      if (scan.first_error.empty())
        scan.first_error = std::string(err ? err : "malformed") + ": '" + std::string(line.substr(0, 60)) + "'";
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

void FsckChecker::check_metric_lines(const std::string& path, const std::string& key, const std::string& run_dir,
                                     bool running) {
  ++r_.metric_files;
  auto before = env_.stat(path);
  if (!before || before->type != FileType::kRegular) return;
  auto scanned = scan_metric_file(env_, path, [](std::string_view) {}, [](std::string_view, std::uint64_t) {});
  if (!scanned) return;
  MetricScan scan = *scanned;
  if (running && scan.partial) scan.partial = false;  // a write in progress, not damage
  if (!scan.blank && !scan.bad && !scan.five && !scan.partial) return;
  std::string what;
  auto part = [&](std::size_t n, const char* s) {
    if (n) what += (what.empty() ? "" : ", ") + std::to_string(n) + " " + s;
  };
  part(scan.blank, "blank line(s)");
  part(scan.bad, "malformed line(s)");
  part(scan.five, "5-field line(s)");
  if (scan.partial) what += std::string(what.empty() ? "" : ", ") + "a partial last line (no newline)";
  if (!scan.first_error.empty()) what += "; first: " + scan.first_error;
  std::string breaks = (scan.blank || scan.bad || scan.partial)
                           ? std::string(kBreaksRunSearch) + " (spec §5.1, §10.6, §14.3)"
                           : "MLflow <= 2.22 cannot read the run; 3.x reads step 0 (spec §5.1, §14.2)";
  Fix fix = nullptr;
  if (running) {
    // Never rewrite a file someone may be appending to.
    fix = Fix::left_alone("the run is RUNNING: stop its writer, or end it with mlruns reap, then repair");
  } else if (scan.good == 0 && scan.five == 0) {
    fix = quarantine(path, "metric file without a single valid line");
  } else {
    const FileInfo seen = *before;
    fix = [this, path, run_dir, seen]() -> Result<std::string> {
      // Streamed again: the kept lines go straight to a temp file in the run
      // folder (inside metrics/ MLflow would read it as a key, spec §11).
      std::string tmp = join(run_dir, unique_temp_name(".metric"));
      auto out = env_.new_writable_file(tmp, /*exclusive=*/true);
      if (!out) return fail(out.error());
      std::string dropped, pending;
      Status written;
      auto flush_pending = [&] {
        if (written.is_ok() && !pending.empty()) written = (*out)->append(pending);
        pending.clear();
      };
      auto again = scan_metric_file(
          env_, path,
          [&](std::string_view line) {
            pending.append(line);
            pending += '\n';
            if (pending.size() >= (1 << 20)) flush_pending();
          },
          [&](std::string_view line, std::uint64_t cut) { append_dropped(dropped, line, cut); });
      flush_pending();
      if (written.is_ok()) written = (*out)->sync();
      Status closed = (*out)->close();
      if (written.is_ok()) written = closed;
      if (written.is_ok() && !again) written = again.error();
      auto now = env_.stat(path);
      if (written.is_ok() && (!now || now->size != seen.size || now->mtime_ms != seen.mtime_ms))
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
      return "rewrote the file keeping only valid 3-field lines; originals saved in " + *saved;
    };
  }
  add(path, "metric.malformed_lines", "metric '" + key + "': " + what, breaks, FsckSeverity::kError, std::move(fix));
}

}  // namespace mlruns::detail
