#include "format/input_meta.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "format/meta_parse.h"

namespace mlruns::detail {
namespace {

// A dataset's schema may be up to 1 MiB (MLflow's limit); the file is a bit
// more. Read as PyYAML's CSafeLoader reads it (libyaml, meta_parse.h): the
// escapes, folding and repeated keys of these files come out as in MLflow.
constexpr std::size_t kMaxInputMetaBytes = 4u << 20;

// The string under `key`; nullopt if missing or null. A list or mapping is
// reported in `problems` and treated as missing.
std::optional<std::string> scalar(const YamlMap& map, const char* key, std::vector<std::string>* problems) {
  const YamlValue* v = yaml_find(map, key);
  if (!v || v->kind == YamlValue::Kind::kNull) return std::nullopt;
  if (v->kind == YamlValue::Kind::kString) return v->text;
  if (problems) problems->push_back(std::string(key) + " is not a string; ignored");
  return std::nullopt;
}

}  // namespace

Result<InputLink> parse_input_meta(std::string_view text, std::vector<std::string>* problems) {
  auto map = load_yaml_map(text, kMaxInputMetaBytes);
  if (!map) return fail(map.error());
  InputLink link;
  auto type = scalar(*map, "source_type", problems);
  auto id = scalar(*map, "source_id", problems);
  if (!type) return fail(Status::corruption("meta.yaml", "no source_type"));
  if (!id || id->empty()) return fail(Status::corruption("meta.yaml", "no source_id"));
  link.source_type = std::move(*type);
  link.source_id = std::move(*id);
  if (const YamlValue* tags = yaml_find(*map, "tags")) {
    if (tags->kind == YamlValue::Kind::kCollection && tags->mapping) {
      for (const auto& [k, v] : tags->pairs) link.tags[k] = v;  // a repeated key: the last wins
      if (!tags->pairs_ok && problems) problems->push_back("an input tag is not a string pair; ignored");
    } else if (tags->kind == YamlValue::Kind::kString && problems) {
      problems->push_back("tags is not a mapping; ignored");
    }  // null or [] (legacy): no tags
  }
  return link;
}

Result<Dataset> parse_dataset_meta(std::string_view text, std::vector<std::string>* problems) {
  auto map = load_yaml_map(text, kMaxInputMetaBytes);
  if (!map) return fail(map.error());
  Dataset d;
  auto name = scalar(*map, "name", problems);
  auto digest = scalar(*map, "digest", problems);
  if (!name) return fail(Status::corruption("meta.yaml", "no name"));
  if (!digest) return fail(Status::corruption("meta.yaml", "no digest"));
  d.name = std::move(*name);
  d.digest = std::move(*digest);
  for (auto [key, out] : {std::pair{"source_type", &d.source_type}, std::pair{"source", &d.source}}) {
    if (auto v = scalar(*map, key, problems)) {
      *out = std::move(*v);
    } else if (problems) {
      problems->push_back(std::string("no ") + key + "; left empty");
    }
  }
  d.schema = scalar(*map, "schema", problems);
  d.profile = scalar(*map, "profile", problems);
  return d;
}

bool is_valid_dataset_id(std::string_view id) {
  if (id.empty() || id.size() > 255 || id == "." || id == "..") return false;
  return std::none_of(id.begin(), id.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return c == '/' || c == '\\' || u < 0x20 || u == 0x7f;
  });
}

}  // namespace mlruns::detail
