// Helpers shared by the maintenance verbs (fsck, relocate, gc, reap).
#pragma once

#include <charconv>
#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "mlruns/status.h"

namespace mlruns::cli {

// mlflow gc's duration form "#d#h#m#s" in any combination, e.g. "30d",
// "1d12h", "45m", "90s". Throws mlruns::Error naming the option otherwise.
inline std::int64_t parse_duration_ms(std::string_view text, std::string_view what) {
  std::int64_t total = 0;
  std::string_view rest = text;
  if (rest.empty()) throw Error(Status::invalid_argument(std::string(what) + " ''", "expected e.g. 30d, 12h, 45m, 90s"));
  while (!rest.empty()) {
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
    if (ec != std::errc() || p == rest.data() + rest.size() || n < 0)
      throw Error(Status::invalid_argument(std::string(what) + " '" + std::string(text) + "'",
                                           "expected #d#h#m#s, e.g. 30d, 1d12h, 45m, 90s"));
    std::int64_t unit = 0;
    switch (*p) {
      case 'd': unit = 86400000; break;
      case 'h': unit = 3600000; break;
      case 'm': unit = 60000; break;
      case 's': unit = 1000; break;
      default:
        throw Error(Status::invalid_argument(std::string(what) + " '" + std::string(text) + "'",
                                             "unit must be d, h, m or s"));
    }
    total += n * unit;
    rest.remove_prefix(static_cast<std::size_t>(p - rest.data()) + 1);
  }
  return total;
}

// Notes of a maintenance verb on stderr, never one line per run of a big
// tree: with `all` (--verbose) every note; else the first kShownNotes and one
// line counting the rest (--json carries them all).
inline void print_notes(const std::vector<std::string>& notes, bool all) {
  constexpr std::size_t kShownNotes = 3;
  for (std::size_t i = 0; i < notes.size() && (all || i < kShownNotes); ++i)
    std::cerr << "mlruns: note: " << notes[i] << "\n";
  if (!all && notes.size() > kShownNotes)
    std::cerr << "mlruns: note: " << notes.size() - kShownNotes
              << " more note(s) like these; --verbose lists them all, --json has them\n";
}

}  // namespace mlruns::cli
