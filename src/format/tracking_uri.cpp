#include "format/tracking_uri.h"

#include <cstdlib>
#include <vector>

#include "format/file_uri.h"
#include "format/layout.h"

namespace mlruns::detail {
namespace {

// "scheme:" per RFC 3986; one letter is not a scheme (a Windows drive).
std::string_view uri_scheme(std::string_view uri) {
  std::size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon < 2) return {};
  for (std::size_t i = 0; i < colon; ++i) {
    char c = uri[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
    if (!ok) return {};
  }
  return uri.substr(0, colon);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

std::string normalize_absolute_path(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t i = 0;
  while (i < path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (part.empty() || part == ".") {
    } else if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out;
  for (std::string_view p : parts) {
    out += '/';
    out += p;
  }
  return out.empty() ? "/" : out;
}

Result<std::string> resolve_tracking_root(std::string_view uri, Env* env) {
  if (!env) env = Env::posix();
  std::string given(uri);
  std::string source = "tracking URI";
  if (given.empty()) {
    const char* v = std::getenv("MLFLOW_TRACKING_URI");
    if (v && *v) {
      given = v;
      source = "MLFLOW_TRACKING_URI";
    } else {
      given = "mlruns";
    }
  }
  if (given.find('\0') != std::string::npos)
    return fail(Status::invalid_argument(source + " '" + given + "'", "contains a NUL byte"));
  std::string path;
  std::string scheme = lower(uri_scheme(given));
  if (given == "databricks") scheme = "databricks";  // MLflow's bare "databricks" means the workspace
  if (scheme.empty()) {
    path = given;
  } else if (scheme == "file") {
    std::string_view rest = std::string_view(given).substr(5);
    if (!rest.empty() && rest.front() != '/') {
      path = std::string(rest);  // file:relative/path
    } else {
      auto p = file_uri_to_path("file:" + std::string(rest));
      if (!p)
        return fail(Status::invalid_argument(source + " '" + given + "'",
                                             "not a local file: URI (a remote host or a bad path)"));
      path = *p;
    }
  } else {
    return fail(Status::not_supported(
        source + " '" + given + "'",
        "scheme '" + scheme + ":' names a tracking server; mlruns writes local trees only "
        "(give a path or a file: URI, spec §12.1)"));
  }
  if (path.empty()) return fail(Status::invalid_argument(source + " '" + given + "'", "empty path"));
  if (path.front() != '/') {
    auto cwd = env->unconfined()->real_path(".");  // the user's own folder, not below a tree
    if (!cwd) return fail(cwd.error().with_context("resolving the current directory"));
    path = join(*cwd, path);
  }
  return normalize_absolute_path(path);
}

}  // namespace mlruns::detail
