#include "format/meta_edit.h"

#include <algorithm>

#include <yaml-cpp/yaml.h>

#include "format/yaml_emit.h"
#include "util/printable.h"

namespace mlruns::detail {
namespace {

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// "key:" at column 0 followed by a space or the end of the line.
std::optional<std::string> entry_key(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && is_key_char(line[i])) ++i;
  if (i == 0 || i >= line.size() || line[i] != ':') return std::nullopt;
  if (i + 1 < line.size() && line[i + 1] != ' ' && line[i + 1] != '\r' && line[i + 1] != '\n') return std::nullopt;
  return std::string(line.substr(0, i));
}

}  // namespace

Result<MetaDoc> MetaDoc::parse(std::string_view text) {
  MetaDoc doc;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return fail(Status::corruption("meta.yaml", "file is empty"));
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl == std::string_view::npos ? text.size() : nl + 1);
    text.remove_prefix(line.size());
    bool continuation = line.empty() || line[0] == ' ' || line[0] == '\t' || line[0] == '\n' ||
                        line[0] == '\r' || line[0] == '#' || line[0] == '-';
    if (continuation) {
      // Comments and blank lines before the first key have no entry to join.
      if (doc.entries_.empty()) return fail(Status::corruption("meta.yaml", "text before the first key"));
      doc.entries_.back().bytes.append(line);
      continue;
    }
    auto key = entry_key(line);
    if (!key) return fail(Status::corruption("meta.yaml", "line '" + printable_prefix(line, 40) +
                                                              "' is not a 'key: value' entry"));
    if (doc.has(*key)) return fail(Status::corruption("meta.yaml", "key '" + *key + "' appears twice"));
    doc.entries_.push_back({*key, std::string(line)});
  }
  if (!doc.entries_.empty() && doc.entries_.back().bytes.back() != '\n') doc.entries_.back().bytes += '\n';
  return doc;
}

bool MetaDoc::has(std::string_view key) const { return raw(key).has_value(); }

std::optional<std::string> MetaDoc::raw(std::string_view key) const {
  for (const Entry& e : entries_)
    if (e.key == key) return e.bytes;
  return std::nullopt;
}

std::vector<std::string> MetaDoc::keys() const {
  std::vector<std::string> out;
  for (const Entry& e : entries_) out.push_back(e.key);
  return out;
}

void MetaDoc::put(std::string_view key, std::string entry) {
  for (Entry& e : entries_)
    if (e.key == key) {
      e.bytes = std::move(entry);
      return;
    }
  auto pos = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.key > key; });
  entries_.insert(pos, Entry{std::string(key), std::move(entry)});
}

void MetaDoc::set_str(std::string_view key, std::string_view value) {
  std::string line;
  yaml_emit_str(line, key, value);
  put(key, std::move(line));
}

void MetaDoc::set_int(std::string_view key, std::int64_t value) {
  std::string line;
  yaml_emit_int(line, key, value);
  put(key, std::move(line));
}

void MetaDoc::set_null(std::string_view key) {
  std::string line;
  yaml_emit_null(line, key);
  put(key, std::move(line));
}

void MetaDoc::erase(std::string_view key) {
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.key == key; }),
                 entries_.end());
}

std::string MetaDoc::text() const {
  std::string out;
  for (const Entry& e : entries_) out += e.bytes;
  return out;
}

namespace {

// A plain scalar that YAML 1.1 reads as null: how PyYAML sees `key:` / `~`.
bool is_yaml_null(const YAML::Node& n) {
  return n.IsNull() || (n.IsScalar() && n.Tag() == "?" &&
                        (n.Scalar() == "~" || n.Scalar() == "null" || n.Scalar() == "Null" ||
                         n.Scalar() == "NULL" || n.Scalar().empty()));
}

bool same_node(const YAML::Node& a, const YAML::Node& b) {
  if (a.Type() != b.Type()) return false;
  if (a.IsScalar()) {
    // Plain ("?") and quoted ("!") scalars type differently under YAML 1.1.
    bool a_plain = a.Tag() == "?", b_plain = b.Tag() == "?";
    return a.Scalar() == b.Scalar() && a_plain == b_plain;
  }
  return YAML::Dump(a) == YAML::Dump(b);
}

}  // namespace

Status verify_meta_edit(std::string_view before, std::string_view after,
                        const std::map<std::string, MetaValue>& changed) {
  YAML::Node old_map, new_map;
  try {
    old_map = YAML::Load(std::string(before));
    new_map = YAML::Load(std::string(after));
  } catch (const std::exception& e) {
    return Status::corruption("meta.yaml edit", std::string("does not parse: ") + e.what());
  }
  if (!new_map.IsMap()) return Status::corruption("meta.yaml edit", "result is not a mapping");
  if (old_map.IsMap()) {
    for (const auto& kv : old_map) {
      std::string key = kv.first.Scalar();
      if (changed.count(key)) continue;
      if (!new_map[key] || !same_node(kv.second, new_map[key]))
        return Status::corruption("meta.yaml edit", "key '" + key + "' changed unexpectedly");
    }
  }
  for (const auto& kv : new_map) {
    std::string key = kv.first.Scalar();
    if (!changed.count(key) && !(old_map.IsMap() && old_map[key]))
      return Status::corruption("meta.yaml edit", "key '" + key + "' appeared unexpectedly");
  }
  for (const auto& [key, want] : changed) {
    YAML::Node n = new_map[key];
    switch (want.kind) {
      case MetaValue::Kind::kAbsent:
        if (n) return Status::corruption("meta.yaml edit", "key '" + key + "' still present");
        break;
      case MetaValue::Kind::kNull:
        if (!n || !is_yaml_null(n)) return Status::corruption("meta.yaml edit", "key '" + key + "' is not null");
        break;
      case MetaValue::Kind::kInt:
        if (!n || !n.IsScalar() || n.Tag() != "?" || n.Scalar() != want.text)
          return Status::corruption("meta.yaml edit", "key '" + key + "' is not the integer " + want.text);
        break;
      case MetaValue::Kind::kString:
        if (!n || !n.IsScalar() || n.Scalar() != want.text)
          return Status::corruption("meta.yaml edit", "key '" + key + "' does not read back as '" + want.text + "'");
        break;
    }
  }
  return Status::ok();
}

}  // namespace mlruns::detail
