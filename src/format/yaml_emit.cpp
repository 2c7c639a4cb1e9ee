#include "format/yaml_emit.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <vector>

#include "format/py_format.h"
#include "mlruns/yaml.h"

// A transcription of the decisions libyaml 0.2.5 makes in
// yaml_emitter_analyze_scalar / select_scalar_style / write_*_scalar for a
// scalar in a block mapping or an indentless list (best_width 80; the indent
// is 2 per nesting level, plus 2 for a scalar's continuation lines; unicode
// as the caller asks), with PyYAML's YAML 1.1 implicit resolvers deciding
// `plain_implicit`. Verified against tests/fixtures/pyyaml_scalars.json and
// pyyaml_documents.json (whole nested documents, libyaml and pure-Python
// dumpers).

namespace mlruns::detail {
namespace {

constexpr int kBestWidth = 80;
constexpr int kIndentStep = 2;

// One UTF-8 character of the value.
struct Ch {
  std::uint32_t cp;
  std::string_view bytes;
};

std::vector<Ch> decode(std::string_view s) {
  std::vector<Ch> out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t w = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    if (i + w > s.size()) w = s.size() - i;
    std::uint32_t cp = w == 1 ? c : w == 2 ? (c & 0x1F) : w == 3 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t k = 1; k < w; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back({cp, s.substr(i, w)});
    i += w;
  }
  return out;
}

bool is_break(std::uint32_t c) { return c == '\r' || c == '\n' || c == 0x85 || c == 0x2028 || c == 0x2029; }
bool is_space(std::uint32_t c) { return c == ' '; }
bool is_blankz(std::uint32_t c) { return c == ' ' || c == '\t' || is_break(c) || c == 0; }
// libyaml's IS_PRINTABLE, on code points.
bool is_printable(std::uint32_t c) {
  return c == 0x0A || (c >= 0x20 && c <= 0x7E) || (c >= 0xA0 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD && c != 0xFEFF);
}
bool is_ascii(std::uint32_t c) { return c < 0x80; }

struct Analysis {
  bool multiline = false;
  bool block_plain_allowed = true;
  bool single_quoted_allowed = true;
};

Analysis analyze(const std::vector<Ch>& s, bool unicode) {
  Analysis a;
  if (s.empty()) return a;  // plain allowed, but '' resolves to null: quoted
  bool block_indicators = false, line_breaks = false, special = false;
  bool leading_space = false, leading_break = false, trailing_space = false, trailing_break = false;
  bool break_space = false, space_break = false;
  bool previous_space = false, previous_break = false;
  auto at = [&](std::size_t i) -> std::uint32_t { return i < s.size() ? s[i].cp : 0; };
  if (s.size() >= 3 && ((at(0) == '-' && at(1) == '-' && at(2) == '-') || (at(0) == '.' && at(1) == '.' && at(2) == '.')))
    block_indicators = true;
  bool preceded_by_whitespace = true;
  bool followed_by_whitespace = is_blankz(at(1));
  for (std::size_t i = 0; i < s.size(); ++i) {
    std::uint32_t c = s[i].cp;
    if (i == 0) {
      switch (c) {
        case '#': case ',': case '[': case ']': case '{': case '}': case '&': case '*': case '!':
        case '|': case '>': case '\'': case '"': case '%': case '@': case '`':
          block_indicators = true;
          break;
        case '?': case ':':
          if (followed_by_whitespace) block_indicators = true;
          break;
        case '-':
          if (followed_by_whitespace) block_indicators = true;
          break;
        default:
          break;
      }
    } else {
      if (c == ':' && followed_by_whitespace) block_indicators = true;
      if (c == '#' && preceded_by_whitespace) block_indicators = true;
    }
    if (!is_printable(c) || (!unicode && !is_ascii(c))) special = true;
    if (is_break(c)) line_breaks = true;
    if (is_space(c)) {
      if (i == 0) leading_space = true;
      if (i + 1 == s.size()) trailing_space = true;
      if (previous_break) break_space = true;
      previous_space = true;
      previous_break = false;
    } else if (is_break(c)) {
      if (i == 0) leading_break = true;
      if (i + 1 == s.size()) trailing_break = true;
      if (previous_space) space_break = true;
      previous_space = false;
      previous_break = true;
    } else {
      previous_space = false;
      previous_break = false;
    }
    preceded_by_whitespace = is_blankz(c);
    followed_by_whitespace = is_blankz(at(i + 2));
  }
  a.multiline = line_breaks;
  if (leading_space || leading_break || trailing_space || trailing_break) a.block_plain_allowed = false;
  if (break_space) a.block_plain_allowed = a.single_quoted_allowed = false;
  if (space_break || special) a.block_plain_allowed = a.single_quoted_allowed = false;
  if (line_breaks || block_indicators) a.block_plain_allowed = false;
  return a;
}

// The output state libyaml keeps while writing one scalar.
struct Writer {
  std::string& out;
  int indent = kIndentStep;  // of continuation lines
  bool unicode = true;       // false: non-ASCII is escaped (allow_unicode=False)
  bool allow_breaks = true;  // false for mapping keys (simple keys stay on one line)
  bool pure = false;         // PyYAML's pure-Python emitter (folds double quotes its own way)
  int column = 0;
  bool whitespace = false;
  bool indention = false;

  void put(char c) {
    out += c;
    ++column;
  }
  void put_break() {
    out += '\n';
    column = 0;
  }
  void write(const Ch& c) {
    out.append(c.bytes);
    ++column;
  }
  void write_break(const Ch& c) {
    if (c.cp == '\n') {
      put_break();
    } else {
      out.append(c.bytes);
      column = 0;
    }
  }
  void write_indent() {
    if (!indention || column > indent || (column == indent && !whitespace)) put_break();
    while (column < indent) put(' ');
    whitespace = true;
    indention = true;
  }
  void indicator(char c, bool need_whitespace) {
    if (need_whitespace && !whitespace) put(' ');
    put(c);
    whitespace = false;
    indention = false;
  }
};

void write_plain(Writer& w, const std::vector<Ch>& s) {
  if (!w.whitespace && !s.empty()) w.put(' ');
  bool spaces = false, breaks = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const Ch& c = s[i];
    if (is_space(c.cp)) {
      if (w.allow_breaks && !spaces && w.column > kBestWidth && !(i + 1 < s.size() && is_space(s[i + 1].cp))) {
        w.write_indent();
      } else {
        w.write(c);
      }
      spaces = true;
    } else if (is_break(c.cp)) {
      if (!breaks && c.cp == '\n') w.put_break();
      w.write_break(c);
      w.indention = true;
      breaks = true;
    } else {
      if (breaks) w.write_indent();
      w.write(c);
      w.indention = false;
      spaces = breaks = false;
    }
  }
  w.whitespace = false;
  w.indention = false;
}

void write_single(Writer& w, const std::vector<Ch>& s) {
  w.indicator('\'', true);
  bool spaces = false, breaks = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const Ch& c = s[i];
    if (is_space(c.cp)) {
      if (w.allow_breaks && !spaces && w.column > kBestWidth && i != 0 && i + 1 != s.size() &&
          !(i + 1 < s.size() && is_space(s[i + 1].cp))) {
        w.write_indent();
      } else {
        w.write(c);
      }
      spaces = true;
    } else if (is_break(c.cp)) {
      if (!breaks && c.cp == '\n') w.put_break();
      w.write_break(c);
      w.indention = true;
      breaks = true;
    } else {
      if (breaks) w.write_indent();
      if (c.cp == '\'') w.put('\'');
      w.write(c);
      w.indention = false;
      spaces = breaks = false;
    }
  }
  if (breaks) w.write_indent();
  w.indicator('\'', false);
}

void write_double(Writer& w, const std::vector<Ch>& s) {
  static const char* kHex = "0123456789ABCDEF";
  w.indicator('"', true);
  bool spaces = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const Ch& c = s[i];
    std::uint32_t v = c.cp;
    if (!is_printable(v) || (!w.unicode && !is_ascii(v)) || v == 0xFEFF || is_break(v) || v == '"' || v == '\\') {
      w.put('\\');
      switch (v) {
        case 0x00: w.put('0'); break;
        case 0x07: w.put('a'); break;
        case 0x08: w.put('b'); break;
        case 0x09: w.put('t'); break;
        case 0x0A: w.put('n'); break;
        case 0x0B: w.put('v'); break;
        case 0x0C: w.put('f'); break;
        case 0x0D: w.put('r'); break;
        case 0x1B: w.put('e'); break;
        case 0x22: w.put('"'); break;
        case 0x5C: w.put('\\'); break;
        case 0x85: w.put('N'); break;
        case 0xA0: w.put('_'); break;
        case 0x2028: w.put('L'); break;
        case 0x2029: w.put('P'); break;
        default: {
          int width;
          if (v <= 0xFF) {
            w.put('x');
            width = 2;
          } else if (v <= 0xFFFF) {
            w.put('u');
            width = 4;
          } else {
            w.put('U');
            width = 8;
          }
          for (int k = (width - 1) * 4; k >= 0; k -= 4) w.put(kHex[(v >> k) & 0x0F]);
        }
      }
      spaces = false;
    } else if (is_space(v)) {
      if (w.allow_breaks && !spaces && w.column > kBestWidth && i != 0 && i + 1 != s.size()) {
        w.write_indent();
        if (i + 1 < s.size() && is_space(s[i + 1].cp)) w.put('\\');
      } else {
        w.write(c);
      }
      spaces = true;
    } else {
      w.write(c);
      spaces = false;
    }
  }
  w.indicator('"', false);
}

// PyYAML's pure-Python Emitter.write_double_quoted (yaml.safe_dump, as
// Model.to_yaml writes MLmodel), which folds long double-quoted scalars
// differently from libyaml: it breaks before a space or after an escape
// once the line would pass 80 columns, ending the line with '\\'.
void write_double_pure(Writer& w, const std::vector<Ch>& s) {
  w.indicator('"', true);
  auto escaped = [&](std::uint32_t v) {
    if (v == '"' || v == '\\' || v == 0x85 || v == 0x2028 || v == 0x2029 || v == 0xFEFF) return true;
    if (v >= 0x20 && v <= 0x7E) return false;
    return !(w.unicode && ((v >= 0xA0 && v <= 0xD7FF) || (v >= 0xE000 && v <= 0xFFFD)));
  };
  auto put_text = [&](std::size_t from, std::size_t to) {
    for (std::size_t k = from; k < to; ++k) w.out.append(s[k].bytes);
    w.column += static_cast<int>(to - from);
  };
  auto put_ascii = [&](std::string_view t) {
    w.out.append(t);
    w.column += static_cast<int>(t.size());
  };
  const long long n = static_cast<long long>(s.size());
  long long start = 0, end = 0;
  while (end <= n) {
    bool has = end < n;
    std::uint32_t ch = has ? s[static_cast<std::size_t>(end)].cp : 0;
    if (!has || escaped(ch)) {
      if (start < end) {
        put_text(static_cast<std::size_t>(start), static_cast<std::size_t>(end));
        start = end;
      }
      if (has) {
        static const char* kHex = "0123456789ABCDEF";
        std::string e = "\\";
        switch (ch) {
          case 0x00: e += '0'; break;
          case 0x07: e += 'a'; break;
          case 0x08: e += 'b'; break;
          case 0x09: e += 't'; break;
          case 0x0A: e += 'n'; break;
          case 0x0B: e += 'v'; break;
          case 0x0C: e += 'f'; break;
          case 0x0D: e += 'r'; break;
          case 0x1B: e += 'e'; break;
          case 0x22: e += '"'; break;
          case 0x5C: e += '\\'; break;
          case 0x85: e += 'N'; break;
          case 0xA0: e += '_'; break;
          case 0x2028: e += 'L'; break;
          case 0x2029: e += 'P'; break;
          default: {
            int width = ch <= 0xFF ? 2 : ch <= 0xFFFF ? 4 : 8;
            e += width == 2 ? 'x' : width == 4 ? 'u' : 'U';
            for (int k = (width - 1) * 4; k >= 0; k -= 4) e += kHex[(ch >> k) & 0x0F];
          }
        }
        put_ascii(e);
        start = end + 1;
      }
    }
    if (w.allow_breaks && end > 0 && end < n - 1 && ((has && ch == ' ') || start >= end) &&
        w.column + (end - start) > kBestWidth) {
      if (start < end) {
        put_text(static_cast<std::size_t>(start), static_cast<std::size_t>(end));
        start = end;
      }
      put_ascii("\\");
      w.write_indent();
      w.whitespace = false;
      w.indention = false;
      if (s[static_cast<std::size_t>(start)].cp == ' ') put_ascii("\\");
    }
    ++end;
  }
  w.indicator('"', false);
}

void begin_key(Writer& w, std::string_view key) {
  w.out.append(key);
  w.column = static_cast<int>(key.size());
  w.indicator(':', false);
}

}  // namespace

namespace {

// PyYAML's implicit resolvers (resolver.py, YAML 1.1), written out as
// single-pass scanners: no regular-expression engine runs on a value (issue
// 15: std::regex recursed once per character and overflowed the stack on a
// name of 30,000 digits). Each scanner matches the whole value, as
// resolver.py's `regexp.match` with a final `$` does; Python's `$` also
// matches before a final '\n', but a value with a line break is never plain.
struct Scan {
  std::string_view s;
  std::size_t i = 0;
  bool end() const { return i == s.size(); }
  bool peek(char c) const { return i < s.size() && s[i] == c; }
  bool eat(char c) {
    if (!peek(c)) return false;
    ++i;
    return true;
  }
  bool eat_any(std::string_view set) {
    if (i < s.size() && set.find(s[i]) != std::string_view::npos) return ++i, true;
    return false;
  }
  bool digit() { return i < s.size() && s[i] >= '0' && s[i] <= '9' ? (++i, true) : false; }
  void digits_or_underscores() {
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_')) ++i;
  }
  void sign() { (void)eat_any("-+"); }
  // (?::[0-5]?[0-9])+ : one or more ':' groups of one digit, or two with the
  // first in 0-5. Groups end at ':' or at what follows, so no choice is made.
  bool sexagesimal_groups() {
    int groups = 0;
    while (peek(':')) {
      ++i;
      std::size_t start = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 2) ++i;
      std::size_t n = i - start;
      if (n == 0) return false;
      if (n == 2 && s[start] > '5') return false;
      ++groups;
    }
    return groups > 0;
  }
};

bool one_of(std::string_view v, std::initializer_list<std::string_view> words) {
  for (std::string_view w : words)
    if (v == w) return true;
  return false;
}

bool is_yaml_bool(std::string_view v) {
  return one_of(v, {"yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on",
                    "On", "ON", "off", "Off", "OFF"});
}

bool is_yaml_null(std::string_view v) { return one_of(v, {"", "~", "null", "Null", "NULL"}); }

bool is_yaml_int(std::string_view v) {
  // [-+]?0b[0-1_]+ | [-+]?0[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+
  // | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
  Scan c{v};
  c.sign();
  if (c.eat('0')) {
    if (c.end()) return true;
    if (c.eat('b')) {
      std::size_t start = c.i;
      while (c.eat_any("01_")) {
      }
      return c.i > start && c.end();
    }
    if (c.eat('x')) {
      std::size_t start = c.i;
      while (c.eat_any("0123456789abcdefABCDEF_")) {
      }
      return c.i > start && c.end();
    }
    while (c.eat_any("01234567_")) {
    }
    return c.end();
  }
  if (!c.eat_any("123456789")) return false;
  c.digits_or_underscores();
  if (c.end()) return true;
  return c.sexagesimal_groups() && c.end();
}

bool is_yaml_float(std::string_view v) {
  // [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)? | \.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
  // | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]* | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
  auto exponent_to_end = [](Scan& c) {
    if (c.end()) return true;
    if (!c.eat_any("eE") || !c.eat_any("-+") || !c.digit()) return false;
    while (c.digit()) {
    }
    return c.end();
  };
  if (one_of(v, {".nan", ".NaN", ".NAN"})) return true;
  Scan c{v};
  bool signed_ = c.eat_any("-+");
  if (c.peek('.')) {
    std::string_view rest = v.substr(c.i);
    if (one_of(rest, {".inf", ".Inf", ".INF"})) return true;
    if (signed_) return false;
    ++c.i;
    if (!c.digit()) return false;
    c.digits_or_underscores();
    return exponent_to_end(c);
  }
  if (!c.digit()) return false;
  c.digits_or_underscores();
  if (c.peek(':')) {
    if (!c.sexagesimal_groups() || !c.eat('.')) return false;
    c.digits_or_underscores();
    return c.end();
  }
  if (!c.eat('.')) return false;
  c.digits_or_underscores();
  return exponent_to_end(c);
}

bool is_yaml_timestamp(std::string_view v) {
  // [0-9]{4}-[0-9]{2}-[0-9]{2}
  // | [0-9]{4}-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9]{2}:[0-9]{2}
  //   (?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9]{2})?))?
  Scan c{v};
  for (int k = 0; k < 4; ++k)
    if (!c.digit()) return false;
  if (!c.eat('-') || !c.digit()) return false;
  bool two = c.digit();
  if (!c.eat('-') || !c.digit()) return false;
  bool two2 = c.digit();
  if (c.end()) return two && two2;
  if (!c.eat_any("Tt")) {
    if (!c.eat_any(" \t")) return false;
    while (c.eat_any(" \t")) {
    }
  }
  if (!c.digit()) return false;
  (void)c.digit();
  if (!c.eat(':') || !c.digit() || !c.digit() || !c.eat(':') || !c.digit() || !c.digit()) return false;
  if (c.eat('.'))
    while (c.digit()) {
    }
  std::size_t before_space = c.i;
  while (c.eat_any(" \t")) {
  }
  if (c.end()) return c.i == before_space;  // spaces only before a zone
  if (c.eat('Z')) return c.end();
  if (!c.eat_any("-+") || !c.digit()) return false;
  (void)c.digit();
  if (c.eat(':') && !(c.digit() && c.digit())) return false;
  return c.end();
}

}  // namespace

bool yaml_plain_is_ambiguous(std::string_view value) {
  return is_yaml_bool(value) || is_yaml_float(value) || is_yaml_int(value) || value == "<<" ||
         is_yaml_null(value) || is_yaml_timestamp(value) || value == "=" || value == "!" || value == "&" ||
         value == "*";
}

std::optional<std::int64_t> yaml11_plain_int(std::string_view value) {
  if (!is_yaml_int(value)) return std::nullopt;
  std::string v;
  for (char c : value)
    if (c != '_') v += c;
  bool negative = false;
  std::size_t i = 0;
  if (i < v.size() && (v[i] == '-' || v[i] == '+')) negative = v[i++] == '-';
  std::string_view digits = std::string_view(v).substr(i);
  unsigned __int128 acc = 0;
  const unsigned __int128 kLimit = static_cast<unsigned __int128>(INT64_MAX) + (negative ? 1 : 0);
  auto push = [&](unsigned base, unsigned d) {
    acc = acc * base + d;
    return acc <= kLimit;
  };
  auto digit_value = [](char c) -> unsigned {
    if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<unsigned>(c - 'a' + 10);
    return static_cast<unsigned>(c - 'A' + 10);
  };
  if (digits == "0") {
    acc = 0;
  } else if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'b' || digits[1] == 'x')) {
    unsigned base = digits[1] == 'b' ? 2 : 16;
    for (char c : digits.substr(2))
      if (!push(base, digit_value(c))) return std::nullopt;
  } else if (digits.find(':') != std::string_view::npos) {
    // Sexagesimal: each ':'-separated part is a base-60 digit.
    std::size_t start = 0;
    for (;;) {
      std::size_t colon = digits.find(':', start);
      std::string_view part = digits.substr(start, colon == std::string_view::npos ? colon : colon - start);
      unsigned d = 0;
      for (char c : part) d = d * 10 + digit_value(c);
      if (start == 0) {
        acc = 0;
        for (char c : part)
          if (!push(10, digit_value(c))) return std::nullopt;
      } else if (!push(60, d)) {
        return std::nullopt;
      }
      if (colon == std::string_view::npos) break;
      start = colon + 1;
    }
  } else {
    unsigned base = digits[0] == '0' ? 8 : 10;
    for (char c : digits)
      if (!push(base, digit_value(c))) return std::nullopt;
  }
  if (negative) return acc == kLimit ? INT64_MIN : -static_cast<std::int64_t>(acc);
  return static_cast<std::int64_t>(acc);
}

namespace {

// Chooses PyYAML's style for a string scalar and writes it at the writer's
// position (after "key:" or "-", or at the start of a key).
void write_string(Writer& w, std::string_view value) {
  std::vector<Ch> s = decode(value);
  Analysis a = analyze(s, w.unicode);
  enum { kPlain, kSingle, kDouble } style = kPlain;
  if (!a.block_plain_allowed || yaml_plain_is_ambiguous(value)) style = kSingle;
  if (style == kSingle && !a.single_quoted_allowed) style = kDouble;
  switch (style) {
    case kPlain: write_plain(w, s); break;
    case kSingle: write_single(w, s); break;
    case kDouble:
      if (w.pure) write_double_pure(w, s);
      else write_double(w, s);
      break;
  }
}

void write_token(Writer& w, std::string_view token) {
  if (!w.whitespace) w.put(' ');
  w.out.append(token);
  w.column += static_cast<int>(token.size());
  w.whitespace = false;
  w.indention = false;
}

// A scalar value (not a collection) after "key:" or "-".
void write_scalar(Writer& w, const YamlNode& v) {
  switch (v.kind) {
    case YamlNode::Kind::kNull: write_token(w, "null"); break;
    case YamlNode::Kind::kBool: write_token(w, v.flag ? "true" : "false"); break;
    case YamlNode::Kind::kInt: {
      std::string n;
      append_int(n, v.num);
      write_token(w, n);
      break;
    }
    case YamlNode::Kind::kStr: write_string(w, v.str); break;
    default: break;
  }
}

// "<indent spaces><key>:" as libyaml writes a simple key of a block mapping
// at nesting `depth`.
struct DumpStyle {
  bool unicode = true;
  bool pure = false;
};

Writer start_entry(std::string& out, int depth, std::string_view key, DumpStyle style) {
  Writer w{out};
  w.unicode = style.unicode;
  w.pure = style.pure;
  w.indent = depth * kIndentStep + kIndentStep;
  w.out.append(static_cast<std::size_t>(depth * kIndentStep), ' ');
  w.column = depth * kIndentStep;
  w.whitespace = true;
  w.indention = true;
  w.allow_breaks = false;  // a simple key is written on one line
  write_string(w, key);
  w.allow_breaks = true;
  w.indicator(':', false);
  return w;
}

void dump_mapping(std::string& out, const YamlNode& map, int depth, DumpStyle style) {
  std::vector<const std::pair<std::string, YamlNode>*> entries;
  entries.reserve(map.entries.size());
  for (const auto& e : map.entries) entries.push_back(&e);
  // sort_keys=True: Python compares str by code point, which is UTF-8 byte order.
  std::sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  for (const auto* e : entries) {
    const YamlNode& v = e->second;
    Writer w = start_entry(out, depth, e->first, style);
    if (v.kind == YamlNode::Kind::kMap && !v.entries.empty()) {
      out += '\n';
      dump_mapping(out, v, depth + 1, style);
    } else if (v.kind == YamlNode::Kind::kList && !v.items.empty()) {
      out += '\n';
      for (const YamlNode& item : v.items) {
        // An indentless sequence: "- " at the mapping's own indent.
        Writer iw{out};
        iw.unicode = style.unicode;
        iw.pure = style.pure;
        iw.indent = depth * kIndentStep + kIndentStep;
        out.append(static_cast<std::size_t>(depth * kIndentStep), ' ');
        iw.column = depth * kIndentStep;
        iw.whitespace = true;
        iw.indention = true;
        iw.indicator('-', true);
        iw.indention = true;  // '-' is an indentation indicator
        write_scalar(iw, item);
        out += '\n';
      }
    } else if (v.kind == YamlNode::Kind::kMap) {
      write_token(w, "{}");
      out += '\n';
    } else if (v.kind == YamlNode::Kind::kList) {
      write_token(w, "[]");
      out += '\n';
    } else {
      write_scalar(w, v);
      out += '\n';
    }
  }
}

}  // namespace

void yaml_emit_str(std::string& out, std::string_view key, std::string_view value) {
  Writer w{out};
  begin_key(w, key);
  write_string(w, value);
  out += '\n';
}

YamlNode YamlNode::string(std::string_view s) {
  YamlNode n;
  n.kind = Kind::kStr;
  n.str = s;
  return n;
}
YamlNode YamlNode::integer(std::int64_t v) {
  YamlNode n;
  n.kind = Kind::kInt;
  n.num = v;
  return n;
}
YamlNode YamlNode::boolean(bool v) {
  YamlNode n;
  n.kind = Kind::kBool;
  n.flag = v;
  return n;
}
YamlNode YamlNode::list() {
  YamlNode n;
  n.kind = Kind::kList;
  return n;
}
YamlNode YamlNode::map() {
  YamlNode n;
  n.kind = Kind::kMap;
  return n;
}

YamlNode& YamlNode::set(std::string_view key, YamlNode value) {
  for (auto& [k, v] : entries)
    if (k == key) return v = std::move(value);
  entries.emplace_back(std::string(key), std::move(value));
  return entries.back().second;
}

const YamlNode* YamlNode::find(std::string_view key) const {
  for (const auto& [k, v] : entries)
    if (k == key) return &v;
  return nullptr;
}

std::string yaml_dump(const YamlNode& mapping, PyYamlDumper dumper) {
  std::string out;
  if (mapping.entries.empty()) return "{}\n";
  DumpStyle style;
  style.unicode = dumper == PyYamlDumper::kWriteYaml;
  style.pure = dumper == PyYamlDumper::kSafeDump;
  dump_mapping(out, mapping, 0, style);
  return out;
}

void yaml_emit_int(std::string& out, std::string_view key, std::int64_t value) {
  out.append(key);
  out += ": ";
  append_int(out, value);
  out += '\n';
}

void yaml_emit_null(std::string& out, std::string_view key) {
  out.append(key);
  out += ": null\n";
}

void yaml_emit_empty_list(std::string& out, std::string_view key) {
  out.append(key);
  out += ": []\n";
}

}  // namespace mlruns::detail

namespace mlruns {

std::string yaml_quote_if_ambiguous(std::string_view value) {
  // What the writer puts after "key: ", without the line's end.
  std::string line;
  detail::yaml_emit_str(line, "k", value);
  line.erase(0, 3);
  if (!line.empty() && line.back() == '\n') line.pop_back();
  return line;
}

}  // namespace mlruns
