#include "mlruns/status.h"

#include <cstring>

namespace mlruns {

std::string_view code_name(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kInvalidArgument: return "invalid argument";
    case Code::kNotFound: return "not found";
    case Code::kAlreadyExists: return "already exists";
    case Code::kFailedPrecondition: return "failed precondition";
    case Code::kCorruption: return "corruption";
    case Code::kIOError: return "I/O error";
    case Code::kNotSupported: return "not supported";
  }
  return "unknown";
}

Status::Status(Code code, std::string_view context, std::string_view detail) : code_(code) {
  message_.assign(context);
  if (!detail.empty()) {
    if (!message_.empty()) message_ += ": ";
    message_ += detail;
  }
}

Status Status::from_errno(std::string_view context, int err) {
  Status s(Code::kIOError, context, std::strerror(err));
  s.errno_ = err;
  return s;
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  std::string out(code_name(code_));
  out += ": ";
  out += message_;
  return out;
}

Status Status::with_context(std::string_view context) const {
  if (is_ok()) return *this;
  Status s = *this;
  s.message_ = std::string(context) + ": " + message_;
  return s;
}

}  // namespace mlruns
