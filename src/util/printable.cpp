#include "util/printable.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>

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

std::string escape_control(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

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
