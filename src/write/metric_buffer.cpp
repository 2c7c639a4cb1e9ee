#include "write/metric_buffer.h"

#include <charconv>

#include <algorithm>

#include "env/atomic_file.h"
#include "env/line_tail.h"
#include "format/layout.h"
#include "format/metric_file.h"
#include "format/py_format.h"

namespace mlruns::detail {

char* format_metric_line(char* out, const MetricPoint& p) {
  out = std::to_chars(out, out + 20, p.timestamp).ptr;
  *out++ = ' ';
  out += format_py_float(p.value, out);
  *out++ = ' ';
  out = std::to_chars(out, out + 20, p.step).ptr;
  *out++ = '\n';
  return out;
}

void append_metric_line(std::string& out, const MetricPoint& p) {
  char buf[80];
  out.append(buf, format_metric_line(buf, p));
}

Status MetricBuffer::check_key(Env& env, std::string_view key, NameRules rules) {
  if (index_.count(key) || checked_.count(key)) return Status::ok();
  if (Status v = validate_key("metric key", key, rules); !v.is_ok()) return v;
  for (const auto& s : series_) {
    std::string_view a = s->key, b = key;
    if (a.size() > b.size()) std::swap(a, b);
    if (b.size() > a.size() && b.substr(0, a.size()) == a && b[a.size()] == '/')
      return Status::already_exists(
          "metric key '" + std::string(key) + "'",
          "conflicts with metric key '" + s->key + "', logged before: a key cannot also be a folder of keys (spec §2.4)");
  }
  // And with what the run's metrics/ holds (another process, an earlier run of this one):
  // a regular file at the key's path is the key's file, kept open for the first flush.
  auto file = env.reopen_appendable_file(join(dir_, key));
  if (file) {
    checked_.emplace(std::string(key), std::move(*file));
    return Status::ok();
  }
  auto slot = file_slot(env, dir_, key, "metric key '" + std::string(key) + "'");
  if (!slot) return slot.error();
  if (*slot != FileType::kMissing) return file.error().with_context("metric key '" + std::string(key) + "'");
  checked_.emplace(std::string(key), nullptr);
  return Status::ok();
}

Result<MetricBuffer::Series*> MetricBuffer::series(Env& env, std::string_view key, NameRules rules) {
  if (last_ && last_->key == key) return last_;
  auto it = index_.find(key);
  if (it != index_.end()) {
    last_ = it->second;
    return last_;
  }
  if (Status c = check_key(env, key, rules); !c.is_ok()) return fail(c);
  auto checked = checked_.find(key);
  auto s = std::make_unique<Series>();
  s->key = std::string(key);
  s->path = join(dir_, key);
  s->file = std::move(checked->second);
  s->missing = !s->file;
  checked_.erase(checked);
  Series* raw = s.get();
  series_.push_back(std::move(s));
  index_.emplace(raw->key, raw);
  last_ = raw;
  return raw;
}

namespace {

bool same_row(const MetricPoint& a, const MetricPoint& b) {
  return sql_metric_row(a.timestamp, a.value, a.step) == sql_metric_row(b.timestamp, b.value, b.step);
}

}  // namespace

// Removes pending points identical to the point before them (the file's last
// one for the first): MLflow's SQL store keeps one such row, and
// migrate-filestore aborts on a file holding two.
void MetricBuffer::drop_repeats(Series* s) {
  std::size_t kept = 0;
  const MetricPoint* prev = s->has_last ? &s->last : nullptr;
  for (std::size_t i = 0; i < s->pending.size(); ++i) {
    if (prev && same_row(*prev, s->pending[i])) continue;
    s->pending[kept++] = s->pending[i];
    prev = &s->pending[kept - 1];
  }
  pending_points_ -= s->pending.size() - kept;
  s->pending.resize(kept);
}

// After an append whose undo failed: the file may hold a prefix of
// `uncertain_bytes` at `uncertain_at`. The whole lines of it that landed are
// not sent again (their points leave `pending`); a partial one is cut by the
// tail check that follows. REQUIRES: the file's lock (or no locks exist).
void MetricBuffer::drop_landed(Series* s, std::uint64_t size) {
  s->uncertain = false;
  std::size_t landed_lines = 0;
  if (size > s->uncertain_at) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(size - s->uncertain_at, s->uncertain_bytes.size()));
    std::string got(want, '\0');
    std::size_t n = 0;
    while (n < want) {
      auto r = s->file->read_at(s->uncertain_at + n, want - n, got.data() + n);
      if (!r || r->empty()) break;
      n += r->size();
    }
    std::size_t same = 0;
    while (same < n && got[same] == s->uncertain_bytes[same]) ++same;
    for (std::size_t i = 0; i < same; ++i) landed_lines += s->uncertain_bytes[i] == '\n';
  }
  landed_lines = std::min(landed_lines, std::min(s->uncertain_points, s->pending.size()));
  if (landed_lines > 0) {
    s->last = s->pending[landed_lines - 1];
    s->has_last = true;
    s->pending.erase(s->pending.begin(), s->pending.begin() + static_cast<std::ptrdiff_t>(landed_lines));
    pending_points_ -= landed_lines;
  }
  s->uncertain_bytes.clear();
}

// A new metric file appears whole, with its first lines (temp file in the
// run folder, then a rename that never replaces): never empty, even after a
// kill or a failed first append. MLflow fails a run whose metric file is
// empty ("Metric is malformed. No data found."). kAlreadyExists when another
// writer created it first: the caller appends instead.
Status MetricBuffer::create_file(Env& env, Series* s, bool sync) {
  drop_repeats(s);
  if (s->pending.empty()) return Status::ok();
  scratch_.clear();
  for (const MetricPoint& p : s->pending) append_metric_line(scratch_, p);
  AtomicWriteOptions o;
  o.sync = sync;
  o.temp_dir = parent_dir(dir_);
  o.no_replace = true;
  if (Status st = write_file_atomic(env, s->path, scratch_, o); !st.is_ok()) return st;
  s->end = scratch_.size();
  s->end_known = true;
  s->last = s->pending.back();
  s->has_last = true;
  pending_points_ -= s->pending.size();
  s->pending.clear();
  s->unsynced = !sync;
  if (!keep_open_) return Status::ok();
  if (auto f = env.reopen_appendable_file(s->path)) s->file = std::move(*f);  // else reopened next time
  return Status::ok();
}

// One append of every pending line, the file's lock held (`locked`) or no
// locks on this file system.
Status MetricBuffer::append_locked(Env& env, Series* s, bool locked, bool sync) {
  auto size = s->file->size();
  if (!size) return size.error();
  if (s->uncertain) drop_landed(s, *size);
  if (!s->end_known || *size != s->end) {
    // Someone else appended (or died appending) since our last append, or
    // the file is new to us: never build on a partial line.
    auto cut = cut_partial_line(env, s->path, *s->file, locked, *size);
    if (!cut) return cut.error();
    if (cut->removed) {  // never append to an empty file: create it anew (flush_series)
      s->stale = true;
      s->end_known = false;
      return Status::ok();
    }
    *size = cut->size;
    ParsedPoint p;
    const char* err = nullptr;
    s->has_last = !cut->last_line.empty() && parse_metric_line(cut->last_line, p, err);
    if (s->has_last) s->last = MetricPoint{p.timestamp, p.value, p.step};
  }
  drop_repeats(s);
  if (s->pending.empty()) {
    s->end = *size;
    s->end_known = true;
    return Status::ok();
  }
  // Formatted straight into one buffer: at most 20 + 1 + 24 + 1 + 20 + 1 bytes a line.
  scratch_.resize(s->pending.size() * 72);
  char* out = scratch_.data();
  for (const MetricPoint& p : s->pending) out = format_metric_line(out, p);
  scratch_.resize(static_cast<std::size_t>(out - scratch_.data()));
  if (Status st = s->file->append(scratch_); !st.is_ok()) {
    // Undo a partial append so the file never ends in a torn line; we hold
    // the lock, so nothing else was appended after it.
    s->end_known = false;
    if (Status t = s->file->truncate(*size); !t.is_ok()) {
      s->uncertain = true;
      s->uncertain_at = *size;
      s->uncertain_bytes = scratch_;
      s->uncertain_points = s->pending.size();
      return st.with_context("metric '" + s->key + "' (and truncating back failed: " + t.message() + ")");
    }
    return st.with_context("metric '" + s->key + "'");
  }
  s->end = *size + scratch_.size();
  s->end_known = true;
  s->last = s->pending.back();
  s->has_last = true;
  pending_points_ -= s->pending.size();
  s->pending.clear();
  s->unsynced = true;
  if (sync) {
    MLRUNS_RETURN_IF_ERROR(s->file->sync());
    s->unsynced = false;
  }
  return Status::ok();
}

Status MetricBuffer::flush_series(Env& env, Series* s, bool sync) {
  if (s->pending.empty()) return Status::ok();
  for (int attempt = 0;; ++attempt) {
    Status st = flush_series_once(env, s, sync);
    if (!st.is_ok() || !s->stale) return st;
    s->stale = false;
    s->file.reset();  // its file was removed: the next round creates it whole
    if (attempt == 2) return Status::io_error(s->path, "removed again and again while appending");
  }
}

Status MetricBuffer::flush_series_once(Env& env, Series* s, bool sync) {
  if (!s->file) {
    bool missing = s->missing;
    s->missing = false;  // only until the first attempt: later ones (a stale file) look again
    if (!missing) {
      auto info = env.stat(s->path, false);
      if (!info) return info.error();
      missing = info->type == FileType::kMissing;
    }
    if (missing) {
      if (s->key.find('/') != std::string::npos) MLRUNS_RETURN_IF_ERROR(env.create_dirs(parent_dir(s->path)));
      Status c = create_file(env, s, sync);
      if (c.code() != Code::kAlreadyExists) return c.is_ok() ? c : c.with_context("metric '" + s->key + "'");
      // Another writer created it meanwhile: append to theirs.
    }
    auto f = env.reopen_appendable_file(s->path);
    if (!f) return f.error().with_context("metric '" + s->key + "'");
    s->file = std::move(*f);
    s->end_known = false;
  }
  Status st;
  {
    AppendLock lock(*s->file);
    if (!lock.usable()) return lock.status().with_context("metric '" + s->key + "'");
    st = append_locked(env, s, lock.held(), sync);
  }
  if (!keep_open_ || (!st.is_ok() && s->uncertain)) {
    // Nothing more is written through it (keep_open_ false), or the descriptor may be what
    // failed: reopen it next time. The lock goes with it.
    (void)s->file->close();
    s->file.reset();
  }
  return st;
}

Status MetricBuffer::flush(Env& env, bool sync) {
  if (pending_points_ == 0) return Status::ok();
  Status first;
  for (const auto& s : series_) {
    Status st = flush_series(env, s.get(), sync);
    if (!st.is_ok() && first.is_ok()) first = st;
  }
  return first;
}

Status MetricBuffer::sync_all() {
  Status first;
  for (const auto& s : series_) {
    if (!s->file || !s->unsynced) continue;
    Status st = s->file->sync();
    if (st.is_ok()) s->unsynced = false;
    else if (first.is_ok()) first = st;
  }
  return first;
}

void MetricBuffer::close_all() {
  checked_.clear();
  for (const auto& s : series_)
    if (s->file) {
      (void)s->file->close();
      s->file.reset();
    }
}

}  // namespace mlruns::detail
