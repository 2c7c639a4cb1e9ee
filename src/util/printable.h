// Making untrusted text safe to show and unique names safe to create.
#pragma once

#include <string>
#include <string_view>

namespace mlruns::detail {

// `s` with control bytes (and DEL) written as \xNN, so that a hostile name
// cannot drive the terminal an error or warning is printed on.
std::string escape_control(std::string_view s);

// The longest prefix of `s` of at most `max_bytes` bytes that does not end
// inside a UTF-8 sequence (a lead byte whose continuation bytes were cut).
std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes);

// Text for a message: at most `max_chars` code points of `s` (never cut
// inside a UTF-8 sequence, so JSON and terminals get valid UTF-8), "..."
// appended if something was cut, control bytes escaped. The one helper for
// shortening names and values in errors, warnings and findings.
std::string printable_prefix(std::string_view s, std::size_t max_chars);

// Code points in `s` (bytes that are not UTF-8 continuation bytes): what
// Python's len() counts for valid UTF-8, and MLflow's length limits use.
std::size_t utf8_length(std::string_view s);

// `digits` random hex digits for temp names. Never throws: where no entropy
// source exists it falls back to the clock, the pid and a counter.
std::string random_hex(int digits);

}  // namespace mlruns::detail
