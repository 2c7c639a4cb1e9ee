#include "sync/local_run.h"

#include <algorithm>

#include "format/layout.h"
#include "format/metric_file.h"
#include "util/printable.h"

namespace mlruns::detail {
namespace {

constexpr int kMaxDepth = 64;
constexpr std::size_t kMaxFiles = 1'000'000;

struct Fingerprint {
  std::string text;
  void add(std::string_view name, const FileInfo& info) {
    text += name;
    text += '\0';
    text += std::to_string(info.size);
    text += ' ';
    text += std::to_string(info.mtime_ns ? info.mtime_ns : info.mtime_ms * 1000000);
    text += '\n';
  }
};

// Why a path could not be read, without the (possibly very long) path the message starts with.
std::string reason(const Status& s) {
  const std::string& m = s.message();
  auto colon = m.rfind(": ");
  return printable_prefix(colon == std::string::npos ? m : std::string_view(m).substr(colon + 2), 200);
}

// Every regular file below `dir` (rel paths with '/'), sorted; symlinks and
// special files are reported and left out. A folder or file that cannot be read
// (too deep, "File name too long", ...) is never left out silently: a note and `unread`.
void walk(Env& env, const std::string& dir, const std::string& rel, int depth, std::vector<LocalFile>& out,
          std::vector<std::string>& notes, std::uint64_t& unread, bool keys) {
  if (depth > kMaxDepth || out.size() >= kMaxFiles) {
    notes.push_back("folder '" + printable_prefix(rel.empty() ? dir : rel, 300) + "': more than " + std::to_string(kMaxDepth) +
                    " levels deep or more than " + std::to_string(kMaxFiles) + " files; its files are not synced");
    ++unread;
    return;
  }
  auto entries = env.list_dir(dir);
  if (!entries) {
    if (entries.error().code() == Code::kNotFound && depth == 0) return;  // no such folder (no params/, ...)
    notes.push_back("folder '" + printable_prefix(rel.empty() ? dir : rel, 300) + "' cannot be read (" + reason(entries.error()) +
                    "); its files are not synced");
    ++unread;
    return;
  }
  std::sort(entries->begin(), entries->end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  for (const DirEntry& e : *entries) {
    if (keys && (is_litter_name(e.name) || e.name.starts_with(kTempPrefix))) continue;
    std::string path = join(dir, e.name);
    std::string r = rel.empty() ? e.name : rel + "/" + e.name;
    if (e.type == FileType::kDirectory) {
      walk(env, path, r, depth + 1, out, notes, unread, keys);
    } else if (e.type == FileType::kRegular) {
      auto info = env.stat(path, false);
      if (!info) {
        notes.push_back("'" + printable_prefix(r, 300) + "' cannot be read (" + reason(info.error()) +
                        "): not synced");
        ++unread;
        continue;
      }
      if (info->type != FileType::kRegular) continue;  // replaced meanwhile
      out.push_back({r, path, info->size, info->mtime_ns ? info->mtime_ns : info->mtime_ms * 1000000});
    } else if (e.type == FileType::kSymlink) {
      notes.push_back("'" + escape_control(r) + "' is a symbolic link: not followed, not synced");
    }
  }
}

void fingerprint_files(Env& env, const std::string& dir, std::string_view label, Fingerprint& fp, bool& racy,
                       std::int64_t now_ns, std::vector<std::string>& notes, std::uint64_t& unread) {
  std::vector<LocalFile> files;
  walk(env, dir, "", 0, files, notes, unread, true);
  for (const LocalFile& f : files) {
    FileInfo info;
    info.size = f.size;
    info.mtime_ns = f.mtime_ns;
    fp.add(std::string(label) + "/" + f.rel, info);
    if (f.mtime_ns > now_ns - kRacyNs) racy = true;
  }
}

}  // namespace

RunScan scan_run(Env& env, const std::string& run_dir, const std::string& artifact_dir, std::int64_t now_ns) {
  RunScan scan;
  Fingerprint meta;
  auto info = env.stat(join(run_dir, kMetaFile), false);
  if (info) {
    meta.add("meta.yaml", *info);
    std::int64_t t = info->mtime_ns ? info->mtime_ns : info->mtime_ms * 1000000;
    if (t > now_ns - kRacyNs) scan.racy = true;
  }
  for (const char* sub : {"params", "tags", "inputs"})
    fingerprint_files(env, join(run_dir, sub), sub, meta, scan.racy, now_ns, scan.notes, scan.unread);
  scan.meta_fp = hash_hex(meta.text);
  walk(env, join(run_dir, "metrics"), "", 0, scan.metrics, scan.notes, scan.unread, true);
  if (!artifact_dir.empty()) walk(env, artifact_dir, "", 0, scan.artifacts, scan.notes, scan.unread, false);
  Fingerprint art;
  for (const LocalFile& f : scan.artifacts) {
    FileInfo i;
    i.size = f.size;
    i.mtime_ns = f.mtime_ns;
    art.add(f.rel, i);
    if (f.mtime_ns > now_ns - kRacyNs) scan.racy = true;
  }
  scan.art_fp = hash_hex(artifact_dir + '\0' + art.text);
  return scan;
}

bool scan_matches_record(const RunScan& scan, const RunRecord& record) {
  if (record.server_run_id.empty() || !record.pending.empty()) return false;
  if (record.meta_fp.empty() || record.meta_fp != scan.meta_fp || record.art_fp != scan.art_fp) return false;
  if (scan.metrics.size() != record.metrics.size()) return false;
  for (const LocalFile& f : scan.metrics) {
    auto it = record.metrics.find(f.rel);
    if (it == record.metrics.end() || it->second.size_seen != f.size) return false;
  }
  return true;
}

Result<LineRead> read_metric_lines(Env& env, const std::string& path, std::uint64_t from, std::uint64_t to) {
  LineRead out;
  out.whole_end = from;
  if (to <= from) return out;
  auto file = env.new_sequential_file(path);
  if (!file) return fail(file.error());
  if (from > 0) {
    if (Status s = (*file)->skip(from); !s) return fail(s);
  }
  std::string text;
  text.resize(static_cast<std::size_t>(to - from));
  std::size_t got = 0;
  while (got < text.size()) {
    auto r = (*file)->read(text.size() - got, text.data() + got);
    if (!r) return fail(r.error());
    if (r->empty()) break;  // the file shrank meanwhile
    got += r->size();
  }
  text.resize(got);
  std::string_view rest(text);
  std::uint64_t pos = from;
  while (!rest.empty()) {
    std::size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) break;  // a line being written: next pass
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    pos += nl + 1;
    ParsedPoint p;
    const char* error = nullptr;
    if (parse_metric_line(line, p, error)) {
      out.points.push_back({pos, p.timestamp, p.value, p.step});
    } else {
      ++out.bad_lines;
    }
    out.whole_end = pos;
  }
  return out;
}

}  // namespace mlruns::detail
