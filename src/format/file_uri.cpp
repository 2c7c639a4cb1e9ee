#include "format/file_uri.h"

#include "mlruns/key.h"

namespace mlruns::detail {
namespace {

bool unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '~' || c == '-' || c == '/';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string path_to_file_uri(std::string_view absolute_path) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out = "file://";
  for (unsigned char c : absolute_path) {
    if (unreserved(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::optional<std::string> file_uri_to_path(std::string_view uri) {
  std::string_view path;
  if (uri.substr(0, 5) == "file:") {
    path = uri.substr(5);
    if (path.substr(0, 2) == "//") {
      path.remove_prefix(2);
      // Authority: empty or "localhost"; anything else is a remote host.
      std::size_t slash = path.find('/');
      if (slash == std::string_view::npos) return std::nullopt;
      std::string_view host = path.substr(0, slash);
      if (!host.empty() && host != "localhost") return std::nullopt;
      path.remove_prefix(slash);
    }
  } else if (!uri.empty() && uri.front() == '/') {
    return std::string(uri);  // a plain path is not percent-encoded
  } else {
    return std::nullopt;
  }
  if (path.empty() || path.front() != '/') return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size()) {
      int hi = hex_value(path[i + 1]), lo = hex_value(path[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += path[i];
  }
  if (out.find('\0') != std::string::npos) return std::nullopt;  // %00 never names a file
  return out;
}

std::optional<RunsUri> parse_runs_uri(std::string_view uri) {
  constexpr std::string_view kRuns = "runs:/";
  if (uri.substr(0, kRuns.size()) != kRuns) return std::nullopt;
  const std::string_view rest = uri.substr(kRuns.size());
  const std::size_t slash = rest.find('/');
  return RunsUri{std::string(rest.substr(0, slash)),
                 normalize_artifact_path(slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1))};
}

}  // namespace mlruns::detail
