#include "write/metric_buffer.h"

#include <charconv>

#include "env/atomic_file.h"
#include "format/layout.h"
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

Result<MetricBuffer::Series*> MetricBuffer::series(std::string_view key, NameRules rules) {
  if (last_ && last_->key == key) return last_;
  auto it = index_.find(key);
  if (it != index_.end()) {
    last_ = it->second;
    return last_;
  }
  if (Status v = validate_key("metric key", key, rules); !v.is_ok()) return fail(v);
  for (const auto& s : series_) {
    std::string_view a = s->key, b = key;
    if (a.size() > b.size()) std::swap(a, b);
    if (b.size() > a.size() && b.substr(0, a.size()) == a && b[a.size()] == '/')
      return fail(Status::invalid_argument(
          "metric key '" + std::string(key) + "'",
          "conflicts with metric key '" + s->key + "': a key cannot also be a folder of keys (spec §2.4)"));
  }
  auto s = std::make_unique<Series>();
  s->key = std::string(key);
  s->path = join(dir_, key);
  Series* raw = s.get();
  series_.push_back(std::move(s));
  index_.emplace(raw->key, raw);
  last_ = raw;
  return raw;
}

Status MetricBuffer::flush_series(Env& env, Series* s, bool sync) {
  if (s->pending.empty()) return Status::ok();
  if (!s->file) {
    if (s->key.find('/') != std::string::npos) MLRUNS_RETURN_IF_ERROR(env.create_dirs(parent_dir(s->path)));
    auto info = env.stat(s->path, false);
    if (!info) return info.error();
    if (info->type == FileType::kMissing) {
      // A new metric file appears whole, with its first lines (temp file in
      // the run folder, then rename): never empty, even after a kill or a
      // failed first append. MLflow fails a run whose metric file is empty
      // ("Metric is malformed. No data found.").
      scratch_.clear();
      for (const MetricPoint& p : s->pending) append_metric_line(scratch_, p);
      AtomicWriteOptions o;
      o.sync = sync;
      o.temp_dir = parent_dir(dir_);
      if (Status st = write_file_atomic(env, s->path, scratch_, o); !st.is_ok())
        return st.with_context("metric '" + s->key + "'");
      s->size = scratch_.size();
      s->size_known = true;
      pending_points_ -= s->pending.size();
      s->pending.clear();
      s->unsynced = !sync;
      if (auto f = env.new_appendable_file(s->path)) s->file = std::move(*f);  // else reopened next time
      return Status::ok();
    }
    auto f = env.new_appendable_file(s->path);
    if (!f) return f.error();
    auto size = (*f)->size();
    if (!size) return size.error();
    if (s->size_known && *size > s->size) {
      // A torn tail from an earlier append whose undo failed: cut it now,
      // before anything is appended after it.
      if (Status t = (*f)->truncate(s->size); !t.is_ok())
        return t.with_context("metric '" + s->key + "': cutting a torn last line");
    } else {
      s->size = *size;
    }
    s->file = std::move(*f);
    s->size_known = true;
  }
  // Formatted straight into one buffer: at most 20 + 1 + 24 + 1 + 20 + 1 bytes a line.
  scratch_.resize(s->pending.size() * 72);
  char* out = scratch_.data();
  for (const MetricPoint& p : s->pending) out = format_metric_line(out, p);
  scratch_.resize(static_cast<std::size_t>(out - scratch_.data()));
  Status st = s->file->append(scratch_);
  if (!st.is_ok()) {
    // Undo a partial append so the file never ends in a torn line.
    Status t = s->file->truncate(s->size);
    if (!t.is_ok()) {
      s->file.reset();  // reopen and cut back to s->size next time
      return st.with_context("metric '" + s->key + "' (and truncating back failed: " + t.message() + ")");
    }
    return st.with_context("metric '" + s->key + "'");
  }
  s->size += scratch_.size();
  pending_points_ -= s->pending.size();
  s->pending.clear();
  s->unsynced = true;
  if (sync) {
    MLRUNS_RETURN_IF_ERROR(s->file->sync());
    s->unsynced = false;
  }
  return Status::ok();
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
  for (const auto& s : series_)
    if (s->file) {
      (void)s->file->close();
      s->file.reset();
    }
}

}  // namespace mlruns::detail
