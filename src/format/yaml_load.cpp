#include "format/yaml_load.h"

#include <string>

namespace mlruns::detail {

Result<YAML::Node> load_yaml_guarded(std::string_view text, std::string_view what, std::size_t max_bytes) {
  constexpr int kMaxNesting = 256;
  if (text.size() > max_bytes)
    return fail(Status::corruption(what, "larger than " + std::to_string(max_bytes) + " bytes"));
  int brackets = 0;
  int column = 0;
  bool line_start = true;
  for (char c : text) {
    if (c == '[' || c == '{') ++brackets;
    if (c == '\n') {
      line_start = true;
      column = 0;
    } else if (line_start && (c == ' ' || c == '-')) {
      if (++column > kMaxNesting) return fail(Status::corruption(what, "too deeply nested"));
    } else {
      line_start = false;
    }
  }
  if (brackets > kMaxNesting) return fail(Status::corruption(what, "too deeply nested"));
  try {
    return YAML::Load(std::string(text));
  } catch (const std::exception& e) {
    return fail(Status::corruption(what, std::string("invalid YAML: ") + e.what()));
  } catch (...) {
    return fail(Status::corruption(what, "invalid YAML"));
  }
}

}  // namespace mlruns::detail
