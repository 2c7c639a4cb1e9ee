#include "util/printable.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <utility>

#include <utf8proc.h>

#include "mlruns/text.h"

namespace mlruns::detail {
namespace {

constexpr const char* kHex = "0123456789abcdef";

std::uint64_t seed() {
  static std::atomic<std::uint64_t> counter{0};
  std::uint64_t s = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
                    (static_cast<std::uint64_t>(::getpid()) << 32) ^ (counter.fetch_add(1) * 0x9E3779B97F4A7C15ull);
  try {
    std::random_device rd;  // may throw where no entropy source exists
    s ^= (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  } catch (...) {
  }
  return s;
}

}  // namespace

std::string escape_control(std::string_view s) { return terminal_safe(s, /*keep_newlines=*/false); }

namespace {
bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }
}  // namespace

std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  std::size_t end = max_bytes;
  // Back up to the start of the sequence that the cut falls into.
  while (end > 0 && is_continuation(static_cast<unsigned char>(s[end]))) --end;
  return s.substr(0, end);
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if (!is_continuation(c)) ++n;
  return n;
}

std::string printable_prefix(std::string_view s, std::size_t max_chars) {
  std::size_t chars = 0, i = 0;
  for (; i < s.size(); ++i) {
    if (is_continuation(static_cast<unsigned char>(s[i]))) continue;
    if (chars == max_chars) break;
    ++chars;
  }
  std::string out = escape_control(s.substr(0, i));
  if (i < s.size()) out += "...";
  return out;
}

std::string random_hex(int digits) {
  thread_local std::mt19937_64 rng{seed()};
  std::string out;
  std::uint64_t r = rng();
  for (int i = 0; i < digits; ++i, r >>= 4) {
    if (i % 16 == 15) r = rng();
    out += kHex[r & 15];
  }
  return out;
}

}  // namespace mlruns::detail

namespace mlruns {
namespace {

// The code point of the UTF-8 sequence at s[i] and its length; len 0 if it is
// not valid UTF-8 (overlong forms, surrogates and values above U+10FFFF
// included, as Python's strict decoder refuses them).
std::pair<char32_t, std::size_t> decode_utf8(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = b(0);
  std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
  if (len == 0 || c > 0xF4 || i + len > s.size()) return {0, 0};
  char32_t cp = c & (0x7F >> len);
  for (std::size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xC0) != 0x80) return {0, 0};
    cp = (cp << 6) | (b(k) & 0x3F);
  }
  static const char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {0, 0};
  return {cp, len};
}

bool is_bidi_control(char32_t cp) {
  return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

void append_hex(std::string& out, const char* prefix, unsigned v, int digits) {
  static constexpr const char* kDigits = "0123456789abcdef";
  out += prefix;
  for (int k = digits - 1; k >= 0; --k) out += kDigits[(v >> (4 * k)) & 15];
}

}  // namespace

std::string terminal_safe(std::string_view s, bool keep_newlines) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == '\n' && keep_newlines) out += '\n';
      else if (c == 0x1b) out += "\\e";
      else if (c < 0x20 || c == 0x7f) append_hex(out, "\\x", c, 2);
      else out += static_cast<char>(c);
      ++i;
      continue;
    }
    auto [cp, len] = decode_utf8(s, i);
    if (len == 0) {
      append_hex(out, "\\x", c, 2);
      ++i;
    } else if ((cp >= 0x80 && cp <= 0x9F) || is_bidi_control(cp)) {
      append_hex(out, "\\u", static_cast<unsigned>(cp), 4);
      i += len;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::size_t display_width(std::string_view s) {
  std::size_t cells = 0;
  for (std::size_t i = 0; i < s.size();) {
    auto [cp, len] = decode_utf8(s, i);
    if (len == 0) {  // not terminal_safe text: count the byte
      ++cells;
      ++i;
      continue;
    }
    int w = ::utf8proc_charwidth(static_cast<utf8proc_int32_t>(cp));
    cells += w > 0 ? static_cast<std::size_t>(w) : 0;
    i += len;
  }
  return cells;
}

std::size_t width_prefix_bytes(std::string_view s, std::size_t width) {
  std::size_t cells = 0, i = 0;
  while (i < s.size()) {
    auto [cp, len] = decode_utf8(s, i);
    std::size_t n = len == 0 ? 1 : len;
    int w = len == 0 ? 1 : ::utf8proc_charwidth(static_cast<utf8proc_int32_t>(cp));
    std::size_t cw = w > 0 ? static_cast<std::size_t>(w) : 0;
    if (cells + cw > width) break;
    cells += cw;
    i += n;
  }
  return i;
}

std::string fit_width(std::string_view s, std::size_t width) {
  if (display_width(s) <= width) return std::string(s);
  if (width == 0) return {};
  std::string out;
  std::size_t cells = 0;
  for (std::size_t i = 0; i < s.size();) {
    auto [cp, len] = decode_utf8(s, i);
    std::size_t n = len == 0 ? 1 : len;
    int w = len == 0 ? 1 : ::utf8proc_charwidth(static_cast<utf8proc_int32_t>(cp));
    std::size_t cw = w > 0 ? static_cast<std::size_t>(w) : 0;
    if (cells + cw > width - 1) break;  // one cell for the ellipsis
    cells += cw;
    out.append(s.substr(i, n));
    i += n;
  }
  out += "\xe2\x80\xa6";  // …
  return out;
}

}  // namespace mlruns
