// The tail of a file that processes append whole lines to (metric files,
// spec §5.1): how an appender makes sure it never builds on a partial line.
//
// A write(2) of more than a page to a regular file is not atomic against
// SIGKILL: the kernel copies page by page and a killed writer leaves the
// prefix up to a page boundary, usually ending inside a line. Such a
// fragment was never acknowledged (a point counts as written only once its
// append returned), so the next writer, `mlruns reap` and `fsck --repair`
// cut it off before anything is appended after it.
//
// Exclusivity: every appender holds an exclusive lock on the file while it
// appends (WritableFile::lock: an open-file-description lock, released by
// the kernel when its holder dies). Whoever holds the lock and finds a
// partial last line therefore knows no live writer is in the middle of it.
// Where the file system has no locks (Lustre without -o flock, NFS mounted
// -o nolock across nodes), a partial last line is taken for a dead writer's
// only once its mtime is kDeadFragmentAgeMs old; until then the caller waits
// for a live writer to finish it (docs/crash-semantics.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "mlruns/env.h"
#include "mlruns/status.h"

namespace mlruns::detail {

// How long an appender waits for another holder of a file's lock.
inline constexpr std::int64_t kAppendLockTimeoutMs = 10000;
// Without file locks: a partial last line this old (mtime) is a dead
// writer's; a younger one may still be growing.
inline constexpr std::int64_t kDeadFragmentAgeMs = 30000;
// A "partial last line" longer than this is not a torn line but a file that
// is not line-oriented; it is reported, never cut.
inline constexpr std::uint64_t kMaxPartialLine = 1 << 20;

// An appender's exclusive lock on an open file (WritableFile::lock) for the
// guard's lifetime, or the reason there is none. REQUIRES: destroyed before
// the file is closed.
class AppendLock {
 public:
  explicit AppendLock(WritableFile& file, std::int64_t timeout_ms = kAppendLockTimeoutMs);

  bool held() const { return lock_ != nullptr; }
  // OK when held; kNotSupported where the file system has no locks (the
  // caller goes on without, see above); otherwise why it could not be taken.
  const Status& status() const { return status_; }
  bool usable() const { return held() || status_.code() == Code::kNotSupported; }

 private:
  std::unique_ptr<FileLock> lock_;
  Status status_;
};

struct LineTail {
  std::uint64_t whole_end = 0;  // offset just after the last '\n' (0: none)
  std::string last_line;        // the last whole line without '\n', if it was read (<= 4 KiB)
  std::string partial;          // the bytes after whole_end: a partial line ("" if whole)
};

// Reads the tail of `file` (of `size` bytes) backwards in 4 KiB blocks, up
// to the last '\n'. Bounded: kCorruption if the last kMaxPartialLine bytes
// hold no '\n' (and the file is longer than that).
Result<LineTail> read_line_tail(WritableFile& file, const std::string& path, std::uint64_t size);

struct TailCut {
  std::uint64_t size = 0;   // the file's size afterwards (ends in '\n'; 0 when removed)
  std::string last_line;    // its last whole line, if known
  std::string cut;          // the partial line that was removed ("" if none)
  bool removed = false;     // no whole line remained: the file was removed
};

// Makes `file` (open for appending, `size` bytes) end in '\n' by cutting a
// partial last line. A file that would be left empty (a fragment only), or
// is empty, is removed instead: truncated to 0, then unlinked, under the
// lock. An empty metric file breaks MLflow (file_store.py
// _get_metric_from_file: "Metric '<key>' is malformed. No data found.",
// spec §5.1), and a writer that still has the old file open finds it empty
// under the lock and creates the file anew, whole (metric_buffer.cpp).
// REQUIRES: `locked` is true and the caller holds the file's AppendLock, or
// the file system has no locks (then see the age rule above: this call waits
// up to kDeadFragmentAgeMs, polling, for a live writer to finish its line).
Result<TailCut> cut_partial_line(Env& env, const std::string& path, WritableFile& file, bool locked,
                                 std::uint64_t size);

// The same for a file by path, for tools that repair a tree (reap, fsck):
// opens it without creating it, takes its lock, cuts a partial last line
// (or removes a file with no whole line, as above). kNotFound if it is missing.
Result<TailCut> repair_line_file(Env& env, const std::string& path);

}  // namespace mlruns::detail
