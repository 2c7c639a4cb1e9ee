#include "mlruns/key.h"

#include <algorithm>
#include <iterator>
#include <string>

#include "util/printable.h"

namespace mlruns {
namespace {

std::string quoted(std::string_view what, std::string_view value) {
  // Show the value printable, very long ones cut (never inside a UTF-8 sequence).
  return std::string(what) + " '" + detail::printable_prefix(value, 80) + "'";
}

// Non-ASCII code points Python's \w matches (tools/scripts/gen_python_word_ranges.py).
constexpr char32_t kPythonWord[][2] = {
#include "format/python_word_ranges.inc"
};

bool is_python_word(char32_t cp) {
  const auto* end = std::end(kPythonWord);
  const auto* it = std::upper_bound(std::begin(kPythonWord), end, cp,
                                    [](char32_t v, const char32_t(&r)[2]) { return v < r[0]; });
  return it != std::begin(kPythonWord) && cp <= (it - 1)[0][1];
}

bool is_ascii_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

Status validate_id(std::string_view what, std::string_view id, std::size_t max_len) {
  if (id.empty()) return Status::invalid_argument(quoted(what, id), "must not be empty");
  if (id.size() > max_len)
    return Status::invalid_argument(quoted(what, id),
                                    "longer than " + std::to_string(max_len) + " characters");
  if (!is_ascii_word(id[0]) || id[0] == '_')
    return Status::invalid_argument(quoted(what, id),
                                    "must start with a letter or digit (spec §6.4)");
  for (char c : id)
    if (!is_ascii_word(c) && c != '-')
      return Status::invalid_argument(quoted(what, id),
                                      "only letters, digits, '_' and '-' are allowed (spec §6.4)");
  return Status::ok();
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    char32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static const char32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

Status validate_key(std::string_view what, std::string_view key, NameRules rules) {
  MLRUNS_RETURN_IF_ERROR(validate_key_name(what, key, rules));
  if (std::size_t n = detail::utf8_length(key); n > kMaxKeyLength)
    return Status::invalid_argument(quoted(what, key), std::to_string(n) + " characters, longer than " +
                                                           std::to_string(kMaxKeyLength) + " (spec §6.2)");
  return Status::ok();
}

Status validate_key_name(std::string_view what, std::string_view key, NameRules rules) {
  if (key.empty()) return Status::invalid_argument(quoted(what, key), "must not be empty (spec §6.1)");
  for (unsigned char c : key) {
    bool ok = is_ascii_word(static_cast<char>(c)) || c == '.' || c == '/' || c == '-' || c == ' ';
    if (ok) continue;
    if (c == ':' && rules == NameRules::kMlflow) continue;
    if (c >= 0x80 && rules == NameRules::kMlflow) continue;  // checked as UTF-8 below
    if (c == ':')
      return Status::invalid_argument(
          quoted(what, key),
          "':' is not allowed: MLflow before 2.16 cannot read it (spec §6.1, §14.6); "
          "use NameRules::kMlflow to allow it");
    if (c >= 0x80)
      return Status::invalid_argument(
          quoted(what, key),
          "non-ASCII characters are not portable (spec §13.1); use NameRules::kMlflow to allow them");
    return Status::invalid_argument(
        quoted(what, key),
        "only letters, digits, '_', '-', '.', ' ' and '/' are allowed (spec §6.1)");
  }
  if (!is_valid_utf8(key)) return Status::invalid_argument(quoted(what, key), "is not valid UTF-8");
  // Non-ASCII: only what Python's \w matches (letters and numbers, str.isalnum()),
  // as MLflow's ^[/\w.\- :]*$ (spec §6.1); "a€b" is refused by MLflow's readers too.
  for (std::size_t i = 0; i < key.size();) {
    unsigned char c = static_cast<unsigned char>(key[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    char32_t cp = c & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
    for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(key[i + k]) & 0x3F);
    if (!is_python_word(cp))
      return Status::invalid_argument(quoted(what, key), "'" + std::string(key.substr(i, n)) +
                                                             "' is not a letter or digit for MLflow (Python's \\w, "
                                                             "spec §6.1)");
    i += n;
  }
  // Path rule: the key must equal its POSIX normal form (spec §6.1).
  if (key.front() == '/') return Status::invalid_argument(quoted(what, key), "must not start with '/' (spec §6.1)");
  if (key.substr(0, 2) == "..")
    return Status::invalid_argument(quoted(what, key), "must not start with '..' (spec §6.1)");
  if (key.back() == '/') return Status::invalid_argument(quoted(what, key), "must not end with '/' (spec §6.1)");
  std::size_t start = 0;
  while (start <= key.size()) {
    std::size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view part = key.substr(start, end - start);
    if (part.empty() || part == "." || part == "..")
      return Status::invalid_argument(quoted(what, key),
                                      "is not a normalized path ('//', '.' or '..' component; spec §6.1)");
    start = end + 1;
  }
  if (key == "None") return Status::invalid_argument(quoted(what, key), "'None' is reserved (spec §6.1)");
  return Status::ok();
}

Status validate_tag_key(std::string_view what, std::string_view key, NameRules rules) {
  MLRUNS_RETURN_IF_ERROR(validate_key_name(what, key, rules));
  for (std::size_t start = 0; start < key.size();) {
    std::size_t end = std::min(key.find('/', start), key.size());
    if (end - start > 255)
      return Status::invalid_argument(quoted(what, key), "a '/'-separated part is " + std::to_string(end - start) +
                                                             " bytes, longer than a file name may be (255, NAME_MAX)");
    start = end + 1;
  }
  return Status::ok();
}

bool is_valid_key(std::string_view key, NameRules rules) {
  return validate_key("key", key, rules).is_ok();
}

Status validate_experiment_id(std::string_view id) { return validate_id("experiment id", id, 64); }

Status validate_run_id(std::string_view id) { return validate_id("run id", id, 256); }

Status validate_experiment_name(std::string_view name) {
  if (name.empty()) return Status::invalid_argument("experiment name ''", "must not be empty (spec §3.4)");
  if (!is_valid_utf8(name)) return Status::invalid_argument(quoted("experiment name", name), "is not valid UTF-8");
  std::size_t chars = 0;
  for (unsigned char c : name) {
    if ((c & 0xC0) != 0x80) ++chars;
    if (c < 0x20 || c == 0x7f)
      return Status::invalid_argument(quoted("experiment name", name), "control characters are not allowed");
  }
  if (chars > kMaxExperimentNameLength)
    return Status::invalid_argument(quoted("experiment name", name), "longer than 500 characters (spec §3.4)");
  if (name.find('\'') != std::string_view::npos)
    return Status::invalid_argument(quoted("experiment name", name),
                                    "\"'\" is not allowed: MLflow >= 2.0 cannot look such a name up (spec §3.4, §14.16)");
  return Status::ok();
}

Status validate_registered_model_name(std::string_view name) {
  constexpr std::string_view kWhat = "registered model name";
  if (name.empty()) return Status::invalid_argument("registered model name ''", "must not be empty (spec §9.4)");
  if (!is_valid_utf8(name)) return Status::invalid_argument(quoted(kWhat, name), "is not valid UTF-8");
  if (name.size() > kMaxRegisteredModelNameBytes)
    return Status::invalid_argument(quoted(kWhat, name), "longer than 255 bytes (it is a folder name)");
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f)
      return Status::invalid_argument(quoted(kWhat, name), "control characters are not allowed");
    if (c == '/' || c == '\\')
      return Status::invalid_argument(quoted(kWhat, name),
                                      "must not contain a path separator ('/' or '\\'; MLflow's file store, spec §9.4)");
    if (c == '%')
      return Status::invalid_argument(quoted(kWhat, name), "must not contain '%' (MLflow >= 3.0 refuses it)");
  }
  if (name.front() == '.')
    return Status::invalid_argument(quoted(kWhat, name), "must not start with '.' (hidden folders, '.' and '..')");
  if (name.front() == ' ' || name.back() == ' ')
    return Status::invalid_argument(quoted(kWhat, name),
                                    "must not start or end with a space (models:/ URIs could not name it)");
  return Status::ok();
}

Status validate_model_alias(std::string_view alias) {
  constexpr std::string_view kWhat = "model alias";
  if (alias.empty()) return Status::invalid_argument("model alias ''", "must not be empty");
  if (alias.size() > kMaxModelAliasLength)
    return Status::invalid_argument(quoted(kWhat, alias), "longer than 255 characters");
  for (char c : alias)
    if (!is_ascii_word(c) && c != '-')
      return Status::invalid_argument(quoted(kWhat, alias),
                                      "only letters, digits, '_' and '-' are allowed (MLflow's alias rule)");
  std::string lower(alias);
  for (char& c : lower)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (lower == "latest")
    return Status::invalid_argument(quoted(kWhat, alias), "'latest' is reserved (models:/NAME/latest)");
  if (lower.size() > 1 && lower[0] == 'v' &&
      lower.find_first_not_of("0123456789", 1) == std::string::npos)
    return Status::invalid_argument(quoted(kWhat, alias), "v<digits> is reserved for versions (MLflow's rule)");
  return Status::ok();
}

std::string normalize_artifact_path(std::string_view path) {
  std::string out;
  if (!path.empty() && path.front() == '/') out = "/";
  std::size_t start = 0;
  while (start < path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (!part.empty() && part != ".") {
      if (!out.empty() && out.back() != '/') out += '/';
      out += part;
    }
    start = end + 1;
  }
  return out;
}

Status validate_artifact_path(std::string_view path) {
  if (path.empty()) return Status::ok();
  if (path.size() > kMaxArtifactPathLength)
    return Status::invalid_argument(quoted("artifact path", path), "longer than 4096 bytes");
  if (!is_valid_utf8(path)) return Status::invalid_argument(quoted("artifact path", path), "is not valid UTF-8");
  for (unsigned char c : path)
    if (c < 0x20 || c == 0x7f || c == '\\')
      return Status::invalid_argument(quoted("artifact path", path),
                                      "control characters and '\\' are not allowed");
  if (path.front() == '/') return Status::invalid_argument(quoted("artifact path", path), "must be relative");
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() && end == path.size() && start > 0) break;  // one trailing '/' is fine
    if (part.empty() || part == "." || part == "..")
      return Status::invalid_argument(quoted("artifact path", path),
                                      "must not contain an empty, '.' or '..' component");
    if (part.size() > 255)
      return Status::invalid_argument(quoted("artifact path", path), "a component is longer than 255 bytes");
    start = end + 1;
  }
  return Status::ok();
}

}  // namespace mlruns
