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
