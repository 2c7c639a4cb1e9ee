#include "format/metric_file.h"

#include <bit>
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

namespace {

// parse_int_field / parse_float_field of a field without '_'.
bool parse_plain_int(std::string_view s, std::int64_t& out) {
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

bool parse_plain_float(std::string_view s, double& out) {
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

// The value of the 8 ASCII digits at p (little-endian SWAR: all eight
// checked and converted at once); false if one is not a digit.
bool eight_digits(const char* p, std::uint64_t& out) {
  if constexpr (std::endian::native != std::endian::little) return false;
  std::uint64_t x;
  std::memcpy(&x, p, 8);
  // Every byte in '0'..'9': its high nibble is 3, and still 3 after adding 6
  // (a byte above '9' carries into 4; one that carries out is not 3x).
  if (((x & 0xF0F0F0F0F0F0F0F0ull) | (((x + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) >> 4)) !=
      0x3333333333333333ull)
    return false;
  x -= 0x3030303030303030ull;
  x = (x * 10) + (x >> 8);  // pairs
  x = (((x & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
       (((x >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >> 32;
  out = x;
  return true;
}

// An unsigned decimal of 1 to 18 digits (no overflow possible) at p, up to
// the first non-digit; false if there is none or more digits.
bool parse_short_digits(const char*& p, const char* end, std::int64_t& out) {
  const char* start = p;
  std::int64_t v = 0;
  std::uint64_t chunk = 0;
  while (end - p >= 8 && p - start <= 10 && eight_digits(p, chunk)) {
    v = v * 100000000 + static_cast<std::int64_t>(chunk);
    p += 8;
  }
  while (p != end && *p >= '0' && *p <= '9' && p - start < 18) v = v * 10 + (*p++ - '0');
  if (p == start || (p != end && *p >= '0' && *p <= '9')) return false;
  out = v;
  return true;
}

// The common line, "ts value step" or "ts value" with unsigned ints and a
// value that starts with a digit, in one scan. False: the line is not of
// that shape, and the general path decides (and names the error); it would
// accept exactly what this accepts, with the same numbers.
bool parse_common_line(std::string_view line, ParsedPoint& out) {
  const char* p = line.data();
  const char* const end = p + line.size();
  if (!parse_short_digits(p, end, out.timestamp) || p == end || *p != ' ') return false;
  ++p;
  if (p == end || *p < '0' || *p > '9') return false;
  auto r = fast_float::from_chars(p, end, out.value);
  if (r.ec != std::errc()) return false;
  p = r.ptr;
  out.step = 0;
  if (p != end) {
    if (*p != ' ') return false;
    ++p;
    if (!parse_short_digits(p, end, out.step) || p != end) return false;
  }
  out.dataset_name = {};
  out.dataset_digest = {};
  return true;
}

}  // namespace

bool parse_int_field(std::string_view text, std::int64_t& out) {
  std::string buf;
  auto clean = without_digit_underscores(text, buf);
  return clean && parse_plain_int(*clean, out);
}

bool parse_float_field(std::string_view text, double& out) {
  std::string buf;
  auto clean = without_digit_underscores(text, buf);
  return clean && parse_plain_float(*clean, out);
}

bool parse_metric_line(std::string_view line, ParsedPoint& out, const char*& error) {
  line = strip(line);
  if (line.empty()) {
    error = "blank line";
    return false;
  }
  if (parse_common_line(line, out)) return true;
  // Split on single spaces as Python's split(" "): a double space yields an
  // empty field, which then fails to parse. One scan, which also notes any
  // '_' (PEP 515 digit grouping: the slow path of the field parsers).
  std::string_view fields[5];
  std::size_t n = 0;
  bool underscore = false;
  const char* start = line.data();
  const char* const end = line.data() + line.size();
  for (const char* c = start; c != end; ++c) {
    if (*c == '_') underscore = true;
    if (*c != ' ') continue;
    if (n == 4) {
      error = "more than 5 fields";
      return false;
    }
    fields[n++] = std::string_view(start, static_cast<std::size_t>(c - start));
    start = c + 1;
  }
  fields[n++] = std::string_view(start, static_cast<std::size_t>(end - start));
  if (n != 2 && n != 3 && n != 5) {
    error = n == 1 ? "1 field (expected 2, 3 or 5)" : "4 fields (expected 2, 3 or 5)";
    return false;
  }
  auto int_field = [&](std::string_view f, std::int64_t& v) {
    return underscore ? parse_int_field(f, v) : parse_plain_int(f, v);
  };
  if (!int_field(fields[0], out.timestamp)) {
    error = "timestamp is not an integer";
    return false;
  }
  if (!(underscore ? parse_float_field(fields[1], out.value) : parse_plain_float(fields[1], out.value))) {
    error = "value is not a number";
    return false;
  }
  out.step = 0;
  // 5-field lines carry a dataset; MLflow 3.x reads their step as 0, we read
  // the written step (see the header).
  if (n >= 3 && !int_field(fields[2], out.step)) {
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
