// Making untrusted text safe to show and unique names safe to create.
#pragma once

#include <string>
#include <string_view>

namespace mlruns::detail {

// `s` with control bytes (and DEL) written as \xNN, so that a hostile name
// cannot drive the terminal an error or warning is printed on.
std::string escape_control(std::string_view s);

// `digits` random hex digits for temp names. Never throws: where no entropy
// source exists it falls back to the clock, the pid and a counter.
std::string random_hex(int digits);

}  // namespace mlruns::detail
