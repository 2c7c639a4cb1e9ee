// Editing an existing meta.yaml in place, line by line: the maintenance tools
// (fsck --repair, relocate, reap) change one or two keys and must keep every
// other byte as it was (unknown keys, MLflow's own quoting, a `tags:` block).
// New values are emitted with the writer's PyYAML-exact emitter (yaml_emit.h)
// and the result is re-parsed to prove that only the intended keys changed.
//
// Thread safety: a MetaDoc is a value; the functions are pure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlruns/status.h"

namespace mlruns::detail {

class MetaDoc {
 public:
  // Splits `text` into top-level "key: ..." entries, each with its
  // continuation lines (folded scalars, nested mappings). Fails with
  // kCorruption if the text is not a block mapping of plain keys (empty,
  // flow style, a document marker, a line before the first key).
  static Result<MetaDoc> parse(std::string_view text);

  bool has(std::string_view key) const;
  // The bytes of one entry, "key: value\n" plus continuation lines.
  std::optional<std::string> raw(std::string_view key) const;
  std::vector<std::string> keys() const;

  // Replace the entry, or insert it before the first key that sorts after it
  // (MLflow writes keys sorted, spec §2.1).
  void set_str(std::string_view key, std::string_view value);
  void set_int(std::string_view key, std::int64_t value);
  void set_null(std::string_view key);
  void erase(std::string_view key);

  std::string text() const;

 private:
  void put(std::string_view key, std::string entry);
  struct Entry {
    std::string key;
    std::string bytes;
  };
  std::vector<Entry> entries_;
};

// What a key should read back as after an edit: a string, an int, null, or
// absent (nullopt). Used by verify_meta_edit.
struct MetaValue {
  enum class Kind { kString, kInt, kNull, kAbsent } kind = Kind::kAbsent;
  std::string text;  // the string, or the int in decimal
  static MetaValue str(std::string_view s) { return {Kind::kString, std::string(s)}; }
  static MetaValue integer(std::int64_t v) { return {Kind::kInt, std::to_string(v)}; }
  static MetaValue null() { return {Kind::kNull, {}}; }
  static MetaValue absent() { return {Kind::kAbsent, {}}; }
};

// Parses both texts with a YAML parser and checks that every top-level key
// not in `changed` is identical in both (same scalar, same quoting style
// class, same nested content) and that every key in `changed` reads back as
// its MetaValue. kCorruption naming the first difference otherwise.
Status verify_meta_edit(std::string_view before, std::string_view after,
                        const std::map<std::string, MetaValue>& changed);

}  // namespace mlruns::detail
