#include "format/metric_file.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string>

#include <fast_float/fast_float.h>

namespace mlruns::detail {
namespace {

// Python's str.strip() with no argument strips ASCII whitespace (and Unicode
// spaces, which a metric file never holds in practice).
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view strip(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// PEP 515, which Python's int() and float() follow: a "_" may stand between
// two digits. Returns `s` without them (in `buf` if any), or nullopt.
std::optional<std::string_view> without_digit_underscores(std::string_view s, std::string& buf) {
  if (s.find('_') == std::string_view::npos) return s;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  buf.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '_') {
      buf += s[i];
      continue;
    }
    if (i == 0 || i + 1 == s.size() || !digit(s[i - 1]) || !digit(s[i + 1])) return std::nullopt;
  }
  return std::string_view(buf);
}

}  // namespace

bool parse_int_field(std::string_view text, std::int64_t& out) {
  std::string buf;
  auto clean = without_digit_underscores(text, buf);
  if (!clean) return false;
  std::string_view s = *clean;
  if (s.empty()) return false;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  if (*first == '+') {
    ++first;
    if (first == last || *first == '-') return false;
  }
  auto [p, ec] = std::from_chars(first, last, out);
  return ec == std::errc() && p == last;
}

bool parse_float_field(std::string_view text, double& out) {
  std::string buf;
  auto clean = without_digit_underscores(text, buf);
  if (!clean) return false;
  std::string_view s = *clean;
  if (s.empty()) return false;
  bool negative = false;
  std::string_view body = s;
  if (body.front() == '+' || body.front() == '-') {
    negative = body.front() == '-';
    body.remove_prefix(1);
    if (body.empty()) return false;
  }
  // Special tokens as Python spells them; fast_float would also take
  // "nan(...)", which Python refuses.
  char c0 = body.front();
  if (c0 == 'n' || c0 == 'N' || c0 == 'i' || c0 == 'I') {
    if (ascii_iequals(body, "nan")) {
      out = negative ? -std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::quiet_NaN();
      return true;
    }
    if (ascii_iequals(body, "inf") || ascii_iequals(body, "infinity")) {
      out = negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
      return true;
    }
    return false;
  }
  if (!((c0 >= '0' && c0 <= '9') || c0 == '.')) return false;
  double v = 0;
  auto r = fast_float::from_chars(body.data(), body.data() + body.size(), v);
  if (r.ec != std::errc() || r.ptr != body.data() + body.size()) return false;
  out = negative ? -v : v;
  return true;
}

bool parse_metric_line(std::string_view line, ParsedPoint& out, const char*& error) {
  line = strip(line);
  if (line.empty()) {
    error = "blank line";
    return false;
  }
  // Split on single spaces as Python's split(" "): a double space yields an
  // empty field, which then fails to parse.
  std::string_view fields[5];
  std::size_t n = 0;
  std::size_t start = 0;
  for (;;) {
    std::size_t sp = line.find(' ', start);
    if (n == 5) {
      error = "more than 5 fields";
      return false;
    }
    if (sp == std::string_view::npos) {
      fields[n++] = line.substr(start);
      break;
    }
    fields[n++] = line.substr(start, sp - start);
    start = sp + 1;
  }
  if (n != 2 && n != 3 && n != 5) {
    error = n == 1 ? "1 field (expected 2, 3 or 5)" : "4 fields (expected 2, 3 or 5)";
    return false;
  }
  if (!parse_int_field(fields[0], out.timestamp)) {
    error = "timestamp is not an integer";
    return false;
  }
  if (!parse_float_field(fields[1], out.value)) {
    error = "value is not a number";
    return false;
  }
  out.step = 0;
  // 5-field lines carry a dataset; MLflow 3.x reads their step as 0, we read
  // the written step (see the header).
  if (n >= 3 && !parse_int_field(fields[2], out.step)) {
    error = "step is not an integer";
    return false;
  }
  out.dataset_name = n == 5 ? fields[3] : std::string_view{};
  out.dataset_digest = n == 5 ? fields[4] : std::string_view{};
  return true;
}

Metric to_metric(std::string_view key, const ParsedPoint& p) {
  Metric m{std::string(key), p.value, p.timestamp, p.step};
  if (!p.dataset_name.empty()) m.dataset_name = std::string(p.dataset_name);
  if (!p.dataset_digest.empty()) m.dataset_digest = std::string(p.dataset_digest);
  return m;
}

std::string MetricFileProblems::describe() const {
  std::string out;
  if (bad_lines > 0) {
    out = "line " + std::to_string(first_bad_line) + ": " + (first_error ? first_error : "malformed");
    if (bad_lines > 1) out += " (" + std::to_string(bad_lines) + " bad lines in all)";
    out += bad_lines > 1 ? "; those lines skipped" : "; line skipped";
  }
  if (unterminated_tail) {
    if (!out.empty()) out += "; ";
    out += "last line has no newline (a write in progress?); ignored";
  }
  return out;
}

bool latest_metric_point(std::string_view text, ParsedPoint& latest, MetricFileProblems& problems) {
  bool found = false;
  problems = for_each_metric_point(text, [&](const ParsedPoint& p) {
    if (!found || is_later_point(p, latest)) latest = p;
    found = true;
  });
  return found;
}

std::vector<Metric> metric_history_points(std::string_view key, std::string_view text,
                                          MetricFileProblems& problems) {
  std::vector<Metric> out;
  problems = for_each_metric_point(text, [&](const ParsedPoint& p) {
    out.push_back(to_metric(key, p));
  });
  return out;
}

MetricRow sql_metric_row(std::int64_t timestamp, double value, std::int64_t step) {
  MetricRow row{timestamp, step, value, false};
  if (std::isnan(value)) {
    row.value = 0;
    row.is_nan = true;
  } else if (std::isinf(value)) {
    row.value = value > 0 ? std::numeric_limits<double>::max() : -std::numeric_limits<double>::max();
  } else if (value == 0) {
    row.value = 0;  // -0.0 == 0.0 in SQLite
  }
  return row;
}

LineStream::LineStream(SequentialFile& file, std::size_t max_line, std::size_t chunk)
    : file_(file), max_line_(max_line), buf_(new char[chunk]), size_(chunk) {}

Result<bool> LineStream::next(Line& line) {
  carry_.clear();
  line.cut_bytes = 0;
  line.hole_bytes = 0;
  line.complete = true;
  bool started = false;
  for (;;) {
    if (pos_ == len_) {
      if (eof_) {
        if (!started) return false;
        line.text = carry_;
        line.complete = false;
        return true;
      }
      // A hole of a sparse file is NULs, part of this line: counted and
      // passed over, never read (issue 15: a 1 GB hole costs one lseek).
      auto hole = file_.skip_hole();
      if (!hole) return fail(hole.error());
      if (*hole > 0) {
        started = true;
        line.cut_bytes += *hole;
        line.hole_bytes += *hole;
      }
      auto got = file_.read(size_, buf_.get());
      if (!got) return fail(got.error());
      if (got->empty()) {
        eof_ = true;
        continue;
      }
      // read() returns a view into buf_ (SequentialFile's contract: `scratch`).
      len_ = got->size();
      pos_ = static_cast<std::size_t>(got->data() - buf_.get());
      len_ += pos_;
    }
    const char* start = buf_.get() + pos_;
    const std::size_t avail = len_ - pos_;
    const char* nl = static_cast<const char*>(std::memchr(start, '\n', avail));
    const std::size_t take = nl ? static_cast<std::size_t>(nl - start) : avail;
    if (nl && !started && take <= max_line_) {  // the common case: a whole line in this chunk, no copy
      line.text = std::string_view(start, take);
      pos_ += take + 1;
      return true;
    }
    started = true;
    const std::size_t room = max_line_ > carry_.size() ? max_line_ - carry_.size() : 0;
    const std::size_t keep = std::min(take, room);
    carry_.append(start, keep);
    line.cut_bytes += take - keep;
    pos_ += take;
    if (nl) {
      ++pos_;
      line.text = carry_;
      return true;
    }
  }
}

}  // namespace mlruns::detail
