// mlruns._mlruns: the Python binding of the public C++ API (include/mlruns/).
// Thin by design: names, defaults and errors are the C++ ones; the Pythonic
// layer (context managers, value conversion, plain result objects) lives in
// mlruns/__init__.py. Every call that touches the file system releases the
// GIL (py::gil_scoped_release), so other Python threads run meanwhile.
// Failures become mlruns.MlrunsError subclasses (one per mlruns::Code) with
// .code set to the code's name ("invalid argument", "not found", ...).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "mlruns/download.h"
#include "mlruns/key.h"
#include "mlruns/rank.h"
#include "mlruns/reader.h"
#include "mlruns/search.h"
#include "mlruns/status.h"
#include "mlruns/store.h"
#include "mlruns/types.h"

namespace py = pybind11;
using mlruns::Status;

namespace {

using Release = py::call_guard<py::gil_scoped_release>;

// The Python exception class of each code, created in PYBIND11_MODULE.
std::map<mlruns::Code, py::object>& exception_classes() {
  static auto* classes = new std::map<mlruns::Code, py::object>();  // never destroyed: outlives the interpreter
  return *classes;
}

// Throws mlruns::Error for a failed Status; the registered translator turns
// it into the Python class of its code (with the GIL held again).
void check(const Status& s) {
  if (!s.is_ok()) throw mlruns::Error(s);
}

template <typename T>
T unwrap(mlruns::Result<T> r) {
  if (!r) throw mlruns::Error(r.error());
  return std::move(*r);
}

mlruns::RunStatus run_status(const std::string& name) {
  auto s = mlruns::parse_run_status(name);
  if (!s)
    throw mlruns::Error(Status::invalid_argument(
        "run status '" + name + "'", "must be one of RUNNING, SCHEDULED, FINISHED, FAILED, KILLED (MLflow's RunStatus)"));
  return *s;
}

mlruns::ViewType view_type(const std::string& name) {
  if (name == "ACTIVE_ONLY") return mlruns::ViewType::kActiveOnly;
  if (name == "DELETED_ONLY") return mlruns::ViewType::kDeletedOnly;
  if (name == "ALL") return mlruns::ViewType::kAll;
  throw mlruns::Error(Status::invalid_argument("view_type '" + name + "'",
                                               "must be ACTIVE_ONLY, DELETED_ONLY or ALL (MLflow's ViewType)"));
}

// (key, value, timestamp_ms, step) tuples, as the Python layer builds them.
using MetricTuple = std::tuple<std::string, double, std::int64_t, std::int64_t>;

std::vector<mlruns::Metric> to_metrics(const std::vector<MetricTuple>& points) {
  std::vector<mlruns::Metric> out;
  out.reserve(points.size());
  for (const auto& [key, value, ts, step] : points) {
    mlruns::Metric m;
    m.key = key;
    m.value = value;
    m.timestamp = ts;
    m.step = step;
    out.push_back(std::move(m));
  }
  return out;
}

// A Python int that fits in int64, or nullopt (not an exact int, or too large).
std::optional<std::int64_t> exact_int64(PyObject* o) {
  if (!PyLong_CheckExact(o)) return std::nullopt;  // bool is a subclass, not exact
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
  if (overflow != 0 || (v == -1 && PyErr_Occurred())) {
    PyErr_Clear();
    return std::nullopt;
  }
  return static_cast<std::int64_t>(v);
}

// True if MLflow's metric validators (mlflow/utils/validation.py: _validate_metric,
// _validate_metric_name, path_not_unique, _validate_length_limit; the same in 2.10, 3.8
// and 3.11) accept this key, value, timestamp and step without a doubt: a str key of 1 to
// 250 ASCII characters of [A-Za-z0-9_.-/ ] (no ':', which 2.10 and Windows refuse), that
// posixpath.normpath leaves as it is (no empty, '.' or '..' part, no leading '/' or '..');
// a float or int value (not bool); int timestamp >= 0; int step. Anything else is for
// MLflow's own validators to judge (and word).
bool plainly_valid_metric(PyObject* key, PyObject* value, PyObject* timestamp, PyObject* step) {
  if (!PyUnicode_CheckExact(key) || !PyUnicode_IS_ASCII(key)) return false;
  const Py_ssize_t n = PyUnicode_GET_LENGTH(key);
  if (n < 1 || n > 250) return false;
  std::string_view k(static_cast<const char*>(PyUnicode_DATA(key)), static_cast<std::size_t>(n));
  for (char c : k) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-' || c == '/' || c == ' ';
    if (!ok) return false;
  }
  if (k.starts_with("..")) return false;
  for (std::size_t begin = 0;;) {  // every '/'-separated part: not empty, not '.' or '..'
    const std::size_t end = std::min(k.find('/', begin), k.size());
    const std::string_view part = k.substr(begin, end - begin);
    if (part.empty() || part == "." || part == "..") return false;
    if (end == k.size()) break;
    begin = end + 1;
  }
  if (!PyFloat_CheckExact(value) && !exact_int64(value)) return false;
  auto ts = exact_int64(timestamp);
  return ts && *ts >= 0 && exact_int64(step).has_value();
}

// Metric points from a sequence of objects with .key, .value, .timestamp and .step
// (MLflow's Metric entities, or mlruns.Metric), read with the GIL held: value as
// float(value), timestamp as int(timestamp), step as int(step or 0), the conversions
// the plugin made in Python before (no tuple per point). With `plain` given, each
// point is first checked with plainly_valid_metric: at the first that is not,
// *plain is false and nothing is returned.
std::vector<mlruns::Metric> metrics_of_objects(const py::sequence& objects, bool* plain = nullptr) {
  const py::str kKey("key"), kValue("value"), kTimestamp("timestamp"), kStep("step");
  std::vector<mlruns::Metric> out;
  const std::size_t n = py::len(objects);
  out.reserve(n);
  auto as_int = [](const py::object& o) -> std::int64_t {
    if (PyLong_CheckExact(o.ptr())) return o.cast<std::int64_t>();
    return py::int_(o).cast<std::int64_t>();  // int(x), as Python's int() takes it
  };
  for (std::size_t i = 0; i < n; ++i) {
    py::object m = objects[i];
    mlruns::Metric metric;
    py::object key = m.attr(kKey), value = m.attr(kValue), timestamp = m.attr(kTimestamp), step = m.attr(kStep);
    if (plain && !plainly_valid_metric(key.ptr(), value.ptr(), timestamp.ptr(), step.ptr())) {
      *plain = false;
      return {};
    }
    metric.key = key.cast<std::string>();
    metric.value = PyFloat_CheckExact(value.ptr()) ? PyFloat_AS_DOUBLE(value.ptr()) : py::float_(value).cast<double>();
    metric.timestamp = as_int(timestamp);
    int truthy = PyObject_IsTrue(step.ptr());
    if (truthy < 0) throw py::error_already_set();
    metric.step = truthy ? as_int(step) : 0;
    out.push_back(std::move(metric));
  }
  return out;
}

mlruns::StoreOptions store_options(const std::string& tracking_uri, const std::string& errors,
                                   const std::string& durability, std::size_t flush_max_points,
                                   double flush_max_age_s, bool write_through, const std::string& long_values,
                                   const std::string& name_rules, double heartbeat_s) {
  mlruns::StoreOptions o;
  o.tracking_uri = tracking_uri;
  if (errors == "raise") o.errors = mlruns::ErrorMode::kThrow;
  else if (errors == "count") o.errors = mlruns::ErrorMode::kCount;
  else throw mlruns::Error(Status::invalid_argument("errors '" + errors + "'", "must be 'raise' or 'count'"));
  if (durability == "none") o.durability = mlruns::Durability::kNone;
  else if (durability == "on_close") o.durability = mlruns::Durability::kOnClose;
  else if (durability == "every_flush") o.durability = mlruns::Durability::kEveryFlush;
  else
    throw mlruns::Error(Status::invalid_argument("durability '" + durability + "'",
                                                 "must be 'none', 'on_close' or 'every_flush'"));
  if (long_values == "reject") o.long_values = mlruns::LongValues::kReject;
  else if (long_values == "truncate") o.long_values = mlruns::LongValues::kTruncate;
  else throw mlruns::Error(Status::invalid_argument("long_values '" + long_values + "'", "must be 'reject' or 'truncate'"));
  if (name_rules == "portable") o.names = mlruns::NameRules::kPortable;
  else if (name_rules == "mlflow") o.names = mlruns::NameRules::kMlflow;
  else throw mlruns::Error(Status::invalid_argument("name_rules '" + name_rules + "'", "must be 'portable' or 'mlflow'"));
  if (flush_max_points == 0)
    throw mlruns::Error(Status::invalid_argument("flush_max_points 0", "must be at least 1"));
  if (!(flush_max_age_s >= 0) || !(heartbeat_s >= 0))
    throw mlruns::Error(Status::invalid_argument("flush_max_age / heartbeat", "must be >= 0 seconds"));
  o.flush.max_points = flush_max_points;
  o.flush.max_age = std::chrono::milliseconds(static_cast<std::int64_t>(flush_max_age_s * 1000));
  o.flush.write_through = write_through;
  o.heartbeat = std::chrono::milliseconds(static_cast<std::int64_t>(heartbeat_s * 1000));
  return o;
}

mlruns::Overwrite overwrite_mode(bool overwrite) {
  return overwrite ? mlruns::Overwrite::kReplace : mlruns::Overwrite::kRefuse;
}

mlruns::RunOptions run_options(const std::string& experiment_id, const std::string& run_name,
                               const std::string& parent_run_id, const mlruns::StringMap& tags,
                               const std::string& description, std::optional<std::int64_t> start_time,
                               bool system_tags, const std::string& source_dir) {
  mlruns::RunOptions ro;
  ro.experiment_id = experiment_id;
  ro.run_name = run_name;
  ro.parent_run_id = parent_run_id;
  ro.tags = tags;
  ro.description = description;
  ro.start_time = start_time;
  ro.system_tags = system_tags;
  ro.source_dir = source_dir;
  return ro;
}

// The value of a facade call: it threw already in ErrorMode::kThrow; in
// kCount a failure is None (and counted by the Store).
template <typename T>
std::optional<T> maybe(mlruns::Result<T> r) {
  if (r) return std::move(*r);
  return std::nullopt;
}

// The query of search_runs' arguments (view as ViewType's name).
mlruns::SearchQuery search_query(const std::vector<std::string>& ids, const std::string& filter,
                                 const std::vector<std::string>& order_by, const std::string& view,
                                 std::size_t max_results, const std::string& page_token) {
  mlruns::SearchQuery q;
  q.experiment_ids = ids;
  q.filter = filter;
  q.order_by = order_by;
  q.view = view_type(view);
  q.max_results = max_results;
  q.page_token = page_token;
  return q;
}

// ---- MLflow entities built here (the plugin's search_runs) ----------------------
//
// The plugin gives, for MLflow's Metric, RunInfo, RunData and Run, the class and
// the attributes its __init__ sets, each with the index of the argument it
// takes (-1: None), as the plugin found them by calling __init__ once with
// marker arguments (mlflow_plugin._recipe). An entity is then made as
// object.__new__(cls) with those attributes set in that order: the object
// __init__ would make, without running Python per object. The plugin checks
// the result against __init__'s (== on __dict__, to_proto) before using it.
struct EntityRecipe {
  py::object cls;
  std::vector<std::pair<py::str, int>> attrs;
};

EntityRecipe entity_recipe(py::object cls, const std::vector<std::pair<std::string, int>>& attrs) {
  if (!PyType_Check(cls.ptr())) throw py::type_error("an entity recipe needs a class");
  EntityRecipe r{std::move(cls), {}};
  for (const auto& [name, index] : attrs) r.attrs.emplace_back(py::str(name), index);
  return r;
}

py::object make_entity(const EntityRecipe& r, const py::object* args, std::size_t n_args) {
  static PyObject* const no_args = PyTuple_New(0);  // never released: outlives the interpreter's end
  PyObject* obj = PyBaseObject_Type.tp_new(reinterpret_cast<PyTypeObject*>(r.cls.ptr()), no_args, nullptr);
  if (!obj) throw py::error_already_set();
  py::object out = py::reinterpret_steal<py::object>(obj);
  py::object dict = py::reinterpret_steal<py::object>(PyObject_GenericGetDict(obj, nullptr));
  if (!dict) throw py::error_already_set();
  for (const auto& [name, index] : r.attrs) {
    PyObject* v = index < 0 || static_cast<std::size_t>(index) >= n_args ? Py_None : args[index].ptr();
    if (PyDict_SetItem(dict.ptr(), name.ptr(), v) < 0) throw py::error_already_set();
  }
  return out;
}

struct MlflowEntities {
  EntityRecipe metric, run_info, run_data, run;
  py::object no_inputs;   // the RunInputs of a run without dataset inputs (shared)
  py::object no_outputs;  // the RunOutputs of every run (shared), None where MLflow has none
  py::object inputs_of;   // callable: list of DatasetInput -> RunInputs
};

py::object optional_int(const std::optional<std::int64_t>& v) {
  return v ? py::object(py::int_(*v)) : py::object(py::none());
}

// MLflow's Run for a run, as mlflow_plugin._run makes it.
py::object mlflow_run(const MlflowEntities& e, mlruns::Run&& run) {
  py::list metric_objs(run.metrics.size());
  py::dict metric_values, params, tags;
  std::size_t i = 0;
  for (auto& [key, m] : run.metrics) {
    py::object args[4] = {py::str(key), py::float_(m.value), py::int_(m.timestamp), py::int_(m.step)};
    metric_values[args[0]] = args[1];
    PyList_SET_ITEM(metric_objs.ptr(), i++, make_entity(e.metric, args, 4).release().ptr());
  }
  for (auto& [k, v] : run.params) params[py::str(k)] = py::str(v);
  for (auto& [k, v] : run.tags) tags[py::str(k)] = py::str(v);
  py::object data_args[4] = {std::move(metric_objs), std::move(metric_values), std::move(params), std::move(tags)};
  const mlruns::RunInfo& ri = run.info;
  py::object info_args[9] = {py::str(ri.run_id), py::str(ri.experiment_id), py::str(ri.user_id),
                             py::str(std::string(mlruns::to_string(ri.status))), py::int_(ri.start_time),
                             optional_int(ri.end_time), py::str(std::string(mlruns::to_string(ri.lifecycle_stage))),
                             py::str(ri.artifact_uri), py::str(ri.run_name)};
  py::object inputs = run.dataset_inputs.empty() ? e.no_inputs : e.inputs_of(py::cast(std::move(run.dataset_inputs)));
  py::object run_args[4] = {make_entity(e.run_info, info_args, 9), make_entity(e.run_data, data_args, 4),
                            std::move(inputs), e.no_outputs};
  return make_entity(e.run, run_args, 4);
}

// A run as ranking returns it: the run, the value ranked on and its step.
using RankedTuple = std::tuple<mlruns::Run, double, std::int64_t>;

}  // namespace

PYBIND11_MODULE(_mlruns, m) {
  m.doc() = "Binding of the mlruns C++ library; use the `mlruns` package, not this module.";

  // ---- exceptions ----------------------------------------------------------
  py::object base = py::reinterpret_steal<py::object>(PyErr_NewExceptionWithDoc(
      "mlruns.MlrunsError",
      "Base of every mlruns error. `.code` names the failure class: 'invalid argument', 'not found', "
      "'already exists', 'failed precondition', 'corruption', 'io error', 'not supported'.",
      PyExc_RuntimeError, nullptr));
  m.attr("MlrunsError") = base;
  auto add_exception = [&](mlruns::Code code, const char* name, PyObject* extra_base, const char* doc) {
    py::tuple bases = extra_base ? py::make_tuple(base, py::handle(extra_base)) : py::make_tuple(base);
    std::string qualified = std::string("mlruns.") + name;
    py::object cls = py::reinterpret_steal<py::object>(
        PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr));
    cls.attr("code") = std::string(mlruns::code_name(code));
    m.attr(name) = cls;
    exception_classes()[code] = cls;
  };
  add_exception(mlruns::Code::kInvalidArgument, "InvalidArgumentError", PyExc_ValueError,
                "A name, value or option breaks a rule; the message names the value and the rule.");
  add_exception(mlruns::Code::kNotFound, "NotFoundError", PyExc_LookupError, "No such experiment, run, key or file.");
  add_exception(mlruns::Code::kAlreadyExists, "AlreadyExistsError", nullptr,
                "The name is taken, or a param was logged again with another value.");
  add_exception(mlruns::Code::kFailedPrecondition, "FailedPreconditionError", nullptr,
                "The object is in the wrong state, e.g. logging to a deleted run.");
  add_exception(mlruns::Code::kCorruption, "CorruptionError", nullptr, "The tree holds something unreadable.");
  add_exception(mlruns::Code::kIOError, "StorageError", PyExc_OSError,
                "The operating system refused a file operation (the message has errno's text).");
  add_exception(mlruns::Code::kNotSupported, "NotSupportedError", nullptr,
                "Not supported, e.g. an http:// tracking URI.");
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const mlruns::Error& e) {
      const Status& s = e.status();
      auto it = exception_classes().find(s.code());
      py::object cls = it != exception_classes().end() ? it->second : py::module_::import("mlruns._mlruns").attr("MlrunsError");
      py::object exc = cls(s.message());
      exc.attr("code") = std::string(mlruns::code_name(s.code()));
      PyErr_SetObject(cls.ptr(), exc.ptr());
    }
  });

  // ---- values ----------------------------------------------------------------
  m.def("python_repr", &mlruns::python_repr, py::arg("value"),
        "Python's repr(float) of a value, as MLflow writes metric values (spec appendix A).");
  m.def("make_page_token", &mlruns::make_page_token, py::arg("offset"),
        "MLflow's search page token: base64 of {\"offset\": N}.");
  m.def("parse_page_token", [](const std::string& t) { return unwrap(mlruns::parse_page_token(t)); },
        py::arg("token"), "The offset in a page token; InvalidArgumentError if malformed.");
  m.def("validate_key", [](const std::string& what, const std::string& key, bool mlflow_rules) {
        check(mlruns::validate_key(what, key, mlflow_rules ? mlruns::NameRules::kMlflow : mlruns::NameRules::kPortable));
      }, py::arg("what"), py::arg("key"), py::arg("mlflow_rules") = false);

  py::class_<mlruns::Metric>(m, "Metric")
      .def_readonly("key", &mlruns::Metric::key)
      .def_readonly("value", &mlruns::Metric::value)
      .def_readonly("timestamp", &mlruns::Metric::timestamp)
      .def_readonly("step", &mlruns::Metric::step)
      .def_readonly("dataset_name", &mlruns::Metric::dataset_name)
      .def_readonly("dataset_digest", &mlruns::Metric::dataset_digest);

  py::class_<mlruns::Experiment>(m, "Experiment")
      .def_readonly("experiment_id", &mlruns::Experiment::experiment_id)
      .def_readonly("name", &mlruns::Experiment::name)
      .def_readonly("artifact_location", &mlruns::Experiment::artifact_location)
      .def_property_readonly("lifecycle_stage",
                             [](const mlruns::Experiment& e) { return std::string(mlruns::to_string(e.lifecycle_stage)); })
      .def_readonly("creation_time", &mlruns::Experiment::creation_time)
      .def_readonly("last_update_time", &mlruns::Experiment::last_update_time)
      .def_readonly("tags", &mlruns::Experiment::tags);

  py::class_<mlruns::RunInfo>(m, "RunInfo")
      .def_readonly("run_id", &mlruns::RunInfo::run_id)
      .def_readonly("run_name", &mlruns::RunInfo::run_name)
      .def_readonly("experiment_id", &mlruns::RunInfo::experiment_id)
      .def_readonly("user_id", &mlruns::RunInfo::user_id)
      .def_property_readonly("status", [](const mlruns::RunInfo& i) { return std::string(mlruns::to_string(i.status)); })
      .def_readonly("start_time", &mlruns::RunInfo::start_time)
      .def_readonly("end_time", &mlruns::RunInfo::end_time)
      .def_readonly("deleted_time", &mlruns::RunInfo::deleted_time)
      .def_readonly("artifact_uri", &mlruns::RunInfo::artifact_uri)
      .def_property_readonly("lifecycle_stage",
                             [](const mlruns::RunInfo& i) { return std::string(mlruns::to_string(i.lifecycle_stage)); });

  py::class_<mlruns::Dataset>(m, "Dataset")
      .def_readonly("name", &mlruns::Dataset::name)
      .def_readonly("digest", &mlruns::Dataset::digest)
      .def_readonly("source_type", &mlruns::Dataset::source_type)
      .def_readonly("source", &mlruns::Dataset::source)
      .def_readonly("schema", &mlruns::Dataset::schema)
      .def_readonly("profile", &mlruns::Dataset::profile);

  py::class_<mlruns::DatasetInput>(m, "DatasetInput")
      .def_readonly("dataset", &mlruns::DatasetInput::dataset)
      .def_readonly("tags", &mlruns::DatasetInput::tags);

  py::class_<mlruns::Run>(m, "Run")
      .def_readonly("info", &mlruns::Run::info)
      .def_readonly("params", &mlruns::Run::params)
      .def_readonly("tags", &mlruns::Run::tags)
      .def_readonly("metrics", &mlruns::Run::metrics)
      .def_readonly("dataset_inputs", &mlruns::Run::dataset_inputs);

  py::class_<mlruns::ArtifactEntry>(m, "ArtifactEntry")
      .def_readonly("path", &mlruns::ArtifactEntry::path)
      .def_readonly("is_dir", &mlruns::ArtifactEntry::is_dir)
      .def_readonly("size", &mlruns::ArtifactEntry::size);

  // ---- writing ---------------------------------------------------------------
  py::class_<mlruns::ActiveRun>(m, "ActiveRun")
      .def_property_readonly("ok", &mlruns::ActiveRun::ok)
      .def_property_readonly("run_id", &mlruns::ActiveRun::id)
      .def_property_readonly("experiment_id", &mlruns::ActiveRun::experiment_id)
      .def_property_readonly("run_name", &mlruns::ActiveRun::name)
      .def_property_readonly("artifact_uri", &mlruns::ActiveRun::artifact_uri)
      .def("log_param", [](mlruns::ActiveRun& r, const std::string& k, const std::string& v) {
        return (r.log_param(k, std::string_view(v))).is_ok();
      }, Release())
      .def("log_params", [](mlruns::ActiveRun& r, const mlruns::StringMap& p) { return (r.log_params(p)).is_ok(); }, Release())
      .def("log_metric", [](mlruns::ActiveRun& r, const std::string& k, double v, std::int64_t step,
                            std::optional<std::int64_t> ts) {
        return (ts ? r.log_metric(k, v, step, *ts) : r.log_metric(k, v, step)).is_ok();
      }, Release(), py::arg("key"), py::arg("value"), py::arg("step") = 0, py::arg("timestamp") = py::none())
      .def("log_metrics", [](mlruns::ActiveRun& r, const std::map<std::string, double>& ms, std::int64_t step) {
        return (r.log_metrics(ms, step)).is_ok();
      }, Release())
      .def("set_tag", [](mlruns::ActiveRun& r, const std::string& k, const std::string& v) {
        return (r.set_tag(k, std::string_view(v))).is_ok();
      }, Release())
      .def("delete_tag", [](mlruns::ActiveRun& r, const std::string& k) { return (r.delete_tag(k)).is_ok(); }, Release())
      .def("log_batch", [](mlruns::ActiveRun& r, const std::vector<MetricTuple>& ms, const mlruns::StringMap& p,
                           const mlruns::StringMap& t) { return (r.log_batch(to_metrics(ms), p, t)).is_ok(); }, Release())
      .def("log_artifact", [](mlruns::ActiveRun& r, const std::string& local, const std::string& ap, bool overwrite) {
        return r.log_artifact(local, ap, overwrite_mode(overwrite)).is_ok();
      }, Release())
      .def("log_artifacts", [](mlruns::ActiveRun& r, const std::string& local, const std::string& ap, bool overwrite) {
        return r.log_artifacts(local, ap, overwrite_mode(overwrite)).is_ok();
      }, Release())
      .def("log_text", [](mlruns::ActiveRun& r, const std::string& text, const std::string& file) {
        return (r.log_text(text, file)).is_ok();
      }, Release())
      .def("start_child", [](mlruns::ActiveRun& r, const std::string& run_name, const mlruns::StringMap& tags,
                             const std::string& description, std::optional<std::int64_t> start_time, bool system_tags,
                             const std::string& source_dir) {
        mlruns::RunOptions ro =
            run_options(r.experiment_id(), run_name, {}, tags, description, start_time, system_tags, source_dir);
        mlruns::ActiveRun child = r.start_child(ro);
        return child;  // in ErrorMode::kCount possibly not ok(): its calls fail and count
      }, Release())
      .def("flush", [](mlruns::ActiveRun& r) { return (r.flush()).is_ok(); }, Release())
      .def("end", [](mlruns::ActiveRun& r, const std::string& status) { return (r.end(run_status(status))).is_ok(); }, Release())
      .def("detach", [](mlruns::ActiveRun& r) { return (r.detach()).is_ok(); }, Release());

  py::class_<mlruns::Store>(m, "Store")
      .def(py::init([](const std::string& tracking_uri, const std::string& errors, const std::string& durability,
                       std::size_t flush_max_points, double flush_max_age_s, bool write_through,
                       const std::string& long_values, const std::string& name_rules, double heartbeat_s,
                       const std::string& artifact_root) {
             mlruns::StoreOptions o = store_options(tracking_uri, errors, durability, flush_max_points, flush_max_age_s,
                                                    write_through, long_values, name_rules, heartbeat_s);
             o.artifact_root = artifact_root;
             py::gil_scoped_release release;
             return mlruns::Store::open(std::move(o));
           }),
           py::arg("tracking_uri"), py::arg("errors"), py::arg("durability"), py::arg("flush_max_points"),
           py::arg("flush_max_age"), py::arg("write_through"), py::arg("long_values"), py::arg("name_rules"),
           py::arg("heartbeat"), py::arg("artifact_root") = "")
      .def_property_readonly("ok", &mlruns::Store::ok)
      .def_property_readonly("root", &mlruns::Store::root)
      .def_property_readonly("failure_count", &mlruns::Store::failure_count)
      .def_property_readonly("last_error", [](const mlruns::Store& s) -> std::optional<std::pair<std::string, std::string>> {
        Status e = s.last_error();
        if (e.is_ok()) return std::nullopt;
        return std::make_pair(std::string(mlruns::code_name(e.code())), e.message());
      })
      .def("create_experiment", [](mlruns::Store& s, const std::string& name, const mlruns::StringMap& tags,
                                   const std::string& loc) { return maybe(s.create_experiment(name, tags, loc)); }, Release())
      .def("get_or_create_experiment", [](mlruns::Store& s, const std::string& name) {
        return maybe(s.get_or_create_experiment(name));
      }, Release())
      .def("get_experiment", [](mlruns::Store& s, const std::string& id) { return maybe(s.get_experiment(id)); }, Release())
      .def("get_experiment_by_name", [](mlruns::Store& s, const std::string& name) {
        return maybe(s.get_experiment_by_name(name));
      }, Release())
      .def("rename_experiment", [](mlruns::Store& s, const std::string& id, const std::string& name) {
        return (s.rename_experiment(id, name)).is_ok();
      }, Release())
      .def("set_experiment_tag", [](mlruns::Store& s, const std::string& id, const std::string& k, const std::string& v) {
        return (s.set_experiment_tag(id, k, v)).is_ok();
      }, Release())
      .def("delete_experiment_tag", [](mlruns::Store& s, const std::string& id, const std::string& k) {
        return (s.delete_experiment_tag(id, k)).is_ok();
      }, Release())
      .def("delete_experiment", [](mlruns::Store& s, const std::string& id) { return (s.delete_experiment(id)).is_ok(); }, Release())
      .def("restore_experiment", [](mlruns::Store& s, const std::string& id) { return (s.restore_experiment(id)).is_ok(); }, Release())
      .def("start_run", [](mlruns::Store& s, const std::string& experiment_id, const std::string& run_name,
                           const std::string& parent_run_id, const mlruns::StringMap& tags, const std::string& description,
                           std::optional<std::int64_t> start_time, bool system_tags, const std::string& source_dir) {
        mlruns::ActiveRun run = s.start_run(
            run_options(experiment_id, run_name, parent_run_id, tags, description, start_time, system_tags, source_dir));
        return run;  // start_run threw in ErrorMode::kThrow; in kCount a failed run is not ok()
      }, Release())
      .def("resume_run", [](mlruns::Store& s, const std::string& run_id) {
        mlruns::ActiveRun run = s.resume_run(run_id);
        return run;
      }, Release())
      .def("log_batch", [](mlruns::Store& s, const std::string& run_id, const std::vector<MetricTuple>& ms,
                           const mlruns::StringMap& p, const mlruns::StringMap& t) {
        return (s.log_batch(run_id, to_metrics(ms), p, t)).is_ok();
      }, Release())
      .def("log_batch_objects", [](mlruns::Store& s, const std::string& run_id, const py::sequence& metrics,
                                   const mlruns::StringMap& p, const mlruns::StringMap& t,
                                   bool check_metrics) -> std::optional<bool> {
        bool plain = true;
        std::vector<mlruns::Metric> ms = metrics_of_objects(metrics, check_metrics ? &plain : nullptr);
        if (!plain) return std::nullopt;
        py::gil_scoped_release release;
        return (s.log_batch(run_id, ms, p, t)).is_ok();
      }, py::arg("run_id"), py::arg("metrics"), py::arg("params"), py::arg("tags"), py::arg("check_metrics") = false,
         "log_batch with metrics given as objects with .key, .value, .timestamp, .step (MLflow's Metric).\n"
         "check_metrics: write nothing and return None unless every metric is one MLflow's validators\n"
         "accept without a doubt (ASCII key of [A-Za-z0-9_.-/ ], normalised, at most 250 characters;\n"
         "float or int value; int timestamp >= 0; int step): the others are for MLflow to judge.")
      .def("set_terminated", [](mlruns::Store& s, const std::string& run_id, const std::string& status,
                                std::optional<std::int64_t> end_time) {
        return (s.set_terminated(run_id, run_status(status), end_time)).is_ok();
      }, Release())
      .def("delete_run", [](mlruns::Store& s, const std::string& id) { return (s.delete_run(id)).is_ok(); }, Release())
      .def("restore_run", [](mlruns::Store& s, const std::string& id) { return (s.restore_run(id)).is_ok(); }, Release())
      .def("delete_tag", [](mlruns::Store& s, const std::string& run_id, const std::string& key) {
        return (s.delete_tag(run_id, key)).is_ok();
      }, Release())
      .def("log_artifact", [](mlruns::Store& s, const std::string& run_id, const std::string& local,
                              const std::string& ap, bool overwrite) {
        return s.log_artifact(run_id, local, ap, overwrite_mode(overwrite)).is_ok();
      }, Release())
      .def("log_artifacts", [](mlruns::Store& s, const std::string& run_id, const std::string& local,
                               const std::string& ap, bool overwrite) {
        return s.log_artifacts(run_id, local, ap, overwrite_mode(overwrite)).is_ok();
      }, Release())
      .def("flush", [](mlruns::Store& s) { return (s.flush()).is_ok(); }, Release());

  // ---- reading ---------------------------------------------------------------
  py::class_<mlruns::Reader>(m, "Reader")
      .def(py::init([](const std::string& tracking_uri, unsigned threads) {
             mlruns::ReaderOptions o;
             o.threads = threads;
             py::gil_scoped_release release;
             return unwrap(mlruns::Reader::open(tracking_uri, std::move(o)));
           }),
           py::arg("tracking_uri"), py::arg("threads"))
      .def_property_readonly("root", &mlruns::Reader::root)
      .def("experiments", [](const mlruns::Reader& r, const std::string& view) {
        return unwrap(r.experiments(view_type(view)));
      }, Release())
      .def("experiment", [](const mlruns::Reader& r, const std::string& id) { return unwrap(r.experiment(id)); }, Release())
      .def("experiment_by_name", [](const mlruns::Reader& r, const std::string& n) {
        return unwrap(r.experiment_by_name(n));
      }, Release())
      .def("find_experiment", [](const mlruns::Reader& r, const std::string& n) { return unwrap(r.find_experiment(n)); },
           Release())
      .def("runs", [](const mlruns::Reader& r, const std::vector<std::string>& ids, const std::string& view) {
        return unwrap(r.runs(ids, view_type(view)));
      }, Release())
      .def("run", [](const mlruns::Reader& r, const std::string& id) { return unwrap(r.run(id)); }, Release())
      .def("metric_history", [](const mlruns::Reader& r, const std::string& id, const std::string& key) {
        return unwrap(r.metric_history(id, key));
      }, Release())
      .def("artifact_root", [](const mlruns::Reader& r, const std::string& id) { return unwrap(r.artifact_root(id)); },
           Release())
      .def("list_artifacts", [](const mlruns::Reader& r, const std::string& id, const std::string& path, bool recursive) {
        return unwrap(r.list_artifacts(id, path, recursive));
      }, Release());

  m.def("search_runs", [](const mlruns::Reader& r, const std::vector<std::string>& ids, const std::string& filter,
                          const std::vector<std::string>& order_by, const std::string& view, std::size_t max_results,
                          const std::string& page_token) {
    mlruns::SearchPage page =
        unwrap(mlruns::search_runs(r, search_query(ids, filter, order_by, view, max_results, page_token)));
    return std::make_pair(std::move(page.runs), std::move(page.next_page_token));
  }, Release());

  py::class_<MlflowEntities>(m, "MlflowEntities")
      .def(py::init([](py::object metric, const std::vector<std::pair<std::string, int>>& metric_attrs,
                       py::object run_info, const std::vector<std::pair<std::string, int>>& run_info_attrs,
                       py::object run_data, const std::vector<std::pair<std::string, int>>& run_data_attrs,
                       py::object run, const std::vector<std::pair<std::string, int>>& run_attrs,
                       py::object no_inputs, py::object no_outputs, py::object inputs_of) {
             return MlflowEntities{entity_recipe(std::move(metric), metric_attrs),
                                   entity_recipe(std::move(run_info), run_info_attrs),
                                   entity_recipe(std::move(run_data), run_data_attrs),
                                   entity_recipe(std::move(run), run_attrs), std::move(no_inputs),
                                   std::move(no_outputs), std::move(inputs_of)};
           }),
           "How to make MLflow's Metric, RunInfo, RunData and Run without their __init__ (see mlflow_plugin).");

  m.def("mlflow_runs", [](const MlflowEntities& e, std::vector<mlruns::Run> runs) {
    py::list out(runs.size());
    for (std::size_t i = 0; i < runs.size(); ++i)
      PyList_SET_ITEM(out.ptr(), i, mlflow_run(e, std::move(runs[i])).release().ptr());
    return out;
  }, py::arg("entities"), py::arg("runs"), "MLflow Run entities of mlruns Runs.");

  m.def("sample_runs", [] {
    // Runs with every kind of field the entities hold, to check a way of making
    // entities against another (mlflow_plugin._fast_entities).
    std::vector<mlruns::Run> runs(2);
    mlruns::Run& a = runs[0];
    a.info = mlruns::RunInfo{"0a1b2c3d4e5f", "sample-run", "7", "someone", mlruns::RunStatus::kRunning,
                             1700000000123, std::nullopt, std::nullopt, "file:///tmp/mlruns/7/0a1b2c3d4e5f/artifacts",
                             mlruns::LifecycleStage::kActive};
    a.params = {{"batch", "32"}, {"lr", "0.001"}};
    a.tags = {{"mlflow.runName", "sample-run"}, {"mlflow.user", "someone"}};
    a.metrics["acc"] = mlruns::Metric{"acc", 0.5, 1700000000200, 3, "", ""};
    a.metrics["val/loss"] = mlruns::Metric{"val/loss", -1.25e-7, 1700000000300, -2, "", ""};
    mlruns::Run& b = runs[1];
    b.info = mlruns::RunInfo{"ffee", "", "0", "", mlruns::RunStatus::kFailed, 5, 9, 10, "s3://bucket/x",
                             mlruns::LifecycleStage::kDeleted};
    return runs;
  }, "Two runs made up in C++ (metrics, params, tags, ended or not), for the plugin's self-check.");

  m.def("search_runs_mlflow", [](const mlruns::Reader& r, const std::vector<std::string>& ids,
                                 const std::string& filter, const std::vector<std::string>& order_by,
                                 const std::string& view, std::size_t max_results, const std::string& page_token,
                                 const MlflowEntities& e) {
    mlruns::SearchQuery q = search_query(ids, filter, order_by, view, max_results, page_token);
    mlruns::SearchPage page;
    {
      py::gil_scoped_release release;
      page = unwrap(mlruns::search_runs(r, q));
    }
    py::list runs(page.runs.size());
    for (std::size_t i = 0; i < page.runs.size(); ++i)
      PyList_SET_ITEM(runs.ptr(), i, mlflow_run(e, std::move(page.runs[i])).release().ptr());
    return py::make_tuple(std::move(runs), std::move(page.next_page_token));
  }, "search_runs returning MLflow Run entities (a list) and the next page token.");

  m.def("rank_runs", [](const mlruns::Reader& r, const std::vector<std::string>& ids, const std::string& metric,
                        bool ascending, const std::string& by, std::int64_t step, const std::string& filter,
                        bool finished_only, const std::string& view, const std::string& experiment_names) {
    mlruns::RankQuery q;
    q.experiment_ids = ids;
    q.metric = metric;
    q.ascending = ascending;
    if (by == "latest") q.by = mlruns::RankBy::kLatest;
    else if (by == "best") q.by = mlruns::RankBy::kBest;
    else if (by == "step") q.by = mlruns::RankBy::kAtStep;
    else throw mlruns::Error(Status::invalid_argument("rank_by '" + by + "'", "must be 'latest', 'best' or 'step'"));
    q.step = step;
    q.filter = filter;
    q.finished_only = finished_only;
    q.view = view_type(view);
    mlruns::Ranking ranking = unwrap(mlruns::rank_runs(r, q));
    std::vector<std::string> why = mlruns::explain_ranking(q, ranking, experiment_names);
    std::vector<RankedTuple> runs;
    runs.reserve(ranking.runs.size());
    for (auto& rr : ranking.runs) runs.emplace_back(std::move(rr.run), rr.value, rr.step);
    return std::make_tuple(std::move(runs), ranking.considered, ranking.without_value, std::move(why));
  }, Release());

  m.def("download_artifacts", [](const mlruns::Reader& r, const std::string& run_id, const std::string& path,
                                 const std::string& dest, bool overwrite) {
    mlruns::DownloadOptions o;
    o.overwrite = overwrite;
    o.overwrite_hint = "pass overwrite=True to replace it";
    mlruns::DownloadResult d = unwrap(mlruns::download_artifacts(r, run_id, path, dest, o));
    return std::make_tuple(d.local_path, d.files, d.bytes);
  }, Release());
}
