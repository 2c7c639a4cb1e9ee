// A stand-in MLflow tracking server for the sync tests: exactly the part of
// MLflow's REST contract that sync relies on, with MLflow's JSON shapes and
// error codes (mlflow/protos/service.proto, mlflow/server/handlers.py,
// mlflow/utils/validation.py, tests/fixtures/mlflow-3.8/rest/), served by
// cpp-httplib on 127.0.0.1 and an ephemeral port, in the test process.
//
// Like MLflow's file store (and unlike its SQL store) it keeps duplicate
// metric points, so a test sees every point sync sent twice. Like 3.x it
// answers get-history without max_results with a page token and no points;
// its pages hold at most 1,000 points, so long histories take several.
// Faults can be queued per endpoint: an HTTP status (429 with Retry-After,
// 500, 503) before or after the request is applied, a connection dropped
// before or after it is applied, a slow answer, half a batch applied.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mlruns::testing {

struct FakeMetric {
  std::string key;
  double value = 0;
  std::int64_t timestamp = 0;
  std::int64_t step = 0;
};

struct FakeRun {
  std::string run_id;
  std::string experiment_id;
  std::string run_name;
  std::string user_id;
  std::string status = "RUNNING";
  std::string lifecycle_stage = "active";
  std::string artifact_uri;
  std::int64_t start_time = 0;
  std::optional<std::int64_t> end_time;
  std::map<std::string, std::string> params;
  std::map<std::string, std::string> tags;
  std::vector<FakeMetric> metrics;  // every point, in arrival order
  std::vector<std::string> inputs;  // dataset input JSON, one per (name, digest)
};

struct FakeExperiment {
  std::string experiment_id;
  std::string name;
  std::string lifecycle_stage = "active";
  std::map<std::string, std::string> tags;
};

enum class FaultKind {
  kStatusBefore,  // answer `status` without applying
  kStatusAfter,   // apply, then answer `status` (a 500 after commit)
  kDropBefore,    // close the connection without applying
  kDropAfter,     // apply, then close the connection (the answer is lost)
  kSlow,          // wait `delay_ms`, then behave normally
  kHalfBatch,     // log-batch: apply the first half of the metrics, then answer 500
};

struct Fault {
  std::string endpoint;  // substring of the path, e.g. "runs/log-batch"
  FaultKind kind = FaultKind::kStatusBefore;
  int status = 500;
  int retry_after = -1;  // seconds, for 429/503; -1: no header
  int delay_ms = 0;
  int count = 1;  // how many requests it hits
};

class FakeMlflowServer {
 public:
  // `version` is what GET /version answers; "2.x" versions refuse ':' in keys.
  explicit FakeMlflowServer(std::string version = "3.8.2", bool proxied_artifacts = true);
  ~FakeMlflowServer();

  std::string url() const;
  int port() const { return port_; }

  void add_fault(const Fault& fault);
  // Called with the running count of write requests (log-batch, create,
  // update, PUT ...) before each one is handled; tests kill a child there.
  void on_write(std::function<void(int)> hook);

  // Snapshots (thread-safe).
  std::vector<FakeRun> runs() const;
  std::vector<FakeExperiment> experiments() const;
  std::map<std::string, std::string> artifacts() const;  // "<exp>/<run>/artifacts/<path>" -> content
  int write_requests() const { return writes_.load(); }
  int requests() const { return requests_.load(); }
  int artifact_puts() const { return puts_.load(); }
  // The Authorization header of the last request ("" if none).
  std::string last_authorization() const;
  std::optional<FakeRun> run_by_source(const std::string& source) const;
  // Deletes an experiment (made first if absent) or a run, as `mlflow experiments delete` would.
  void delete_experiment(const std::string& name);
  void delete_run(const std::string& run_id);
  void set_param(const std::string& run_id, const std::string& key, const std::string& value);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::atomic<int> writes_{0};
  std::atomic<int> requests_{0};
  std::atomic<int> puts_{0};
};

}  // namespace mlruns::testing
