// The part of MLflow's REST API that sync uses (mlflow/protos/service.proto,
// mlflow/server/handlers.py), as JSON in and out. Errors become a Status:
// RESOURCE_DOES_NOT_EXIST -> kNotFound, RESOURCE_ALREADY_EXISTS ->
// kAlreadyExists, INVALID_PARAMETER_VALUE -> kInvalidArgument, the rest
// kIOError; the message names the endpoint, the server's error_code and its
// message (escaped, cut at 500 bytes).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlruns/status.h"
#include "sync/http_client.h"

namespace mlruns::detail {

class MlflowApi {
 public:
  explicit MlflowApi(HttpClient& http) : http_(http) {}

  // GET /api/2.0/mlflow/<endpoint>?<query> (a read).
  Result<nlohmann::json> get(std::string_view endpoint, const std::vector<std::pair<std::string, std::string>>& query);
  // POST /api/2.0/mlflow/<endpoint> with a JSON body. `write` counts it as a write request.
  Result<nlohmann::json> post(std::string_view endpoint, const nlohmann::json& body, RetryPolicy policy,
                              bool write = true);
  // PUT of a file to /api/2.0/mlflow-artifacts/artifacts/<path>.
  Status put_artifact(std::string_view path, Env& env, const std::string& file, std::uint64_t size);
  // GET /version: "3.8.2" etc.; empty when the server does not say. An
  // error only when no HTTP answer came at all (after the retries): the
  // server cannot be reached.
  Result<std::string> version();

  // The last failed call may have been applied (a 500 or a dropped
  // connection after the request went out): verify before sending again.
  bool last_uncertain() const { return last_uncertain_; }
  // error_code of the last failed call ("INVALID_PARAMETER_VALUE"), if the server gave one.
  const std::string& last_error_code() const { return last_error_code_; }
  HttpClient& http() { return http_; }

  std::uint64_t write_requests() const { return writes_; }
  std::uint64_t read_requests() const { return reads_; }

 private:
  Result<nlohmann::json> finish(std::string_view what, const HttpResponse& r);

  HttpClient& http_;
  bool last_uncertain_ = false;
  std::string last_error_code_;
  std::uint64_t writes_ = 0;
  std::uint64_t reads_ = 0;
};

// A metric value as MLflow's JSON writes it (protobuf JSON): a number, or
// the strings "NaN", "Infinity", "-Infinity" (tests/fixtures/mlflow-3.8/rest/).
nlohmann::json metric_value_json(double v);
// Reads one back; false if it is neither.
bool metric_value_from_json(const nlohmann::json& j, double& out);

}  // namespace mlruns::detail
