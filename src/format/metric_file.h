// Parsing metric files (<run>/metrics/<key>, spec §5.1) as every MLflow from
// 1.30 to 3.x wrote them, without allocating per line: the file text is
// walked with string_views, ints go through std::from_chars and doubles
// through fast_float.
//
// Where MLflow fails the whole run (and its experiment's search) for one bad
// line (spec §10.6, §14.3), these functions skip just that line and report it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mlruns/env.h"
#include "mlruns/types.h"

namespace mlruns::detail {

// One parsed line. The key is not part of it: a file holds one key. (Not
// the writer's MetricPoint in metric_buffer.h: this one carries dataset views.)
struct ParsedPoint {
  std::int64_t timestamp = 0;
  double value = 0;
  std::int64_t step = 0;
  // 5-field lines only; views into the parsed text.
  std::string_view dataset_name;
  std::string_view dataset_digest;
};

// Parses Python's int() of a metric field: optional sign, ASCII digits.
bool parse_int_field(std::string_view s, std::int64_t& out);
// Parses Python's float(): decimal and exponent forms, "nan", "inf",
// "infinity" in any case with an optional sign.
bool parse_float_field(std::string_view s, double& out);

// Parses one line, already split off (no '\n'). Surrounding whitespace
// (including a CR from Windows appends) is stripped as Python's strip() does.
// Fields are separated by single spaces:
//   2 fields: "ts value"              (before MLflow 1.0), step = 0
//   3 fields: "ts value step"
//   5 fields: "ts value step dataset_name dataset_digest" (MLflow >= 3.0 with
//             a dataset). We take the third field as the step; MLflow 3.x
//             itself reads step 0 for these lines (spec §5.1, an MLflow bug).
// On failure returns false and sets `error` to a static description.
bool parse_metric_line(std::string_view line, ParsedPoint& out, const char*& error);

// A Metric from a point (copies the dataset strings).
Metric to_metric(std::string_view key, const ParsedPoint& p);

// MLflow's "latest" rule: the maximum of (step, timestamp, value) compared as
// Python compares tuples (spec §5.1, §14.14). True if `candidate` replaces
// `current` when scanning in file order. With NaN values, Python's `>` is
// false both ways, so the earlier line stays: we do the same.
inline bool is_later_point(const ParsedPoint& candidate, const ParsedPoint& current) {
  if (candidate.step != current.step) return candidate.step > current.step;
  if (candidate.timestamp != current.timestamp) return candidate.timestamp > current.timestamp;
  return candidate.value > current.value;
}

// A point as a row of MLflow's SQL store, whose metrics table is unique on
// (key, timestamp, step, run, value, is_nan): NaN is stored as 0 with
// is_nan, +-inf as +-max float (sqlalchemy_store.py sanitize_metric_value),
// and SQLite compares -0.0 equal to 0.0. `mlflow migrate-filestore`
// (MLflow >= 3.10) aborts the whole migration, committing nothing, on two
// lines of one file with the same row (verified with MLflow 3.11: equal
// lines, two NaNs, inf next to 1.7976931348623157e+308, 0.0 next to -0.0).
struct MetricRow {
  std::int64_t timestamp = 0;
  std::int64_t step = 0;
  double value = 0;  // as stored: finite, never -0.0
  bool is_nan = false;
  friend bool operator==(const MetricRow&, const MetricRow&) = default;
};
MetricRow sql_metric_row(std::int64_t timestamp, double value, std::int64_t step);

// What went wrong in a file; lines are 1-based.
struct MetricFileProblems {
  std::size_t bad_lines = 0;
  std::size_t first_bad_line = 0;
  const char* first_error = nullptr;
  bool unterminated_tail = false;  // last line had no '\n' and was ignored

  bool any() const { return bad_lines > 0 || unterminated_tail; }
  // "line 3: <error> (2 bad lines skipped)"; empty when nothing is wrong.
  std::string describe() const;
};

// Calls on_point(const ParsedPoint&) for each good line in file order. A final
// line without '\n' is ignored (it may be a write in progress, spec §11).
template <typename OnPoint>
MetricFileProblems for_each_metric_point(std::string_view text, OnPoint&& on_point) {
  MetricFileProblems problems;
  std::size_t line_no = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    ++line_no;
    if (nl == std::string_view::npos) {
      problems.unterminated_tail = true;
      break;
    }
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    ParsedPoint p;
    const char* error = nullptr;
    if (parse_metric_line(line, p, error)) {
      on_point(p);
    } else {
      if (problems.bad_lines++ == 0) {
        problems.first_bad_line = line_no;
        problems.first_error = error;
      }
    }
  }
  return problems;
}

// The latest point of a file by MLflow's rule. False if the file holds no
// good line. latest's dataset views point into `text`.
bool latest_metric_point(std::string_view text, ParsedPoint& latest, MetricFileProblems& problems);

// Every good point in file order (spec §10.3).
std::vector<Metric> metric_history_points(std::string_view key, std::string_view text,
                                          MetricFileProblems& problems);

// The lines of a file read in chunks of `chunk` bytes (256 KiB), so that memory stays
// bounded whatever the file's size (issue 15 item 3): a line longer than
// `max_line` bytes (a metric line is under 100; a sparse hole reads as one
// long line of NULs) is given cut to its first `max_line` bytes, with
// `cut_bytes` saying how much was skipped, and never stored whole.
class LineStream {
 public:
  explicit LineStream(SequentialFile& file, std::size_t max_line = 64 << 10, std::size_t chunk = 256 << 10);
  struct Line {
    std::string_view text;    // without '\n'; valid until the next call
    bool complete = true;     // false: the file's last line, without '\n'
    std::uint64_t cut_bytes = 0;
    std::uint64_t hole_bytes = 0;  // of cut_bytes, those in holes of a sparse file (never read)
  };
  // The next line; false at the end of the file.
  Result<bool> next(Line& line);

 private:
  SequentialFile& file_;
  std::size_t max_line_;
  std::unique_ptr<char[]> buf_;  // not zeroed: one per history read
  std::size_t size_;
  std::size_t pos_ = 0, len_ = 0;
  bool eof_ = false;
  std::string carry_;  // a line that spans chunks, up to max_line_ bytes
};

// for_each_metric_point over a stream: the same rules, memory bounded by the
// chunk and the longest line kept (LineStream). A cut line is a bad line.
template <typename OnPoint>
Result<MetricFileProblems> for_each_metric_point(LineStream& lines, OnPoint&& on_point) {
  MetricFileProblems problems;
  std::size_t line_no = 0;
  LineStream::Line line;
  for (;;) {
    auto more = lines.next(line);
    if (!more) return fail(more.error());
    if (!*more) break;
    ++line_no;
    if (!line.complete) {
      problems.unterminated_tail = true;
      break;
    }
    ParsedPoint p;
    const char* error = line.hole_bytes ? "a hole of a sparse file (NULs; skipped, not read)"
                                        : "line longer than any metric line (garbage)";
    if (line.cut_bytes == 0 && parse_metric_line(line.text, p, error)) {
      on_point(p);
    } else if (problems.bad_lines++ == 0) {
      problems.first_bad_line = line_no;
      problems.first_error = error;
    }
  }
  return problems;
}

}  // namespace mlruns::detail
