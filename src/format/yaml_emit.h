// meta.yaml bytes exactly as PyYAML writes them (yaml.dump with libyaml's
// CSafeDumper, default_flow_style=False, allow_unicode=True, sort_keys=True;
// spec §2.1): a top-level block mapping of scalars. Strings get PyYAML's
// style choice (plain, '...' or "..."), YAML 1.1 implicit-type quoting
// ('0', 'yes', '2024-01-01', '1:20'), escapes ("\t", "\U0001F642") and
// folding of long scalars at 80 columns with a 2-space continuation indent.
// The caller adds keys in sorted order. Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <optional>
#include <string_view>

namespace mlruns::detail {

// True if PyYAML's resolver would read `value`, written plain, as something
// other than a string (int, float, bool, null, timestamp, merge, value).
bool yaml_plain_is_ambiguous(std::string_view value);

// A plain scalar as PyYAML's loader constructs an int (resolver.py's int
// pattern, then constructor.py's construct_yaml_int: '_' dropped, 0b, 0x,
// leading-0 octal, sexagesimal 1:30). nullopt if it is not an int to PyYAML
// or does not fit 64 bits.
std::optional<std::int64_t> yaml11_plain_int(std::string_view value);

// Appends "key: <value as PyYAML writes it>\n". REQUIRES: key is a plain
// ASCII word ([a-z_]); value is valid UTF-8.
void yaml_emit_str(std::string& out, std::string_view key, std::string_view value);
void yaml_emit_int(std::string& out, std::string_view key, std::int64_t value);
void yaml_emit_null(std::string& out, std::string_view key);
// "key: []" (an empty list, as MLflow writes the legacy run `tags`).
void yaml_emit_empty_list(std::string& out, std::string_view key);

}  // namespace mlruns::detail
