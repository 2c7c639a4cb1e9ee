// Command lines of the benchmarks under tools/: every one answers --help/-h
// with its usage on stdout (exit 0), and refuses an unknown flag, a flag
// without its value or a value that is not a whole number with one line on
// stderr naming it (exit 2), as the mlruns CLI does.
#pragma once

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>

namespace bench {

[[noreturn]] inline void die(const std::string& tool, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", tool.c_str(), message.c_str());
  std::exit(2);
}

// `text`, the value of `flag`, as a whole number of at least `min`; exits 2
// naming both otherwise ("bench_rank: --runs: 'ten' is not a whole number >= 1").
inline long long whole_number(const std::string& tool, const std::string& flag, const std::string& text,
                              long long min = 1) {
  long long value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value < min)
    die(tool, flag + ": '" + text + "' is not a whole number >= " + std::to_string(min) + "; see '" + tool +
                  " --help'");
  return value;
}

// The error for a word no flag of `tool` is.
[[noreturn]] inline void unknown_flag(const std::string& tool, const std::string& word) {
  die(tool, "unknown option '" + word + "'; see '" + tool + " --help'");
}

// The error for `flag` given last, without its value.
[[noreturn]] inline void missing_value(const std::string& tool, const std::string& flag) {
  die(tool, flag + " needs a value; see '" + tool + " --help'");
}

}  // namespace bench
