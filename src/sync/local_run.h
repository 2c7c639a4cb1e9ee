// What sync looks at in a run folder, and how cheaply: the "unchanged"
// check stats files (names, sizes, modification times) and compares them
// with the record; only a run that changed is parsed, and only the bytes a
// metric file gained since the last acknowledged offset are read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlruns/env.h"
#include "mlruns/status.h"
#include "sync/record.h"

namespace mlruns::detail {

struct LocalFile {
  std::string rel;   // key (metrics) or path below the artifact root, '/'-separated
  std::string path;  // absolute
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
};

struct RunScan {
  std::string meta_fp;  // meta.yaml, params/, tags/, inputs/
  std::string art_fp;   // the artifact files
  // A file changed less than kRacyNs ago: its time cannot prove that a later
  // change would show (the same size within the same tick), so the
  // fingerprints are not recorded and the next pass looks again.
  bool racy = false;
  std::vector<LocalFile> metrics;    // sorted by key
  std::vector<LocalFile> artifacts;  // sorted by path
  std::vector<std::string> notes;    // symlinks left out and the like (escaped)
  // Files or folders that could not be read (too deep, too many, an error such as "File name
  // too long"): each has a note; the run is not complete and is looked at again next pass.
  std::uint64_t unread = 0;
};

inline constexpr std::int64_t kRacyNs = 2'000'000'000;

// Stats the run folder and the artifact folder (`artifact_dir`; may be
// missing). Symlinks are never followed; names mlruns or the OS leave
// behind (.mlruns-tmp-*, .DS_Store, ...) are not keys.
RunScan scan_run(Env& env, const std::string& run_dir, const std::string& artifact_dir, std::int64_t now_ns);

// True when the record says all of the scan was sent: same fingerprints,
// and no metric file whose size differs from the size last seen.
bool scan_matches_record(const RunScan& scan, const RunRecord& record);

// One whole line of a metric file.
struct LinePoint {
  std::uint64_t end = 0;  // offset just past its '\n'
  std::int64_t timestamp = 0;
  double value = 0;
  std::int64_t step = 0;
};

struct LineRead {
  std::vector<LinePoint> points;
  std::uint64_t whole_end = 0;  // past the last '\n' read (a partial last line waits)
  std::size_t bad_lines = 0;    // unparsable whole lines, skipped
};

// Whole lines of `path` from byte `from` to `to` (the size seen). Reads only that range.
Result<LineRead> read_metric_lines(Env& env, const std::string& path, std::uint64_t from, std::uint64_t to);

}  // namespace mlruns::detail
