#include "sync/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <random>
#include <thread>

#include "util/printable.h"

namespace mlruns {

std::string redact_url(std::string_view url) {
  std::string_view rest = url;
  std::string scheme;
  if (auto p = rest.find("://"); p != std::string_view::npos) {
    scheme = std::string(rest.substr(0, p + 3));
    rest.remove_prefix(p + 3);
  }
  std::size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view path = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  path = path.substr(0, path.find_first_of("?#"));
  return detail::escape_control(scheme + std::string(authority) + std::string(path));
}

namespace detail {
namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool transient_status(long s) { return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504; }
// Statuses that say the server did not act on the request.
bool not_applied_status(long s) { return s == 408 || s == 429 || s == 503; }

// Transport errors that happen before any byte of the request left.
bool not_sent_error(CURLcode c) {
  return c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST || c == CURLE_COULDNT_RESOLVE_PROXY ||
         c == CURLE_SSL_CONNECT_ERROR;
}

bool transient_error(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

constexpr std::size_t kMaxResponseBytes = 64u << 20;

struct ResponseSink {
  std::string* body;
  bool too_big = false;
};

size_t write_cb(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<ResponseSink*>(user);
  std::size_t len = size * n;
  if (sink->body->size() + len > kMaxResponseBytes) {
    sink->too_big = true;
    return 0;  // aborts the transfer: a hostile server cannot exhaust memory
  }
  sink->body->append(data, len);
  return len;
}

// Retry-After: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
size_t header_cb(char* data, size_t size, size_t n, void* user) {
  std::size_t len = size * n;
  std::string_view line(data, len);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    std::string lower(line.substr(0, kName.size()));
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == kName) {
      std::string value(line.substr(kName.size()));
      while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
      std::size_t b = value.find_first_not_of(' ');
      value = b == std::string::npos ? "" : value.substr(b);
      long* out = static_cast<long*>(user);
      if (!value.empty() && std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        *out = std::min(std::strtol(value.c_str(), nullptr, 10), 3600L);
      } else if (!value.empty()) {
        time_t when = curl_getdate(value.c_str(), nullptr);
        if (when > 0) *out = std::clamp<long>(static_cast<long>(when - std::time(nullptr)), 0, 3600);
      }
    }
  }
  return len;
}

struct FileSource {
  SequentialFile* file;
  std::uint64_t left;
};

size_t read_cb(char* buf, size_t size, size_t n, void* user) {
  auto* src = static_cast<FileSource*>(user);
  std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(size * n, src->left));
  if (want == 0) return 0;
  auto r = src->file->read(want, buf);
  if (!r || r->empty()) return CURL_READFUNC_ABORT;  // the file shrank or failed: abort, never send a short file
  src->left -= r->size();
  return r->size();
}

}  // namespace

std::string url_encode(std::string_view s, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

Result<std::unique_ptr<HttpClient>> HttpClient::create(const ServerOptions& options, const std::atomic<bool>* stop) {
  std::string url = options.url;
  if (!(url.starts_with("http://") || url.starts_with("https://")) || url.find("://") + 3 >= url.size())
    return fail(Status::invalid_argument("server URL '" + redact_url(url) + "'",
                                         "must be http://HOST[:PORT][/PATH] or https://..."));
  if (url.find_first_of("?#") != std::string::npos)
    return fail(Status::invalid_argument("server URL '" + redact_url(url) + "'", "must not have a query or fragment"));
  global_init();
  std::unique_ptr<HttpClient> c(new HttpClient);
  c->curl_ = curl_easy_init();
  if (!c->curl_) return fail(Status::io_error("libcurl", "curl_easy_init failed"));
  while (!url.empty() && url.back() == '/') url.pop_back();
  c->options_ = options;
  c->base_ = url;
  c->display_url_ = redact_url(url);
  c->stop_ = stop;
  return c;
}

HttpClient::~HttpClient() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

bool HttpClient::sleep_interruptible(double seconds) const {
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (stop_ && stop_->load()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

HttpResponse HttpClient::perform(std::string_view method, const std::string& url, std::string_view body, Env* env,
                                 const std::string* file, std::uint64_t size, long* retry_after_s) {
  CURL* h = static_cast<CURL*>(curl_);
  curl_easy_reset(h);  // keeps the live connections (keep-alive)
  HttpResponse resp;
  ResponseSink sink{&resp.body};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, retry_after_s);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_seconds * 1000));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min(options_.timeout_seconds, 30.0) * 1000));
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "mlruns-sync/" MLRUNS_VERSION_STRING);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  if (options_.insecure_tls) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!options_.server_cert_path.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.server_cert_path.c_str());
  if (!options_.client_cert_path.empty()) curl_easy_setopt(h, CURLOPT_SSLCERT, options_.client_cert_path.c_str());
  // MLflow: username and password (Basic) first, else the token (Bearer).
  if (!options_.username.empty() && !options_.password.empty()) {
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, options_.password.c_str());
  } else if (!options_.token.empty()) {
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
    curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, options_.token.c_str());
  }
  struct curl_slist* headers = nullptr;
  std::unique_ptr<SequentialFile> in;
  FileSource src{nullptr, size};
  if (file) {
    auto f = env->new_sequential_file(*file);
    if (!f) {
      resp.error = f.error().to_string();
      return resp;
    }
    in = std::move(*f);
    src.file = in.get();
    headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(h, CURLOPT_READDATA, &src);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
  } else if (method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    if (method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, std::string(method).c_str());
  }
  if (headers) curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  ++requests_;
  CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(headers);
  curl_off_t up = 0;
  curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &up);
  bytes_sent_ += static_cast<std::uint64_t>(up);
  if (rc != CURLE_OK) {
    std::string what = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    if (sink.too_big) what = "response larger than " + std::to_string(kMaxResponseBytes >> 20) + " MiB";
    resp.error = std::string(method) + " " + display_url_ + ": " + escape_control(what);
    resp.status = 0;
    resp.uncertain = !not_sent_error(rc);
    resp.body.clear();
    resp.retryable = transient_error(rc) && !sink.too_big;
    return resp;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
  return resp;
}

HttpResponse HttpClient::with_retries(RetryPolicy policy, const std::function<HttpResponse(long*)>& once) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  HttpResponse resp;
  for (int attempt = 0;; ++attempt) {
    long retry_after = -1;
    resp = once(&retry_after);
    bool retry;
    if (resp.status == 0) {
      retry = resp.retryable && (policy == RetryPolicy::kIdempotent || !resp.uncertain);
    } else if (resp.status >= 200 && resp.status < 300) {
      return resp;
    } else {
      retry = transient_status(resp.status) &&
              (policy == RetryPolicy::kIdempotent || not_applied_status(resp.status));
      resp.uncertain = policy == RetryPolicy::kOnce && transient_status(resp.status) &&
                       !not_applied_status(resp.status);
    }
    if (!retry || attempt >= options_.max_retries) return resp;
    // urllib3's Retry: factor * 2^(n-1), at most 120 s, plus MLflow's jitter.
    double wait = std::min(120.0, options_.backoff_factor * std::pow(2.0, attempt));
    if (options_.backoff_jitter > 0)
      wait += std::uniform_real_distribution<double>(0, options_.backoff_jitter)(rng);
    if (options_.respect_retry_after && retry_after >= 0 && (resp.status == 429 || resp.status == 503))
      wait = static_cast<double>(retry_after);
    if (!sleep_interruptible(wait)) {
      resp.error = "interrupted while waiting to retry (" + (resp.error.empty() ? "HTTP " + std::to_string(resp.status) : resp.error) + ")";
      return resp;
    }
  }
}

HttpResponse HttpClient::request(std::string_view method, std::string_view path_and_query, std::string_view json_body,
                                 RetryPolicy policy) {
  std::string url = base_ + std::string(path_and_query);
  return with_retries(policy, [&](long* ra) { return perform(method, url, json_body, nullptr, nullptr, 0, ra); });
}

HttpResponse HttpClient::put_file(std::string_view path, Env& env, const std::string& file, std::uint64_t size) {
  std::string url = base_ + std::string(path);
  return with_retries(RetryPolicy::kIdempotent,
                      [&](long* ra) { return perform("PUT", url, {}, &env, &file, size, ra); });
}

}  // namespace detail
}  // namespace mlruns
