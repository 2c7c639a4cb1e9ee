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

void FsckChecker::check_metric_lines(const std::string& path, const std::string& key, const std::string& run_dir,
                                     bool running) {
  ++r_.metric_files;
  auto text = read_small(env_, path, 1ull << 30);
  if (!text) return;
  std::string keep, dropped;
  std::size_t blank = 0, bad = 0, five = 0, good = 0;
  bool partial = false;
  std::string first_error;
  std::string_view rest = *text;
  while (!rest.empty()) {
    std::size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      partial = true;
      dropped.append(rest);
      dropped += '\n';
      break;
    }
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    ParsedPoint p;
    const char* err = nullptr;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
      ++blank;
      dropped.append(line);
      dropped += '\n';
    } else if (parse_metric_line(line, p, err)) {
      std::size_t end = line.find_last_not_of(" \t\r");
      line = line.substr(0, end + 1);
      if (std::count(line.begin(), line.end(), ' ') == 4) {
        ++five;
        dropped.append(line);
        dropped += '\n';
        std::size_t third = line.find(' ', line.find(' ', line.find(' ') + 1) + 1);
        keep.append(line.substr(0, third));
        keep += '\n';
      } else {
        ++good;
        keep.append(line);
        keep += '\n';
      }
    } else {
      ++bad;
      if (first_error.empty()) first_error = std::string(err ? err : "malformed") + ": '" + std::string(line.substr(0, 60)) + "'";
      dropped.append(line);
      dropped += '\n';
    }
  }
  if (running && partial) partial = false;  // a write in progress, not damage
  if (!blank && !bad && !five && !partial) return;
  std::string what;
  auto part = [&](std::size_t n, const char* s) {
    if (n) what += (what.empty() ? "" : ", ") + std::to_string(n) + " " + s;
  };
  part(blank, "blank line(s)");
  part(bad, "malformed line(s)");
  part(five, "5-field line(s)");
  if (partial) what += std::string(what.empty() ? "" : ", ") + "a partial last line (no newline)";
  if (!first_error.empty()) what += "; first: " + first_error;
  std::string breaks = (blank || bad || partial)
                           ? std::string(kBreaksRunSearch) + " (spec §5.1, §10.6, §14.3)"
                           : "MLflow <= 2.22 cannot read the run; 3.x reads step 0 (spec §5.1, §14.2)";
  Fix fix = nullptr;
  if (running) {
    // Never rewrite a file someone may be appending to.
    fix = Fix::left_alone("the run is RUNNING: stop its writer, or end it with mlruns reap, then repair");
  } else if (good == 0 && five == 0) {
    fix = quarantine(path, "metric file without a single valid line");
  } else {
    std::string original = *text;
    fix = [this, path, run_dir, keep, dropped, original]() -> Result<std::string> {
      auto saved = q_.save(path, ".removed-lines", dropped, "lines dropped or rewritten by fsck --repair");
      if (!saved) return fail(saved.error());
      auto now = read_small(env_, path, 1ull << 30);
      if (!now || *now != original) return fail(Status::failed_precondition(path, "changed meanwhile; left alone"));
      // The temp file goes to the run folder: inside metrics/ MLflow would read it as a key (spec §11).
      MLRUNS_TRY(write_file_atomic(env_, path, keep, {.sync = true, .temp_dir = run_dir}));
      return "rewrote the file keeping only valid 3-field lines; originals saved in " + *saved;
    };
  }
  add(path, "metric.malformed_lines", "metric '" + key + "': " + what, breaks, FsckSeverity::kError, std::move(fix));
}

}  // namespace mlruns::detail
