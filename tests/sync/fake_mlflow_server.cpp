#include "sync/fake_mlflow_server.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <regex>
#include <set>
#include <stdexcept>

namespace mlruns::testing {

using nlohmann::json;

namespace {

struct ApiError : std::runtime_error {
  int status;
  std::string code;
  ApiError(int s, std::string c, const std::string& m) : std::runtime_error(m), status(s), code(std::move(c)) {}
};

[[noreturn]] void invalid(const std::string& m) { throw ApiError(400, "INVALID_PARAMETER_VALUE", m); }
[[noreturn]] void missing(const std::string& m) { throw ApiError(404, "RESOURCE_DOES_NOT_EXIST", m); }

std::string random_id() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard<std::mutex> g(mu);
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 32; ++i) s += hex[rng() % 16];
  return s;
}

json value_json(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

double value_from(const json& j) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    std::string s = j.get<std::string>();
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
  }
  invalid("Invalid value for metric value: " + j.dump());
}

json kv_array(const std::map<std::string, std::string>& m) {
  json a = json::array();
  for (const auto& [k, v] : m) a.push_back({{"key", k}, {"value", v}});
  return a;
}

}  // namespace

struct FakeMlflowServer::Impl {
  std::string version;
  bool proxied;
  httplib::Server svr;
  std::thread thread;
  mutable std::mutex mu;
  std::map<std::string, FakeExperiment> experiments;  // by id
  std::map<std::string, FakeRun> runs;                // by id
  std::map<std::string, std::string> artifacts;
  std::vector<Fault> faults;
  std::function<void(int)> on_write;
  std::string authorization;
  int next_experiment = 1;

  bool refuses_colon() const { return version.rfind("2.", 0) == 0; }

  // The fault for this request, if one is queued (consumed).
  std::optional<Fault> take_fault(const std::string& path) {
    std::lock_guard<std::mutex> g(mu);
    for (auto it = faults.begin(); it != faults.end(); ++it) {
      if (path.find(it->endpoint) == std::string::npos) continue;
      Fault f = *it;
      if (--it->count <= 0) faults.erase(it);
      return f;
    }
    return std::nullopt;
  }

  FakeRun& run(const std::string& id) {
    auto it = runs.find(id);
    if (it == runs.end()) missing("Run with id=" + id + " not found");
    return it->second;
  }
  FakeRun& active_run(const std::string& id) {
    FakeRun& r = run(id);
    if (r.lifecycle_stage != "active")
      invalid("The run " + id + " must be in the 'active' state. Current state is " + r.lifecycle_stage + ".");
    return r;
  }

  json run_json(const FakeRun& r) const {
    json info = {{"run_uuid", r.run_id},       {"experiment_id", r.experiment_id}, {"run_name", r.run_name},
                 {"user_id", r.user_id},       {"status", r.status},               {"start_time", r.start_time},
                 {"artifact_uri", r.artifact_uri}, {"lifecycle_stage", r.lifecycle_stage}, {"run_id", r.run_id}};
    if (r.end_time) info["end_time"] = *r.end_time;
    json data = json::object();
    std::map<std::string, FakeMetric> latest;
    for (const FakeMetric& m : r.metrics) {
      auto it = latest.find(m.key);
      if (it == latest.end() || std::make_tuple(m.step, m.timestamp) > std::make_tuple(it->second.step, it->second.timestamp))
        latest[m.key] = m;
    }
    if (!latest.empty()) {
      data["metrics"] = json::array();
      for (const auto& [k, m] : latest)
        data["metrics"].push_back({{"key", k}, {"value", value_json(m.value)}, {"timestamp", m.timestamp}, {"step", m.step}});
    }
    if (!r.params.empty()) data["params"] = kv_array(r.params);
    if (!r.tags.empty()) data["tags"] = kv_array(r.tags);
    json inputs = json::object();
    if (!r.inputs.empty()) {
      inputs["dataset_inputs"] = json::array();
      for (const std::string& s : r.inputs) inputs["dataset_inputs"].push_back(json::parse(s));
    }
    return {{"info", info}, {"data", data}, {"inputs", inputs}};
  }

  json experiment_json(const FakeExperiment& e) const {
    json j = {{"experiment_id", e.experiment_id}, {"name", e.name},
              {"artifact_location", proxied ? "mlflow-artifacts:/" + e.experiment_id : "s3://bucket/" + e.experiment_id},
              {"lifecycle_stage", e.lifecycle_stage}};
    if (!e.tags.empty()) j["tags"] = kv_array(e.tags);
    return j;
  }

  // ---- endpoints: (request JSON or query) -> response JSON; errors thrown as ApiError ----
  json get_by_name(const httplib::Request& req) {
    std::string name = req.get_param_value("experiment_name");
    std::lock_guard<std::mutex> g(mu);
    for (const auto& [id, e] : experiments)
      if (e.name == name) return {{"experiment", experiment_json(e)}};
    missing("Could not find experiment with name '" + name + "'");
  }

  json create_experiment(const json& b) {
    std::lock_guard<std::mutex> g(mu);
    std::string name = b.value("name", "");
    if (name.empty()) invalid("Missing value for required parameter 'name'.");
    for (const auto& [id, e] : experiments)
      if (e.name == name) throw ApiError(400, "RESOURCE_ALREADY_EXISTS", "Experiment(name=" + name + ") already exists.");
    FakeExperiment e;
    e.experiment_id = std::to_string(next_experiment++);
    e.name = name;
    for (const json& t : b.value("tags", json::array())) e.tags[t.value("key", "")] = t.value("value", "");
    experiments[e.experiment_id] = e;
    return {{"experiment_id", e.experiment_id}};
  }

  void check_key(const std::string& what, const std::string& key) {
    if (key.empty() || key.size() > 250) invalid("Invalid " + what + " name: '" + key + "'.");
    if (refuses_colon() && key.find(':') != std::string::npos)
      invalid("Invalid " + what + " name: '" + key + "'. Names may only contain alphanumerics, underscores (_), "
              "dashes (-), periods (.), spaces ( ), and slashes (/).");
  }

  json create_run(const json& b) {
    std::lock_guard<std::mutex> g(mu);
    std::string exp = b.value("experiment_id", "");
    auto e = experiments.find(exp);
    if (e == experiments.end()) missing("No Experiment with id=" + exp + " exists");
    if (e->second.lifecycle_stage != "active") invalid("The experiment " + exp + " must be in the 'active' state.");
    FakeRun r;
    r.run_id = random_id();
    r.experiment_id = exp;
    r.user_id = b.value("user_id", "");
    r.start_time = b.value("start_time", 0LL);
    for (const json& t : b.value("tags", json::array())) {
      check_key("tag", t.value("key", ""));
      r.tags[t.value("key", "")] = t.value("value", "");
    }
    r.run_name = b.value("run_name", "");
    if (r.run_name.empty()) r.run_name = r.tags.count("mlflow.runName") ? r.tags["mlflow.runName"] : "run-" + r.run_id.substr(0, 6);
    r.tags["mlflow.runName"] = r.run_name;
    r.artifact_uri = (proxied ? "mlflow-artifacts:/" : "s3://bucket/") + exp + "/" + r.run_id + "/artifacts";
    runs[r.run_id] = r;
    return {{"run", run_json(r)}};
  }

  json search_runs(const json& b) {
    std::lock_guard<std::mutex> g(mu);
    std::set<std::string> exps;
    for (const json& e : b.value("experiment_ids", json::array())) exps.insert(e.get<std::string>());
    std::string filter = b.value("filter", "");
    std::string view = b.value("run_view_type", "ACTIVE_ONLY");
    std::smatch m;
    static const std::regex tag_eq(R"(^\s*tags\.`([^`]+)`\s*=\s*'([^']*)'\s*$)");
    std::optional<std::pair<std::string, std::string>> want;
    if (!filter.empty()) {
      if (!std::regex_match(filter, m, tag_eq)) invalid("the stand-in server only knows tags.`K` = 'V' filters: " + filter);
      want = std::make_pair(m[1].str(), m[2].str());
    }
    json out = json::array();
    for (const auto& [id, r] : runs) {
      if (!exps.count(r.experiment_id)) continue;
      if (view == "ACTIVE_ONLY" && r.lifecycle_stage != "active") continue;
      if (view == "DELETED_ONLY" && r.lifecycle_stage != "deleted") continue;
      if (want) {
        auto t = r.tags.find(want->first);
        if (t == r.tags.end() || t->second != want->second) continue;
      }
      out.push_back(run_json(r));
    }
    json res = json::object();
    if (!out.empty()) res["runs"] = out;
    return res;
  }

  json get_run(const httplib::Request& req) {
    std::lock_guard<std::mutex> g(mu);
    return {{"run", run_json(run(req.get_param_value("run_id")))}};
  }

  json update_run(const json& b) {
    std::lock_guard<std::mutex> g(mu);
    FakeRun& r = active_run(b.value("run_id", ""));
    if (b.contains("status")) r.status = b["status"].get<std::string>();
    if (b.contains("end_time")) r.end_time = b["end_time"].get<std::int64_t>();
    if (b.contains("run_name") && !b["run_name"].get<std::string>().empty()) {
      r.run_name = b["run_name"].get<std::string>();
      r.tags["mlflow.runName"] = r.run_name;
    }
    return {{"run_info", run_json(r)["info"]}};
  }

  json set_lifecycle(const json& b, const char* stage) {
    std::lock_guard<std::mutex> g(mu);
    run(b.value("run_id", "")).lifecycle_stage = stage;
    return json::object();
  }

  json log_batch(const json& b, std::size_t body_size, bool half) {
    std::lock_guard<std::mutex> g(mu);
    FakeRun& r = active_run(b.value("run_id", ""));
    json metrics = b.value("metrics", json::array()), params = b.value("params", json::array()),
         tags = b.value("tags", json::array());
    // mlflow/utils/validation.py _validate_batch_log_limits and _validate_batch_log_api_req.
    if (metrics.size() > 1000) invalid("A batch logging request can contain at most 1000 metrics. Got " + std::to_string(metrics.size()));
    if (params.size() > 100) invalid("A batch logging request can contain at most 100 params.");
    if (tags.size() > 100) invalid("A batch logging request can contain at most 100 tags.");
    if (metrics.size() + params.size() + tags.size() > 1000) invalid("A batch logging request can contain at most 1000 entities.");
    if (body_size > 1000000) invalid("Batched logging API requests must be at most 1000000 bytes");
    std::vector<FakeMetric> ms;
    for (const json& m : metrics) {
      check_key("metric", m.value("key", ""));
      ms.push_back({m.value("key", ""), value_from(m.at("value")), m.value("timestamp", 0LL), m.value("step", 0LL)});
    }
    std::string conflicts;
    for (const json& p : params) {
      std::string k = p.value("key", ""), v = p.value("value", "");
      check_key("parameter", k);
      auto it = r.params.find(k);
      if (it != r.params.end() && it->second != v)
        conflicts += "{'key': '" + k + "', 'old_value': '" + it->second + "', 'new_value': '" + v + "'}";
    }
    if (!conflicts.empty())
      invalid("Changing param values is not allowed. Params were already logged='[" + conflicts + "]' for run ID='" +
              r.run_id + "'.");
    for (const json& t : tags) check_key("tag", t.value("key", ""));
    // Not atomic, as the stores are: params, then metrics, then tags.
    for (const json& p : params) r.params[p.value("key", "")] = p.value("value", "");
    std::size_t n = half ? ms.size() / 2 : ms.size();
    for (std::size_t i = 0; i < n; ++i) r.metrics.push_back(ms[i]);
    if (half) throw ApiError(500, "INTERNAL_ERROR", "the database went away in the middle of the batch");
    for (const json& t : tags) {
      r.tags[t.value("key", "")] = t.value("value", "");
      if (t.value("key", "") == "mlflow.runName") r.run_name = t.value("value", "");
    }
    return json::object();
  }

  json log_inputs(const json& b) {
    std::lock_guard<std::mutex> g(mu);
    FakeRun& r = active_run(b.value("run_id", ""));
    for (const json& d : b.value("datasets", json::array())) {
      std::string s = d.dump();
      bool seen = false;
      for (const std::string& have : r.inputs) {
        json h = json::parse(have);
        if (h["dataset"]["name"] == d["dataset"]["name"] && h["dataset"]["digest"] == d["dataset"]["digest"]) seen = true;
      }
      if (!seen) r.inputs.push_back(s);
    }
    return json::object();
  }

  json get_history(const httplib::Request& req) {
    std::lock_guard<std::mutex> g(mu);
    FakeRun& r = run(req.get_param_value("run_id"));
    std::string key = req.get_param_value("metric_key");
    // MLflow 3.x: without max_results the handler asks for 0 points and answers with only a token.
    if (!req.has_param("max_results")) return {{"next_page_token", "0"}};
    // Pages of at most 1,000 points whatever is asked, so the tests page through long histories.
    std::size_t max = std::min<std::size_t>(std::stoul(req.get_param_value("max_results")), 1000);
    std::size_t offset = req.has_param("page_token") ? std::stoul(req.get_param_value("page_token")) : 0;
    json out = json::array();
    std::size_t seen = 0;
    bool more = false;
    for (const FakeMetric& m : r.metrics) {
      if (m.key != key) continue;
      if (seen++ < offset) continue;
      if (out.size() == max) {
        more = true;
        break;
      }
      out.push_back({{"key", m.key}, {"value", value_json(m.value)}, {"timestamp", m.timestamp}, {"step", m.step}});
    }
    json res = json::object();
    if (!out.empty()) res["metrics"] = out;
    if (more) res["next_page_token"] = std::to_string(offset + out.size());
    return res;
  }

  json list_artifacts(const httplib::Request& req) {
    std::lock_guard<std::mutex> g(mu);
    FakeRun& r = run(req.get_param_value("run_id"));
    std::string path = req.get_param_value("path");
    std::string root = r.experiment_id + "/" + r.run_id + "/artifacts/";
    std::string prefix = root + (path.empty() ? "" : path + "/");
    std::map<std::string, json> entries;
    for (const auto& [p, content] : artifacts) {
      if (p.rfind(prefix, 0) != 0) continue;
      std::string rest = p.substr(prefix.size());
      auto slash = rest.find('/');
      std::string rel = (path.empty() ? "" : path + "/") + rest.substr(0, slash);
      if (slash == std::string::npos) entries[rel] = {{"path", rel}, {"is_dir", false}, {"file_size", content.size()}};
      else entries[rel] = {{"path", rel}, {"is_dir", true}};
    }
    json files = json::array();
    for (auto& [_, e] : entries) files.push_back(e);
    json res = {{"root_uri", r.artifact_uri}};
    if (!files.empty()) res["files"] = files;
    return res;
  }
};

FakeMlflowServer::FakeMlflowServer(std::string version, bool proxied_artifacts) : impl_(std::make_unique<Impl>()) {
  Impl& im = *impl_;
  im.version = std::move(version);
  im.proxied = proxied_artifacts;
  im.experiments["0"] = FakeExperiment{"0", "Default", "active", {}};
  // Keep-alive connections hold a worker each: enough workers for two syncs of 8 jobs.
  im.svr.new_task_queue = [] { return new httplib::ThreadPool(40); };
  im.svr.set_keep_alive_max_count(100000);
  im.svr.set_keep_alive_timeout(30);

  auto serve = [this](const httplib::Request& req, httplib::Response& res, bool write,
                      const std::function<json(bool half)>& fn) {
    ++requests_;
    {
      std::lock_guard<std::mutex> g(impl_->mu);
      impl_->authorization = req.get_header_value("Authorization");
    }
    if (write) {
      int n = ++writes_;
      std::function<void(int)> hook;
      {
        std::lock_guard<std::mutex> g(impl_->mu);
        hook = impl_->on_write;
      }
      if (hook) hook(n);
    }
    std::optional<Fault> fault = impl_->take_fault(req.path);
    auto drop = [&res] {
      res.set_content_provider(100, "application/json", [](size_t, size_t, httplib::DataSink&) { return false; });
    };
    if (fault && fault->kind == FaultKind::kSlow) std::this_thread::sleep_for(std::chrono::milliseconds(fault->delay_ms));
    if (fault && fault->kind == FaultKind::kStatusBefore) {
      res.status = fault->status;
      if (fault->retry_after >= 0) res.set_header("Retry-After", std::to_string(fault->retry_after));
      res.set_content(json{{"error_code", fault->status == 429 ? "REQUEST_LIMIT_EXCEEDED" : "TEMPORARILY_UNAVAILABLE"},
                           {"message", "injected fault"}}.dump(), "application/json");
      return;
    }
    if (fault && fault->kind == FaultKind::kDropBefore) return drop();
    json out;
    try {
      if (req.method == "POST" && req.get_header_value("Content-Type").rfind("application/json", 0) != 0)
        invalid("Bad Request. Content-Type must be one of ['application/json'].");
      out = fn(fault && fault->kind == FaultKind::kHalfBatch);
    } catch (const ApiError& e) {
      res.status = e.status;
      res.set_content(json{{"error_code", e.code}, {"message", e.what()}}.dump(), "application/json");
      return;
    } catch (const std::exception& e) {
      res.status = 400;
      res.set_content(json{{"error_code", "BAD_REQUEST"}, {"message", e.what()}}.dump(), "application/json");
      return;
    }
    if (fault && fault->kind == FaultKind::kDropAfter) return drop();
    if (fault && fault->kind == FaultKind::kStatusAfter) {
      res.status = fault->status;
      res.set_content(R"({"error_code": "INTERNAL_ERROR", "message": "injected fault after commit"})", "application/json");
      return;
    }
    res.set_content(out.dump(), "application/json");
  };
  auto body = [](const httplib::Request& req) { return req.body.empty() ? json::object() : json::parse(req.body); };
  const std::string api = "/api/2.0/mlflow/";
  auto& s = im.svr;
  s.Get("/version", [this](const httplib::Request&, httplib::Response& res) { res.set_content(impl_->version, "text/plain"); });
  s.Get(api + "experiments/get-by-name", [=, &im](const auto& req, auto& res) {
    serve(req, res, false, [&](bool) { return im.get_by_name(req); });
  });
  s.Post(api + "experiments/create", [=, &im](const auto& req, auto& res) {
    serve(req, res, true, [&](bool) { return im.create_experiment(body(req)); });
  });
  s.Post(api + "runs/create", [=, &im](const auto& req, auto& res) {
    serve(req, res, true, [&](bool) { return im.create_run(body(req)); });
  });
  s.Post(api + "runs/search", [=, &im](const auto& req, auto& res) {
    serve(req, res, false, [&](bool) { return im.search_runs(body(req)); });
  });
  s.Get(api + "runs/get", [=, &im](const auto& req, auto& res) {
    serve(req, res, false, [&](bool) { return im.get_run(req); });
  });
  s.Post(api + "runs/update", [=, &im](const auto& req, auto& res) {
    serve(req, res, true, [&](bool) { return im.update_run(body(req)); });
  });
  s.Post(api + "runs/delete", [=, &im](const auto& req, auto& res) {
    serve(req, res, true, [&](bool) { return im.set_lifecycle(body(req), "deleted"); });
  });
  s.Post(api + "runs/restore", [=, &im](const auto& req, auto& res) {
    serve(req, res, true, [&](bool) { return im.set_lifecycle(body(req), "active"); });
  });
  s.Post(api + "runs/log-batch", [=, &im](const auto& req, auto& res) {
    serve(req, res, true, [&](bool half) { return im.log_batch(body(req), req.body.size(), half); });
  });
  s.Post(api + "runs/log-inputs", [=, &im](const auto& req, auto& res) {
    serve(req, res, true, [&](bool) { return im.log_inputs(body(req)); });
  });
  s.Get(api + "metrics/get-history", [=, &im](const auto& req, auto& res) {
    serve(req, res, false, [&](bool) { return im.get_history(req); });
  });
  s.Get(api + "artifacts/list", [=, &im](const auto& req, auto& res) {
    serve(req, res, false, [&](bool) { return im.list_artifacts(req); });
  });
  s.Put(R"(/api/2.0/mlflow-artifacts/artifacts/(.+))", [=, this, &im](const auto& req, auto& res) {
    serve(req, res, true, [&](bool) {
      ++puts_;
      std::lock_guard<std::mutex> g(im.mu);
      im.artifacts[req.matches[1].str()] = req.body;
      return json::object();
    });
  });
  port_ = s.bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("stand-in MLflow server: cannot bind 127.0.0.1");
  im.thread = std::thread([&im] { im.svr.listen_after_bind(); });
  while (!s.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

FakeMlflowServer::~FakeMlflowServer() {
  impl_->svr.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string FakeMlflowServer::last_authorization() const {
  std::lock_guard<std::mutex> g(impl_->mu);
  return impl_->authorization;
}

std::string FakeMlflowServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void FakeMlflowServer::add_fault(const Fault& fault) {
  std::lock_guard<std::mutex> g(impl_->mu);
  impl_->faults.push_back(fault);
}

void FakeMlflowServer::on_write(std::function<void(int)> hook) {
  std::lock_guard<std::mutex> g(impl_->mu);
  impl_->on_write = std::move(hook);
}

std::vector<FakeRun> FakeMlflowServer::runs() const {
  std::lock_guard<std::mutex> g(impl_->mu);
  std::vector<FakeRun> out;
  for (const auto& [id, r] : impl_->runs) out.push_back(r);
  return out;
}

std::vector<FakeExperiment> FakeMlflowServer::experiments() const {
  std::lock_guard<std::mutex> g(impl_->mu);
  std::vector<FakeExperiment> out;
  for (const auto& [id, e] : impl_->experiments) out.push_back(e);
  return out;
}

std::map<std::string, std::string> FakeMlflowServer::artifacts() const {
  std::lock_guard<std::mutex> g(impl_->mu);
  return impl_->artifacts;
}

std::optional<FakeRun> FakeMlflowServer::run_by_source(const std::string& source) const {
  std::lock_guard<std::mutex> g(impl_->mu);
  for (const auto& [id, r] : impl_->runs) {
    auto t = r.tags.find("mlruns.sync.source");
    if (t != r.tags.end() && t->second == source) return r;
  }
  return std::nullopt;
}

void FakeMlflowServer::delete_experiment(const std::string& name) {
  std::lock_guard<std::mutex> g(impl_->mu);
  for (auto& [id, e] : impl_->experiments) {
    if (e.name == name) {
      e.lifecycle_stage = "deleted";
      return;
    }
  }
  FakeExperiment e{std::to_string(impl_->next_experiment++), name, "deleted", {}};
  impl_->experiments[e.experiment_id] = e;
}

void FakeMlflowServer::delete_run(const std::string& run_id) {
  std::lock_guard<std::mutex> g(impl_->mu);
  impl_->runs.at(run_id).lifecycle_stage = "deleted";
}

void FakeMlflowServer::set_param(const std::string& run_id, const std::string& key, const std::string& value) {
  std::lock_guard<std::mutex> g(impl_->mu);
  impl_->runs.at(run_id).params[key] = value;
}

}  // namespace mlruns::testing
