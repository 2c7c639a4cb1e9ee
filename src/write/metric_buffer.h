// Buffered metric points of one run, one series per key, and how they reach
// metrics/<key> (spec §5.1, §11). A new file appears whole with its first
// lines (temp file, then a rename that never replaces). Later flushes append
// all pending lines of a file with ONE append call on a descriptor kept open,
// while holding the file's lock (env/line_tail.h), after making sure the file
// ends in '\n': a partial line a killed writer left is cut, never built on.
// If the append fails or is short, the file is cut back to its size before
// it and the points stay pending; if even that cut fails, the next flush
// first finds out which of those lines did land, so no line is written
// twice. A point identical to the previous one of its series (same row for
// MLflow's SQL store, metric_file.h) is not written again: `mlflow
// migrate-filestore` refuses files holding such twins.
// Not thread-safe: the owning run's mutex guards it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mlruns/env.h"
#include "mlruns/key.h"
#include "mlruns/status.h"

namespace mlruns::detail {

struct MetricPoint {
  std::int64_t timestamp;
  double value;
  std::int64_t step;
};

// Appends "<ts> <python repr value> <step>\n".
void append_metric_line(std::string& out, const MetricPoint& p);
// The same into `out`, which has room for 72 bytes; returns the new end.
char* format_metric_line(char* out, const MetricPoint& p);

class MetricBuffer {
 public:
  struct Series {
    std::string key;
    std::string path;
    std::unique_ptr<WritableFile> file;
    std::uint64_t end = 0;    // the file's size right after our last append
    bool end_known = false;   // `end` is valid: no tail check needed if the size still matches
    bool has_last = false;    // `last` is the series' last point in the file
    MetricPoint last{};
    std::vector<MetricPoint> pending;
    bool unsynced = false;
    // The open file had no whole line under the lock and is removed (reap,
    // fsck --repair or this writer cut a fragment-only file): reopen, creating
    // the file anew, whole.
    bool stale = false;
    // A failed append whose undo failed: `uncertain_bytes` (the lines of the
    // first `uncertain_points` pending points) may partly be in the file from
    // offset `uncertain_at`. The next flush drops the points whose lines did land.
    bool uncertain = false;
    std::uint64_t uncertain_at = 0;
    std::string uncertain_bytes;
    std::size_t uncertain_points = 0;
    // check_key found no file (and no folder in the way): the first flush
    // creates it without looking again; kAlreadyExists from that create
    // (another writer was first) falls back to appending to theirs.
    bool missing = false;
  };

  explicit MetricBuffer(std::string metrics_dir) : dir_(std::move(metrics_dir)) {}

  // The series for `key`, validating the key (spec §6.1) the first time it
  // is seen and refusing "a" next to "a/b" (spec §2.4), among this run's keys
  // and on disk (kAlreadyExists). Cheap for known keys.
  Result<Series*> series(Env& env, std::string_view key, NameRules rules);
  // What series() would refuse, without adding the key. On disk the key's
  // file is opened for appending (Env::reopen_appendable_file: no link
  // followed, a FIFO never blocks, nothing but a regular file accepted): a
  // regular file there proves the slot, and its descriptor is kept for the
  // series' first flush, so an existing file costs one open, not a look
  // (stat per folder) and an open. Only when that open fails does
  // file_slot look at each folder, to name what is in the way or to find
  // the file missing.
  Status check_key(Env& env, std::string_view key, NameRules rules);

  // false: every file is closed after its flush and a file this buffer
  // creates is not reopened (Store::log_batch by run id writes once).
  void set_keep_open(bool keep) { keep_open_ = keep; }

  void add(Series* s, const MetricPoint& p) {
    s->pending.push_back(p);
    ++pending_points_;
  }

  std::size_t pending_points() const { return pending_points_; }

  // Writes every pending point; on failure keeps what failed and returns the
  // first error. With `sync`, fsyncs each file written.
  Status flush(Env& env, bool sync);
  // Writes one series now (write-through mode).
  Status flush_series(Env& env, Series* s, bool sync);
  Status flush_series_once(Env& env, Series* s, bool sync);
  // fsyncs every file written since its last sync.
  Status sync_all();
  void close_all();

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Eq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };

  Status create_file(Env& env, Series* s, bool sync);
  Status append_locked(Env& env, Series* s, bool locked, bool sync);
  void drop_landed(Series* s, std::uint64_t size);
  void drop_repeats(Series* s);

  std::string dir_;
  std::vector<std::unique_ptr<Series>> series_;
  std::unordered_map<std::string, Series*, Hash, Eq> index_;
  // Keys check_key accepted but series() has not taken yet: the file opened
  // then (null: there was none).
  std::unordered_map<std::string, std::unique_ptr<WritableFile>, Hash, Eq> checked_;
  bool keep_open_ = true;
  Series* last_ = nullptr;
  std::size_t pending_points_ = 0;
  std::string scratch_;
};

}  // namespace mlruns::detail
