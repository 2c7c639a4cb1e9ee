// Status and Result: how every fallible mlruns call reports failure.
//
// The library never throws from its core: functions return a Status (or a
// Result<T>, which is a T or a Status). A Status names what failed and why,
// e.g. "param key '../x': a key must not start with '..' (spec §6.1)".
// The facade types (Store, Run) turn a failed Status into an mlruns::Error
// exception or into a counted failure, as ErrorMode says (options.h).
//
// Thread safety: Status and Result are values; copies are independent.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace mlruns {

enum class Code {
  kOk = 0,
  kInvalidArgument,     // a name, value or option breaks a rule
  kNotFound,            // no such experiment, run, key or file
  kAlreadyExists,       // e.g. a param logged again with another value
  kFailedPrecondition,  // e.g. writing to a deleted run
  kCorruption,          // the tree holds something unreadable
  kIOError,             // the operating system refused (errno in the message)
  kNotSupported,        // e.g. an http:// tracking URI
};

// Returns "ok", "invalid argument", ... for messages.
std::string_view code_name(Code code);

class Status {
 public:
  Status() = default;  // OK

  static Status ok() { return {}; }
  // `context` says where (a path, a key, a value); `detail` says what rule broke.
  static Status invalid_argument(std::string_view context, std::string_view detail = {}) {
    return {Code::kInvalidArgument, context, detail};
  }
  static Status not_found(std::string_view context, std::string_view detail = {}) {
    return {Code::kNotFound, context, detail};
  }
  static Status already_exists(std::string_view context, std::string_view detail = {}) {
    return {Code::kAlreadyExists, context, detail};
  }
  static Status failed_precondition(std::string_view context, std::string_view detail = {}) {
    return {Code::kFailedPrecondition, context, detail};
  }
  static Status corruption(std::string_view context, std::string_view detail = {}) {
    return {Code::kCorruption, context, detail};
  }
  static Status io_error(std::string_view context, std::string_view detail = {}) {
    return {Code::kIOError, context, detail};
  }
  // An I/O error from errno: "<context>: <strerror(err)>".
  static Status from_errno(std::string_view context, int err);
  static Status not_supported(std::string_view context, std::string_view detail = {}) {
    return {Code::kNotSupported, context, detail};
  }

  bool is_ok() const { return code_ == Code::kOk; }
  explicit operator bool() const { return is_ok(); }
  Code code() const { return code_; }
  int os_error() const { return errno_; }  // errno for from_errno, else 0
  const std::string& message() const { return message_; }
  // "<code name>: <message>", or "ok".
  std::string to_string() const;

  // Returns a copy whose message is prefixed with `context: `.
  Status with_context(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  Status(Code code, std::string_view context, std::string_view detail);

  Code code_ = Code::kOk;
  int errno_ = 0;
  std::string message_{};
};

// A value or the Status that explains why there is none.
template <typename T>
using Result = tl::expected<T, Status>;

// Wraps a failed Status for tl::expected: `return fail(Status::not_found(...));`
inline tl::unexpected<Status> fail(Status s) { return tl::unexpected<Status>(std::move(s)); }

// Thrown by the facade types in ErrorMode::kThrow.
class Error : public std::runtime_error {
 public:
  explicit Error(Status status) : std::runtime_error(status.to_string()), status_(std::move(status)) {}
  const Status& status() const { return status_; }

 private:
  Status status_{};
};

}  // namespace mlruns

// Propagates a failed Status from an expression that yields a Status.
#define MLRUNS_RETURN_IF_ERROR(expr)          \
  do {                                        \
    ::mlruns::Status mlruns_status_ = (expr); \
    if (!mlruns_status_.is_ok()) return mlruns_status_; \
  } while (0)
