// YAML scalars as MLflow writes them into a tree (spec §13.1), for code
// that writes a tree by hand (tests, the benchmarks under tools/).
#pragma once

#include <string>
#include <string_view>

namespace mlruns {

// A string as the YAML scalar MLflow's yaml.safe_dump writes for it in a
// meta.yaml (spec §13.1, §14.4): plain when PyYAML reads it back as the
// same string, else quoted, because YAML 1.1 would type it otherwise:
// "0123" (an int) -> "'0123'", "0b101" -> "'0b101'", "yes" (a bool) ->
// "'yes'", "3c5a..." -> "3c5a...". The library's own writer uses the same
// rule; for a tree written by hand (tests, benchmarks). For a short
// one-line value such as an id or a name: a long one may be folded over
// several lines, as PyYAML does.
std::string yaml_quote_if_ambiguous(std::string_view value);

}  // namespace mlruns
