// Buffered metric points of one run, one series per key, and how they reach
// metrics/<key> (spec §5.1, §11): each flush appends all pending lines of a
// file with ONE append call on a descriptor kept open; if that append fails
// or is short, the file is truncated back to its previous size, so no
// partial or blank line remains, and the points stay pending for the next
// flush. Not thread-safe: the owning run's mutex guards it.
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
    std::uint64_t size = 0;  // bytes in the file after our last good append
    bool size_known = false;  // `size` was measured or written by us
    std::vector<MetricPoint> pending;
    bool unsynced = false;
  };

  explicit MetricBuffer(std::string metrics_dir) : dir_(std::move(metrics_dir)) {}

  // The series for `key`, validating the key (spec §6.1) the first time it
  // is seen and refusing "a" next to "a/b" (spec §2.4). Cheap for known keys.
  Result<Series*> series(std::string_view key, NameRules rules);

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

  std::string dir_;
  std::vector<std::unique_ptr<Series>> series_;
  std::unordered_map<std::string, Series*, Hash, Eq> index_;
  Series* last_ = nullptr;
  std::size_t pending_points_ = 0;
  std::string scratch_;
};

}  // namespace mlruns::detail
