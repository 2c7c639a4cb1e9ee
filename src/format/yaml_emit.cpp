#include "format/yaml_emit.h"

#include <regex>
#include <vector>

#include "format/py_format.h"

// A transcription of the decisions libyaml 0.2.5 makes in
// yaml_emitter_analyze_scalar / select_scalar_style / write_*_scalar for a
// value in a top-level block mapping (indent 2, best_width 80, unicode on),
// with PyYAML's YAML 1.1 implicit resolvers deciding `plain_implicit`.
// Verified against tests/fixtures/pyyaml_scalars.json.

namespace mlruns::detail {
namespace {

constexpr int kBestWidth = 80;
constexpr int kIndent = 2;

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

struct Analysis {
  bool multiline = false;
  bool block_plain_allowed = true;
  bool single_quoted_allowed = true;
};

Analysis analyze(const std::vector<Ch>& s) {
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
    if (!is_printable(c)) special = true;
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
    if (!indention || column > kIndent || (column == kIndent && !whitespace)) put_break();
    while (column < kIndent) put(' ');
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
      if (!spaces && w.column > kBestWidth && !(i + 1 < s.size() && is_space(s[i + 1].cp))) {
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
      if (!spaces && w.column > kBestWidth && i != 0 && i + 1 != s.size() &&
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
    if (!is_printable(v) || v == 0xFEFF || is_break(v) || v == '"' || v == '\\') {
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
      if (!spaces && w.column > kBestWidth && i != 0 && i + 1 != s.size()) {
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

void begin_key(Writer& w, std::string_view key) {
  w.out.append(key);
  w.column = static_cast<int>(key.size());
  w.indicator(':', false);
}

}  // namespace

bool yaml_plain_is_ambiguous(std::string_view value) {
  // PyYAML's implicit resolvers (resolver.py), YAML 1.1.
  static const std::regex kPatterns[] = {
      std::regex(R"(^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$)"),
      std::regex(R"(^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?)"
                 R"(|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$)"),
      std::regex(R"(^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)"
                 R"(|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$)"),
      std::regex(R"(^(?:<<)$)"),
      std::regex(R"(^(?:~|null|Null|NULL|)$)"),
      std::regex(R"(^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9])"
                 R"(|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?)"
                 R"(:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$)"),
      std::regex(R"(^(?:=)$)"),
      std::regex(R"(^(?:!|&|\*)$)"),
  };
  // Python's '$' also matches before a final '\n'; such values are never
  // plain (they contain a line break), so the difference cannot show.
  std::string s(value);
  for (const std::regex& re : kPatterns)
    if (std::regex_match(s, re)) return true;
  return false;
}

void yaml_emit_str(std::string& out, std::string_view key, std::string_view value) {
  Writer w{out};
  begin_key(w, key);
  std::vector<Ch> s = decode(value);
  Analysis a = analyze(s);
  enum { kPlain, kSingle, kDouble } style = kPlain;
  if (!a.block_plain_allowed || yaml_plain_is_ambiguous(value)) style = kSingle;
  if (style == kSingle && !a.single_quoted_allowed) style = kDouble;
  switch (style) {
    case kPlain: write_plain(w, s); break;
    case kSingle: write_single(w, s); break;
    case kDouble: write_double(w, s); break;
  }
  out += '\n';
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
