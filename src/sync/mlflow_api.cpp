#include "sync/mlflow_api.h"

#include <cmath>
#include <limits>

#include "util/printable.h"

namespace mlruns::detail {

using nlohmann::json;

namespace {

constexpr std::string_view kApi = "/api/2.0/mlflow/";

Code code_for(std::string_view error_code, long status) {
  if (error_code == "RESOURCE_DOES_NOT_EXIST" || (error_code.empty() && status == 404)) return Code::kNotFound;
  if (error_code == "RESOURCE_ALREADY_EXISTS") return Code::kAlreadyExists;
  if (error_code == "INVALID_PARAMETER_VALUE" || error_code == "INVALID_STATE" || error_code == "BAD_REQUEST")
    return Code::kInvalidArgument;
  if (error_code == "PERMISSION_DENIED" || error_code == "UNAUTHENTICATED") return Code::kFailedPrecondition;
  return Code::kIOError;
}

Status make_status(Code code, const std::string& context, const std::string& detail) {
  switch (code) {
    case Code::kNotFound: return Status::not_found(context, detail);
    case Code::kAlreadyExists: return Status::already_exists(context, detail);
    case Code::kInvalidArgument: return Status::invalid_argument(context, detail);
    case Code::kFailedPrecondition: return Status::failed_precondition(context, detail);
    default: return Status::io_error(context, detail);
  }
}

}  // namespace

Result<json> MlflowApi::finish(std::string_view what, const HttpResponse& r) {
  last_uncertain_ = false;
  last_error_code_.clear();
  std::string context = "server " + http_.display_url() + ": " + std::string(what);
  if (r.status == 0) {
    last_uncertain_ = r.uncertain;
    return fail(Status::io_error(context, r.error));
  }
  if (r.status >= 200 && r.status < 300) {
    if (r.body.empty()) return json::object();
    try {
      return json::parse(r.body);
    } catch (const std::exception&) {
      return fail(Status::io_error(context, "HTTP " + std::to_string(r.status) + " with a body that is not JSON"));
    }
  }
  last_uncertain_ = r.uncertain;
  std::string message;
  try {
    json j = json::parse(r.body);
    if (j.is_object()) {
      last_error_code_ = j.value("error_code", "");
      message = j.value("message", "");
    }
  } catch (const std::exception&) {
    message = r.body;
  }
  if (message.size() > 500) message = message.substr(0, 500) + "...";
  std::string detail = "HTTP " + std::to_string(r.status);
  if (!last_error_code_.empty()) detail += " " + escape_control(last_error_code_);
  if (!message.empty()) detail += ": " + escape_control(message);
  return fail(make_status(code_for(last_error_code_, r.status), context, detail));
}

Result<json> MlflowApi::get(std::string_view endpoint, const std::vector<std::pair<std::string, std::string>>& query) {
  std::string path = std::string(kApi) + std::string(endpoint);
  char sep = '?';
  for (const auto& [k, v] : query) {
    path += sep;
    path += url_encode(k) + "=" + url_encode(v);
    sep = '&';
  }
  ++reads_;
  return finish(endpoint, http_.request("GET", path, {}, RetryPolicy::kIdempotent));
}

Result<json> MlflowApi::post(std::string_view endpoint, const json& body, RetryPolicy policy, bool write) {
  std::string path = std::string(kApi) + std::string(endpoint);
  std::string text = body.dump(-1, ' ', false, json::error_handler_t::replace);
  ++(write ? writes_ : reads_);
  return finish(endpoint, http_.request("POST", path, text, policy));
}

Status MlflowApi::put_artifact(std::string_view path, Env& env, const std::string& file, std::uint64_t size) {
  ++writes_;
  auto r = finish("mlflow-artifacts PUT", http_.put_file("/api/2.0/mlflow-artifacts/artifacts/" +
                                                             url_encode(path, /*keep_slash=*/true),
                                                         env, file, size));
  return r ? Status::ok() : r.error();
}

Result<std::string> MlflowApi::version() {
  ++reads_;
  HttpResponse r = http_.request("GET", "/version", {}, RetryPolicy::kIdempotent);
  if (r.status == 0) return fail(Status::io_error("server " + http_.display_url(), "cannot be reached: " + r.error));
  if (r.status != 200 || r.body.size() > 64) return std::string();
  std::string v = r.body;
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  if (v.empty() || v.find_first_not_of("0123456789.abcdefghijklmnopqrstuvwxyz+-") != std::string::npos)
    return std::string();
  return v;
}

json metric_value_json(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

bool metric_value_from_json(const json& j, double& out) {
  if (j.is_number()) {
    out = j.get<double>();
    return true;
  }
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (s == "NaN") out = std::numeric_limits<double>::quiet_NaN();
    else if (s == "Infinity") out = std::numeric_limits<double>::infinity();
    else if (s == "-Infinity") out = -std::numeric_limits<double>::infinity();
    else return false;
    return true;
  }
  return false;
}

}  // namespace mlruns::detail
