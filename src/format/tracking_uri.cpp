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

// What a tracking URI that is not a folder names, and what to do instead
// (issue 10 item 9). mlruns reads and writes MLflow's file store only.
std::string not_a_folder(const std::string& scheme) {
  constexpr const char* kFolder = "mlruns reads and writes MLflow's file store, a folder: give its path or a file: URI";
  const std::string s = scheme.substr(0, scheme.find('+'));  // postgresql+psycopg2
  if (s == "sqlite")
    return "'sqlite:' is a database store; " + std::string(kFolder) +
           ". To get the runs into SQLite, log to a folder, then run `mlflow migrate-filestore --source DIR "
           "--target sqlite:///mlflow.db` (MLflow >= 3.10), or push it to a server with `mlruns sync --to URL`";
  if (s == "postgresql" || s == "postgres" || s == "mysql" || s == "mssql" || s == "oracle")
    return "'" + scheme + ":' is a database store; " + kFolder +
           ". To get the runs into that database, log to a folder, then push it to a tracking server that uses it "
           "with `mlruns sync --to URL` (docs/sync.md)";
  if (s == "http" || s == "https" || s == "databricks" || s == "databricks-uc" || s == "uc")
    return "'" + scheme + ":' names a tracking server; " + kFolder +
           ". Log to a folder, then push it to the server with `mlruns sync --to URL` (docs/sync.md)";
  if (s == "s3" || s == "gs" || s == "wasbs" || s == "abfss" || s == "hdfs" || s == "viewfs" || s == "oss" ||
      s == "ftp" || s == "sftp" || s == "dbfs" || s == "mlflow-artifacts" || s == "runs" || s == "models")
    return "'" + scheme + ":' is an artifact location, not a tracking URI; " + kFolder +
           ". Keep the tree on a shared file system, or push it to a tracking server with `mlruns sync --to URL`";
  return "scheme '" + scheme + ":' is not a folder; " + kFolder + " (spec §12.1)";
}

// The URI as it may be printed: a password in it (postgresql://u:pw@host/db,
// https://token@host) never reaches a message.
std::string redact_userinfo(const std::string& uri) {
  const std::size_t start = uri.find("://");
  if (start == std::string::npos) return uri;
  const std::size_t host = start + 3;
  const std::size_t end = uri.find_first_of("/?#", host);
  const std::size_t at = uri.rfind('@', end == std::string::npos ? std::string::npos : end);
  if (at == std::string::npos || at < host) return uri;
  return uri.substr(0, host) + "***" + uri.substr(at);
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
  } else if (scheme == "file" || scheme == "mlruns") {
    // mlruns: is the scheme the Python package registers with MLflow for this
    // same tree (python/mlruns/mlflow_plugin.py); it names a path as file: does.
    std::string_view rest = std::string_view(given).substr(scheme.size() + 1);
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
    return fail(Status::not_supported(source + " '" + redact_userinfo(given) + "'", not_a_folder(scheme)));
  }
  if (path.empty()) return fail(Status::invalid_argument(source + " '" + given + "'", "empty path"));
  if (path.front() != '/') {
    auto cwd = env->unconfined()->real_path(".");  // the user's own folder, not below a tree
    if (!cwd) return fail(cwd.error().with_context("resolving the current directory"));
    path = join(*cwd, path);
  }
  return normalize_absolute_path(path);
}

namespace {

// pathlib.Path(cwd).joinpath(rel).as_posix(): empty and '.' components
// dropped, '..' kept (pathlib never resolves it lexically).
std::string pathlib_join(const std::string& cwd, std::string_view rel) {
  std::string out = cwd == "/" ? "" : cwd;
  std::size_t i = 0;
  while (i <= rel.size()) {
    std::size_t j = rel.find('/', i);
    if (j == std::string_view::npos) j = rel.size();
    std::string_view part = rel.substr(i, j - i);
    if (!part.empty() && part != ".") {
      out += '/';
      out += part;
    }
    i = j + 1;
  }
  return out.empty() ? "/" : out;
}

}  // namespace

std::string append_to_uri_path(std::string_view uri, std::string_view name) {
  const std::size_t end = uri_scheme(uri).empty() ? std::string_view::npos : uri.find_first_of("?#");
  std::string out(uri.substr(0, end));
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  if (end != std::string_view::npos) out += uri.substr(end);
  return out;
}

Result<std::string> resolve_uri_if_local(std::string_view uri, Env& env) {
  const std::string scheme = lower(uri_scheme(uri));
  std::string_view path = uri, suffix;
  if (scheme == "file") {
    path.remove_prefix(5);
    if (path.rfind("//", 0) == 0) return std::string(uri);  // file://host/... has an absolute path
    const std::size_t end = path.find_first_of("?#");
    if (end != std::string_view::npos) {
      suffix = path.substr(end);
      path = path.substr(0, end);
    }
  } else if (!scheme.empty()) {
    return std::string(uri);  // s3://, mlflow-artifacts:, ...: not local
  }
  if (path.empty() || path.front() == '/') return std::string(uri);
  auto cwd = env.unconfined()->real_path(".");  // the user's own folder, not below a tree
  if (!cwd) return fail(cwd.error().with_context("resolving the current directory for '" + std::string(uri) + "'"));
  std::string joined = pathlib_join(*cwd, path);
  return scheme.empty() ? joined : "file://" + joined + std::string(suffix);
}

}  // namespace mlruns::detail
