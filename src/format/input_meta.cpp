#include "format/input_meta.h"

#include <algorithm>
#include <optional>
#include <utility>

#include <yaml-cpp/yaml.h>

namespace mlruns::detail {
namespace {

// A dataset's schema may be up to 1 MiB (MLflow's limit); the file is a bit
// more. Deeper nesting than this is not MLflow's, and yaml-cpp recurses per
// level.
constexpr std::size_t kMaxInputMetaBytes = 4u << 20;
constexpr int kMaxNesting = 64;

// Nesting of flow collections, counted roughly (brackets inside quoted
// strings count too): MLflow's files are flat mappings whose JSON strings
// nest a few levels.
int nesting(std::string_view text) {
  int depth = 0, deepest = 0;
  for (char c : text) {
    if (c == '[' || c == '{') deepest = std::max(deepest, ++depth);
    if ((c == ']' || c == '}') && depth > 0) --depth;
  }
  return deepest;
}

Result<YAML::Node> load_map(std::string_view text) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return fail(Status::corruption("meta.yaml", "file is empty"));
  if (text.size() > kMaxInputMetaBytes) return fail(Status::corruption("meta.yaml", "file is larger than 4 MiB"));
  if (nesting(text) > kMaxNesting) return fail(Status::corruption("meta.yaml", "too deeply nested"));
  try {
    YAML::Node node = YAML::Load(std::string(text));
    if (!node.IsMap()) return fail(Status::corruption("meta.yaml", "not a YAML mapping"));
    return node;
  } catch (const std::exception& e) {
    return fail(Status::corruption("meta.yaml", std::string("invalid YAML: ") + e.what()));
  } catch (...) {
    return fail(Status::corruption("meta.yaml", "invalid YAML"));
  }
}

// The scalar under `key`; nullopt if missing or null. A list or mapping is
// reported in `problems` and treated as missing.
std::optional<std::string> scalar(const YAML::Node& map, const char* key, std::vector<std::string>* problems) {
  try {
    YAML::Node v = map[key];
    if (!v.IsDefined() || v.IsNull()) return std::nullopt;
    if (v.IsScalar()) return v.Scalar();
    if (problems) problems->push_back(std::string(key) + " is not a string; ignored");
  } catch (...) {
    if (problems) problems->push_back(std::string(key) + " is unreadable; ignored");
  }
  return std::nullopt;
}

}  // namespace

Result<InputLink> parse_input_meta(std::string_view text, std::vector<std::string>* problems) {
  auto node = load_map(text);
  if (!node) return fail(node.error());
  InputLink link;
  auto type = scalar(*node, "source_type", problems);
  auto id = scalar(*node, "source_id", problems);
  if (!type) return fail(Status::corruption("meta.yaml", "no source_type"));
  if (!id || id->empty()) return fail(Status::corruption("meta.yaml", "no source_id"));
  link.source_type = std::move(*type);
  link.source_id = std::move(*id);
  try {
    YAML::Node tags = (*node)["tags"];
    if (tags.IsMap()) {
      for (const auto& kv : tags) {
        if (kv.first.IsScalar() && kv.second.IsScalar()) {
          link.tags[kv.first.Scalar()] = kv.second.Scalar();
        } else if (problems) {
          problems->push_back("an input tag is not a string pair; ignored");
        }
      }
    } else if (tags.IsDefined() && !tags.IsNull() && !(tags.IsSequence() && tags.size() == 0) && problems) {
      problems->push_back("tags is not a mapping; ignored");
    }
  } catch (...) {
    if (problems) problems->push_back("tags are unreadable; ignored");
  }
  return link;
}

Result<Dataset> parse_dataset_meta(std::string_view text, std::vector<std::string>* problems) {
  auto node = load_map(text);
  if (!node) return fail(node.error());
  Dataset d;
  auto name = scalar(*node, "name", problems);
  auto digest = scalar(*node, "digest", problems);
  if (!name) return fail(Status::corruption("meta.yaml", "no name"));
  if (!digest) return fail(Status::corruption("meta.yaml", "no digest"));
  d.name = std::move(*name);
  d.digest = std::move(*digest);
  for (auto [key, out] : {std::pair{"source_type", &d.source_type}, std::pair{"source", &d.source}}) {
    if (auto v = scalar(*node, key, problems)) {
      *out = std::move(*v);
    } else if (problems) {
      problems->push_back(std::string("no ") + key + "; left empty");
    }
  }
  d.schema = scalar(*node, "schema", problems);
  d.profile = scalar(*node, "profile", problems);
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
