#include "env/line_tail.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace mlruns::detail {

AppendLock::AppendLock(WritableFile& file, std::int64_t timeout_ms) {
  auto l = file.lock(timeout_ms);
  if (l) lock_ = std::move(*l);
  else status_ = l.error();
}

Result<LineTail> read_line_tail(WritableFile& file, const std::string& path, std::uint64_t size) {
  constexpr std::size_t kBlock = 4096;
  LineTail tail;
  if (size == 0) return tail;
  std::string after;  // bytes after the last '\n' seen so far (read backwards)
  char buf[kBlock];
  std::uint64_t end = size;
  while (end > 0) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kBlock, end));
    std::uint64_t at = end - n;
    std::size_t got = 0;
    while (got < n) {  // pread may return less than asked
      auto r = file.read_at(at + got, n - got, buf + got);
      if (!r && r.error().code() == Code::kNotSupported && end == size) {
        tail.whole_end = size;  // a file that cannot be read back (not a POSIX Env): taken as whole
        return tail;
      }
      if (!r) return fail(r.error());
      if (r->empty()) break;  // shrank meanwhile
      got += r->size();
    }
    std::string_view block(buf, got);
    std::size_t nl = block.rfind('\n');
    if (nl != std::string_view::npos) {
      tail.whole_end = at + nl + 1;
      tail.partial = std::string(block.substr(nl + 1)) + after;
      // The last whole line, when it lies in this block.
      std::size_t prev = nl == 0 ? std::string_view::npos : block.rfind('\n', nl - 1);
      if (prev != std::string_view::npos) tail.last_line = std::string(block.substr(prev + 1, nl - prev - 1));
      else if (at == 0) tail.last_line = std::string(block.substr(0, nl));
      return tail;
    }
    after.insert(0, block);
    end = at;
    if (after.size() > kMaxPartialLine)
      return fail(Status::corruption(path, "its last " + std::to_string(after.size()) +
                                               " bytes hold no line end: not a file of lines, left alone"));
  }
  tail.whole_end = 0;
  tail.partial = std::move(after);
  return tail;
}

Result<TailCut> cut_partial_line(Env& env, const std::string& path, WritableFile& file, bool locked,
                                 std::uint64_t size) {
  auto waited_since = env.now_ms();
  for (;;) {
    auto tail = read_line_tail(file, path, size);
    if (!tail) return fail(tail.error());
    TailCut out;
    out.last_line = std::move(tail->last_line);
    if (tail->partial.empty() && size > 0) {
      out.size = size;
      return out;
    }
    if (!locked) {
      // No locks: a live writer may be in the middle of this line. Cut it
      // only once it is old enough to be a dead writer's; else wait.
      auto info = env.stat(path, false);
      if (!info) return fail(info.error());
      std::int64_t now = env.now_ms();
      if (now - info->mtime_ms < kDeadFragmentAgeMs) {
        if (now - waited_since > kDeadFragmentAgeMs)
          return fail(Status::io_error(path, "still ends in a partial line after waiting " +
                                                 std::to_string(kDeadFragmentAgeMs / 1000) +
                                                 " s (no file locks here: a writer may be appending)"));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        auto now_size = file.size();
        if (!now_size) return fail(now_size.error());
        size = *now_size;
        continue;
      }
    }
    if (Status t = file.truncate(tail->whole_end); !t.is_ok())
      return fail(t.with_context("cutting a partial last line (a killed writer's)"));
    out.size = tail->whole_end;
    out.cut = std::move(tail->partial);
    if (tail->whole_end == 0) {
      // Never leave an empty metric file (MLflow: "No data found"): remove it.
      // Truncated first, so a writer holding the old file sees it empty.
      // Only if the path still names an empty file: another writer may have
      // created a whole one there since this one was removed.
      auto now = env.stat(path, false);
      if (now && now->type == FileType::kRegular && now->size == 0) {
        if (Status r = env.remove_file(path); !r.is_ok() && r.code() != Code::kNotFound)
          return fail(r.with_context("removing a metric file with no whole line"));
      }
      out.removed = true;
    }
    return out;
  }
}

Result<TailCut> repair_line_file(Env& env, const std::string& path) {
  auto file = env.reopen_appendable_file(path);
  if (!file) return fail(file.error());
  AppendLock lock(**file);
  if (!lock.usable()) return fail(lock.status());
  auto size = (*file)->size();
  if (!size) return fail(size.error());
  auto cut = cut_partial_line(env, path, **file, lock.held(), *size);
  if (!cut) return cut;
  if (!cut->cut.empty()) (void)(*file)->sync();
  return cut;
}

}  // namespace mlruns::detail
