// meta.yaml bytes exactly as PyYAML writes them (yaml.dump with libyaml's
// CSafeDumper, default_flow_style=False, allow_unicode=True, sort_keys=True;
// spec §2.1): a top-level block mapping of scalars. Strings get PyYAML's
// style choice (plain, '...' or "..."), YAML 1.1 implicit-type quoting
// ('0', 'yes', '2024-01-01', '1:20'), escapes ("\t", "\U0001F642") and
// folding of long scalars at 80 columns with a 2-space continuation indent.
// The caller adds keys in sorted order. yaml_dump writes whole documents
// with nested mappings and lists (MLmodel, the Model Registry's meta.yaml).
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

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

// A value as MLflow's Python dicts hold them before yaml.dump: str, int,
// bool, None, a list of scalars, or a dict.
struct YamlNode {
  enum class Kind { kNull, kStr, kInt, kBool, kList, kMap };
  Kind kind = Kind::kNull;
  std::string str;                                       // kStr
  std::int64_t num = 0;                                  // kInt
  bool flag = false;                                     // kBool
  std::vector<YamlNode> items;                           // kList: scalars only
  std::vector<std::pair<std::string, YamlNode>> entries;  // kMap, any order (dumped sorted)

  static YamlNode null() { return {}; }
  static YamlNode string(std::string_view s);
  static YamlNode integer(std::int64_t v);
  static YamlNode boolean(bool v);
  static YamlNode list();
  static YamlNode map();
  // kMap: adds `key` or replaces its value; returns the stored value.
  YamlNode& set(std::string_view key, YamlNode value);
  // kMap: the value of `key`, or null if absent.
  const YamlNode* find(std::string_view key) const;
  bool is_scalar() const { return kind != Kind::kList && kind != Kind::kMap; }
};

// Which PyYAML call MLflow makes for a file.
enum class PyYamlDumper {
  // yaml.dump(Dumper=CSafeDumper, allow_unicode=True): MLflow's write_yaml
  // and overwrite_yaml (every meta.yaml, the Model Registry's too).
  kWriteYaml,
  // yaml.safe_dump(): the pure-Python SafeDumper with allow_unicode=False,
  // as Model.to_yaml writes MLmodel: non-ASCII text is escaped in double
  // quotes, which fold at 80 columns with a trailing '\\'.
  kSafeDump,
};

// A top-level mapping as PyYAML's dump(default_flow_style=False,
// sort_keys=True) writes it (spec §2.1): keys sorted by code point, nested
// mappings indented by 2, lists of a mapping not indented ("- item"),
// empty ones as {} and [], scalars as yaml_emit_str with the continuation
// indent of their depth. REQUIRES: keys are non-empty single-line valid
// UTF-8 of at most 100 bytes (PyYAML writes others as "? " keys); list
// items are scalars.
std::string yaml_dump(const YamlNode& mapping, PyYamlDumper dumper);

}  // namespace mlruns::detail
