// Relocating one artifact URI (relocate_uri.h).
#include "maint/relocate_uri.h"

#include <vector>

#include "format/artifact_dir.h"
#include "format/file_uri.h"
#include "format/layout.h"
#include "mlruns/env.h"
#include "mlruns/key.h"

namespace mlruns::detail {
namespace {

enum class Form { kUri, kPlain, kRelative };

// The local path a URI names (file: URI, absolute or 1.x relative path),
// without trailing slashes; nullopt with `why` if it names none.
std::optional<std::string> local_path(std::string_view value, Form& form, std::string& why) {
  if (value.empty()) {
    why = "empty";
    return std::nullopt;
  }
  const bool uri = value.rfind("file:", 0) == 0;
  if (uri || value.front() == '/') {
    // The rule of every verb (format/artifact_dir.h): '.', '//' and '..'
    // folded lexically, trailing '/' dropped, so relocate and fsck see the
    // folder gc, the reader and the writer see.
    auto p = local_path_of(value);
    if (!p || p->empty() || p->front() != '/') {
      why = "not a usable file: URI";
      return std::nullopt;
    }
    form = uri ? Form::kUri : Form::kPlain;
    return p;
  }
  std::size_t colon = value.find(':'), slash = value.find('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon < slash)) {
    why = "remote URI";
    return std::nullopt;
  }
  form = Form::kRelative;  // 1.x: relative to the reader's cwd (spec §8.1)
  return strip_trailing_slashes(std::string(value));
}

bool is_real_dir(Env& env, const std::string& path) {
  auto info = env.stat(path, false);
  return info && info->type == FileType::kDirectory;
}

}  // namespace

std::string strip_trailing_slashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// The relocated form of `old_value` for an item whose MLflow-built path ends
// in `tail`, or nullopt if it must stay as it is; `why` says why.
std::optional<std::string> relocated_uri(std::string_view old_value, const std::string& tail, const RelocateTarget& t,
                                         std::string& why, bool* outside_from) {
  if (outside_from) *outside_from = false;
  Form form;
  auto local = local_path(old_value, form, why);
  if (!local) return std::nullopt;
  const std::string& path = *local;
  std::string new_path;
  if (!t.from_prefix.empty()) {
    const bool under =
        form != Form::kRelative && (path == t.from_prefix || path.rfind(t.from_prefix + "/", 0) == 0);
    if (!under) {
      if (outside_from) *outside_from = true;
      why = form == Form::kRelative ? "relative path, not under --from" : "not under " + t.from_prefix;
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

std::optional<std::string> in_tree_tail(Env& env, const std::string& root, std::string_view uri, std::string& why) {
  Form form;
  auto local = local_path(uri, form, why);
  if (!local) return std::nullopt;
  std::vector<std::string_view> parts;
  std::string_view rest = *local;
  while (!rest.empty()) {
    std::size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    if (part == "." || part == "..") {
      why = "path with a '.' or '..' component";
      return std::nullopt;
    }
    if (!part.empty()) parts.push_back(part);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  // Names are validated before they become paths under root (key.h).
  auto exp_dir = [&](std::string_view id) -> std::optional<std::string> {
    if (!validate_experiment_id(id).is_ok()) return std::nullopt;
    for (std::string base : {root, join(root, kTrashDir)}) {
      std::string dir = join(base, id);
      if (is_real_dir(env, dir)) return dir;
    }
    return std::nullopt;
  };
  auto item_dir = [&](const std::string& parent, std::string_view id) {
    return validate_run_id(id).is_ok() && is_real_dir(env, join(parent, id));
  };
  for (std::size_t i = 0; i + 2 < parts.size(); ++i) {
    std::size_t end = 0;  // index after "artifacts"
    if (parts[i + 1] == "models") {
      if (i + 3 < parts.size() && parts[i + 3] == "artifacts") end = i + 4;
    } else if (parts[i + 2] == "artifacts" && !is_reserved_experiment_folder(parts[i + 1])) {
      end = i + 3;
    }
    if (!end) continue;
    auto dir = exp_dir(parts[i]);
    if (!dir) continue;
    bool found = end == i + 4 ? item_dir(join(*dir, "models"), parts[i + 2]) : item_dir(*dir, parts[i + 1]);
    if (!found) continue;
    std::string tail;
    for (std::size_t j = i; j < parts.size(); ++j) {
      if (!tail.empty()) tail += '/';
      tail += parts[j];
    }
    return tail;
  }
  why = "not a path into a run or logged model of this tree (give --from to move it)";
  return std::nullopt;
}

}  // namespace mlruns::detail
