// HTTP for sync: one libcurl easy handle per worker (connections kept
// alive), MLflow's retry policy (mlflow/utils/request_utils.py: 408, 429,
// 500, 502, 503, 504 and connection errors, exponential backoff with
// jitter, Retry-After honoured) and its authentication
// (mlflow/utils/rest_utils.py). Credentials go to libcurl only; every
// message names the server through redact_url (sync.h), the one place where
// a URL becomes printable.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "mlruns/env.h"
#include "mlruns/status.h"
#include "mlruns/sync.h"

namespace mlruns::detail {

// Whether a request may be sent again after a failure that left its fate
// unknown (a 500, a connection dropped after the request went out).
enum class RetryPolicy {
  kIdempotent,  // reads, set-tag, update, PUT of a file: sending twice is harmless
  kOnce,        // creates and metric batches: only retried where the server surely did nothing
                // (connection refused, 408, 429, 503); otherwise the caller verifies first
};

struct HttpResponse {
  long status = 0;       // HTTP status; 0 when no response came
  std::string body;
  std::string error;     // transport error (no status), redacted
  bool retryable = false;  // a transport error worth another try (timeout, reset, refused)
  bool uncertain = false;  // the request may have been applied although no success came back
};

class HttpClient {
 public:
  // Fails with kInvalidArgument for a URL that is not http(s)://host...
  static Result<std::unique_ptr<HttpClient>> create(const ServerOptions& options,
                                                    const std::atomic<bool>* stop = nullptr);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // `path_and_query` starts with '/', relative to the server URL's path.
  // Retries per `policy`; the last response (or transport error) is returned.
  HttpResponse request(std::string_view method, std::string_view path_and_query, std::string_view json_body,
                       RetryPolicy policy);
  // PUT of a local file, streamed from `env` (never the whole file in memory).
  HttpResponse put_file(std::string_view path, Env& env, const std::string& file, std::uint64_t size);

  // The server's URL as messages show it (no userinfo).
  const std::string& display_url() const { return display_url_; }
  std::uint64_t bytes_sent() const { return bytes_sent_; }
  std::uint64_t requests() const { return requests_; }

 private:
  HttpClient() = default;
  struct Attempt;
  HttpResponse perform(std::string_view method, const std::string& url, std::string_view body, Env* env,
                       const std::string* file, std::uint64_t size, long* retry_after_s);
  HttpResponse with_retries(RetryPolicy policy, const std::function<HttpResponse(long*)>& once);
  bool sleep_interruptible(double seconds) const;

  void* curl_ = nullptr;  // CURL*
  ServerOptions options_;
  std::string base_;          // the URL without a trailing '/'
  std::string display_url_;
  const std::atomic<bool>* stop_ = nullptr;
  std::uint64_t bytes_sent_ = 0;
  std::uint64_t requests_ = 0;
};

// Percent-encodes one query value or path segment (RFC 3986 unreserved kept;
// with keep_slash, '/' is kept, for artifact paths).
std::string url_encode(std::string_view s, bool keep_slash = false);

}  // namespace mlruns::detail
