// Relocating one artifact URI (relocate_uri.h).
#include "relocate_uri.h"

#include "file_uri.h"
#include "layout.h"

namespace mlruns::detail {

std::string strip_trailing_slashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// The relocated form of `old_value` for an item whose MLflow-built path ends
// in `tail`, or nullopt if it must stay as it is; `why` says why.
std::optional<std::string> relocated_uri(std::string_view old_value, const std::string& tail, const RelocateTarget& t,
                                     std::string& why) {
  enum class Form { kUri, kPlain, kRelative } form;
  std::string path;
  if (old_value.rfind("file:", 0) == 0) {
    auto p = file_uri_to_path(old_value);
    if (!p) { why = "not a usable file: URI"; return std::nullopt; }
    path = *p;
    form = Form::kUri;
  } else if (old_value.empty()) {
    why = "empty";
    return std::nullopt;
  } else if (old_value.front() == '/') {
    path = std::string(old_value);
    form = Form::kPlain;
  } else {
    std::size_t colon = old_value.find(':'), slash = old_value.find('/');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon < slash)) {
      why = "remote URI";
      return std::nullopt;
    }
    path = std::string(old_value);
    form = Form::kRelative;  // 1.x: relative to the reader's cwd (spec §8.1)
  }
  path = strip_trailing_slashes(path);
  std::string new_path;
  if (!t.from_prefix.empty()) {
    if (form == Form::kRelative) { why = "relative path, not under --from"; return std::nullopt; }
    if (path != t.from_prefix && path.rfind(t.from_prefix + "/", 0) != 0) {
      why = "not under " + t.from_prefix;
      return std::nullopt;
    }
    new_path = t.new_root + path.substr(t.from_prefix.size());
  } else {
    bool matches = path == tail || (path.size() > tail.size() && path.compare(path.size() - tail.size(), tail.size(), tail) == 0 &&
                                    path[path.size() - tail.size() - 1] == '/');
    if (!matches) { why = "custom location (give --from to move it)"; return std::nullopt; }
    new_path = join(t.new_root, tail);
  }
  std::string out = form == Form::kPlain ? new_path : path_to_file_uri(new_path);
  if (out == old_value) return std::nullopt;
  return out;
}

}  // namespace mlruns::detail
