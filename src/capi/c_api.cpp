// The C API (include/mlruns/c.h) over Store/ActiveRun. The C++ Store is
// always opened in ErrorMode::kCount, so library failures come back as Status
// values; every entry point also catches whatever else could escape (e.g.
// std::bad_alloc), because an exception crossing into C or Fortran frames
// would terminate the host program.
#include "mlruns/c.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>

#include "mlruns/model.h"
#include "mlruns/options.h"
#include "mlruns/registry.h"
#include "mlruns/status.h"
#include "mlruns/store.h"
#include "mlruns/types.h"

#ifndef MLRUNS_VERSION_STRING
#define MLRUNS_VERSION_STRING "0.1.0"
#endif

struct mlruns_options_t {
  mlruns::StoreOptions options;
  int error_mode = MLRUNS_ERRORS_RETURN;
};

struct mlruns_store_t {
  // Shared with the runs: a run handle may outlive its store handle.
  std::shared_ptr<mlruns::Store> store;
  bool print = false;
};

struct mlruns_run_t {
  std::shared_ptr<mlruns::Store> store;
  mlruns::ActiveRun run;
  bool print = false;
};

namespace {

thread_local std::string t_last_error;
thread_local int t_last_code = MLRUNS_OK;

char* dup_c_string(std::string_view s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (p) {
    std::memcpy(p, s.data(), s.size());
    p[s.size()] = '\0';
  }
  return p;
}

// Records a failure for mlruns_last_error() and *errptr; returns its code.
// `print`: the library's on_error did not see it, so print here.
int report(int code, std::string_view message, char** errptr, bool print) noexcept {
  try {
    t_last_error.assign(message);
  } catch (...) {
    t_last_error.clear();  // out of memory: keep the code at least
  }
  t_last_code = code;
  if (errptr) {
    std::free(*errptr);
    *errptr = dup_c_string(message);
  }
  if (print) std::fprintf(stderr, "mlruns: %.*s\n", static_cast<int>(message.size()), message.data());
  return code;
}

int code_of(const mlruns::Status& s) { return static_cast<int>(s.code()); }

// A Status from the library (already passed to on_error, which prints in
// MLRUNS_ERRORS_PRINT mode).
int report_status(const mlruns::Status& s, char** errptr) noexcept {
  if (s.is_ok()) return MLRUNS_OK;
  return report(code_of(s), s.to_string(), errptr, false);
}

int report_exception(char** errptr, bool print) noexcept {
  try {
    throw;
  } catch (const mlruns::Error& e) {
    return report(code_of(e.status()), e.status().to_string(), errptr, print);
  } catch (const std::bad_alloc&) {
    return report(MLRUNS_INTERNAL, "internal: out of memory", errptr, print);
  } catch (const std::exception& e) {
    return report(MLRUNS_INTERNAL, std::string("internal: ") + e.what(), errptr, print);
  } catch (...) {
    return report(MLRUNS_INTERNAL, "internal: unknown exception", errptr, print);
  }
}

int null_argument(const char* function, const char* argument, char** errptr, bool print) noexcept {
  std::string msg = std::string("invalid argument: ") + function + ": " + argument + " must not be NULL";
  return report(MLRUNS_INVALID_ARGUMENT, msg, errptr, print);
}

std::string_view or_empty(const char* s) { return s ? std::string_view(s) : std::string_view(); }

// Runs `body` (returning a Status) on a live run, mapping every failure to a code.
template <typename Body>
int with_run(mlruns_run_t* run, const char* function, char** errptr, Body&& body) noexcept {
  if (!run) return null_argument(function, "run", errptr, false);
  try {
    return report_status(body(run->run), errptr);
  } catch (...) {
    return report_exception(errptr, run->print);
  }
}

// Runs `body` (returning a Status) on an open store's registry.
template <typename Body>
int with_registry(mlruns_store_t* store, const char* function, char** errptr, Body&& body) noexcept {
  if (!store) return null_argument(function, "store", errptr, false);
  try {
    mlruns::ModelRegistry reg = store->store->registry();
    return report_status(body(reg), errptr);
  } catch (...) {
    return report_exception(errptr, store->print);
  }
}

mlruns_store_t* open_store(const char* tracking_uri, mlruns::StoreOptions options, int error_mode,
                           char** errptr) noexcept {
  const bool print = error_mode == MLRUNS_ERRORS_PRINT;
  if (error_mode != MLRUNS_ERRORS_RETURN && error_mode != MLRUNS_ERRORS_PRINT) {
    report(MLRUNS_INVALID_ARGUMENT,
           "invalid argument: error_mode " + std::to_string(error_mode) +
               ": must be MLRUNS_ERRORS_RETURN (0) or MLRUNS_ERRORS_PRINT (1)",
           errptr, true);
    return nullptr;
  }
  try {
    options.tracking_uri = tracking_uri ? tracking_uri : "";
    options.errors = mlruns::ErrorMode::kCount;
    // Print mode: the first failure in full, then counts per kind (options.h),
    // once there is a store to count them; a failed open is printed here as
    // what it is: there is no store, so nothing after it is counted.
    auto opened = std::make_shared<std::atomic<bool>>(false);
    if (print)
      options.on_error = [summary = mlruns::summarize_errors(), opened](const mlruns::Status& s) {
        if (opened->load(std::memory_order_relaxed)) summary(s);
      };
    else
      options.on_error = [](const mlruns::Status&) {};
    auto handle = std::make_unique<mlruns_store_t>();
    handle->print = print;
    handle->store = std::make_shared<mlruns::Store>(mlruns::Store::open(std::move(options)));
    if (!handle->store->ok()) {
      const int code = report_status(handle->store->status(), errptr);
      if (print)
        std::fprintf(stderr, "mlruns: %s (no store was opened: calls on its NULL handle return "
                     "MLRUNS_INVALID_ARGUMENT and print nothing)\n", handle->store->status().to_string().c_str());
      (void)code;
      return nullptr;
    }
    opened->store(true, std::memory_order_relaxed);
    return handle.release();
  } catch (...) {
    report_exception(errptr, print);
    return nullptr;
  }
}

}  // namespace

extern "C" {

const char* mlruns_last_error(void) { return t_last_error.c_str(); }
int mlruns_last_error_code(void) { return t_last_code; }

const char* mlruns_code_name(int code) {
  switch (code) {
    case MLRUNS_OK: return "ok";
    case MLRUNS_INVALID_ARGUMENT: return "invalid argument";
    case MLRUNS_NOT_FOUND: return "not found";
    case MLRUNS_ALREADY_EXISTS: return "already exists";
    case MLRUNS_FAILED_PRECONDITION: return "failed precondition";
    case MLRUNS_CORRUPTION: return "corruption";
    case MLRUNS_IO_ERROR: return "I/O error";
    case MLRUNS_NOT_SUPPORTED: return "not supported";
    case MLRUNS_INTERNAL: return "internal";
    default: return "unknown code";
  }
}

void mlruns_free(void* ptr) { std::free(ptr); }
const char* mlruns_version(void) { return MLRUNS_VERSION_STRING; }

// ---- options ----

mlruns_options_t* mlruns_options_create(void) { return new (std::nothrow) mlruns_options_t(); }
void mlruns_options_destroy(mlruns_options_t* options) { delete options; }

void mlruns_options_set_error_mode(mlruns_options_t* options, int error_mode) {
  if (options) options->error_mode = error_mode;
}
void mlruns_options_set_durability(mlruns_options_t* options, int durability) {
  if (!options) return;
  switch (durability) {
    case MLRUNS_DURABILITY_NONE: options->options.durability = mlruns::Durability::kNone; break;
    case MLRUNS_DURABILITY_EVERY_FLUSH: options->options.durability = mlruns::Durability::kEveryFlush; break;
    default: options->options.durability = mlruns::Durability::kOnClose; break;
  }
}
void mlruns_options_set_flush_max_points(mlruns_options_t* options, size_t max_points) {
  if (options) options->options.flush.max_points = max_points;
}
void mlruns_options_set_flush_max_age_ms(mlruns_options_t* options, int64_t max_age_ms) {
  if (options && max_age_ms >= 0) options->options.flush.max_age = std::chrono::milliseconds(max_age_ms);
}
void mlruns_options_set_write_through(mlruns_options_t* options, int write_through) {
  if (options) options->options.flush.write_through = write_through != 0;
}
void mlruns_options_set_artifact_root(mlruns_options_t* options, const char* artifact_root) {
  if (!options) return;
  try {
    options->options.artifact_root = artifact_root ? artifact_root : "";
  } catch (...) {  // out of memory: the option stays as it was
  }
}
void mlruns_options_set_truncate_long_values(mlruns_options_t* options, int truncate) {
  if (options) {
    options->options.long_values = truncate ? mlruns::LongValues::kTruncate : mlruns::LongValues::kReject;
  }
}

// ---- store ----

mlruns_store_t* mlruns_store_open(const char* tracking_uri, int error_mode, char** errptr) {
  return open_store(tracking_uri, mlruns::StoreOptions{}, error_mode, errptr);
}

mlruns_store_t* mlruns_store_open_with(const char* tracking_uri, const mlruns_options_t* options,
                                       char** errptr) {
  if (!options) return open_store(tracking_uri, mlruns::StoreOptions{}, MLRUNS_ERRORS_RETURN, errptr);
  mlruns::StoreOptions copy;
  try {
    copy = options->options;
  } catch (...) {
    report_exception(errptr, false);
    return nullptr;
  }
  return open_store(tracking_uri, std::move(copy), options->error_mode, errptr);
}

const char* mlruns_store_root(const mlruns_store_t* store) {
  return store ? store->store->root().c_str() : "";
}

int mlruns_store_flush(mlruns_store_t* store, char** errptr) {
  if (!store) return null_argument("mlruns_store_flush", "store", errptr, false);
  try {
    return report_status(store->store->flush(), errptr);
  } catch (...) {
    return report_exception(errptr, store->print);
  }
}

uint64_t mlruns_store_failure_count(const mlruns_store_t* store) {
  return store ? store->store->failure_count() : 0;
}

int mlruns_store_close(mlruns_store_t* store) {
  if (!store) return MLRUNS_OK;
  int rc = mlruns_store_flush(store, nullptr);
  delete store;
  return rc;
}

// ---- experiments ----

int mlruns_get_or_create_experiment(mlruns_store_t* store, const char* name, char* id_buf,
                                    size_t id_buf_size, char** errptr) {
  const char* fn = "mlruns_get_or_create_experiment";
  if (!store) return null_argument(fn, "store", errptr, false);
  if (!name) return null_argument(fn, "name", errptr, store->print);
  if (!id_buf) return null_argument(fn, "id_buf", errptr, store->print);
  try {
    mlruns::Result<std::string> id = store->store->get_or_create_experiment(name);
    if (!id) return report_status(id.error(), errptr);
    if (id->size() + 1 > id_buf_size) {
      return report(MLRUNS_INVALID_ARGUMENT,
                    "invalid argument: id_buf_size " + std::to_string(id_buf_size) +
                        ": experiment id '" + *id + "' needs " + std::to_string(id->size() + 1) +
                        " bytes (use MLRUNS_ID_BUFSIZE)",
                    errptr, store->print);
    }
    std::memcpy(id_buf, id->c_str(), id->size() + 1);
    return MLRUNS_OK;
  } catch (...) {
    return report_exception(errptr, store->print);
  }
}

// ---- runs ----

mlruns_run_t* mlruns_start_run(mlruns_store_t* store, const char* experiment_id, const char* run_name,
                               const char* parent_run_id, char** errptr) {
  if (!store) {
    null_argument("mlruns_start_run", "store", errptr, false);
    return nullptr;
  }
  try {
    mlruns::RunOptions options;
    if (experiment_id && *experiment_id) options.experiment_id = experiment_id;
    options.run_name = or_empty(run_name);
    options.parent_run_id = or_empty(parent_run_id);
    auto handle = std::make_unique<mlruns_run_t>();
    handle->store = store->store;
    handle->print = store->print;
    handle->run = store->store->start_run(options);
    if (!handle->run.ok()) {
      mlruns::Status s = store->store->last_error();
      if (s.is_ok()) s = mlruns::Status::io_error("start_run", "the run could not be created");
      report_status(s, errptr);
      return nullptr;
    }
    return handle.release();
  } catch (...) {
    report_exception(errptr, store->print);
    return nullptr;
  }
}

const char* mlruns_run_id(const mlruns_run_t* run) { return run ? run->run.id().c_str() : ""; }

int mlruns_log_param(mlruns_run_t* run, const char* key, const char* value, char** errptr) {
  const char* fn = "mlruns_log_param";
  if (run && !key) return null_argument(fn, "key", errptr, run->print);
  if (run && !value) return null_argument(fn, "value", errptr, run->print);
  return with_run(run, fn, errptr, [&](mlruns::ActiveRun& r) { return r.log_param(key, std::string_view(value)); });
}

int mlruns_log_metric(mlruns_run_t* run, const char* key, double value, int64_t step, char** errptr) {
  const char* fn = "mlruns_log_metric";
  if (run && !key) return null_argument(fn, "key", errptr, run->print);
  return with_run(run, fn, errptr, [&](mlruns::ActiveRun& r) {
    return r.log_metric(key, value, static_cast<std::int64_t>(step));
  });
}

int mlruns_set_tag(mlruns_run_t* run, const char* key, const char* value, char** errptr) {
  const char* fn = "mlruns_set_tag";
  if (run && !key) return null_argument(fn, "key", errptr, run->print);
  if (run && !value) return null_argument(fn, "value", errptr, run->print);
  return with_run(run, fn, errptr, [&](mlruns::ActiveRun& r) { return r.set_tag(key, value); });
}

int mlruns_delete_tag(mlruns_run_t* run, const char* key, char** errptr) {
  const char* fn = "mlruns_delete_tag";
  if (run && !key) return null_argument(fn, "key", errptr, run->print);
  return with_run(run, fn, errptr, [&](mlruns::ActiveRun& r) { return r.delete_tag(key); });
}

int mlruns_log_artifact(mlruns_run_t* run, const char* local_path, const char* artifact_path,
                        char** errptr) {
  const char* fn = "mlruns_log_artifact";
  if (run && !local_path) return null_argument(fn, "local_path", errptr, run->print);
  return with_run(run, fn, errptr, [&](mlruns::ActiveRun& r) {
    return r.log_artifact(std::string(local_path), or_empty(artifact_path));
  });
}

int mlruns_log_artifacts(mlruns_run_t* run, const char* local_dir, const char* artifact_path, char** errptr) {
  const char* fn = "mlruns_log_artifacts";
  if (run && !local_dir) return null_argument(fn, "local_dir", errptr, run->print);
  return with_run(run, fn, errptr, [&](mlruns::ActiveRun& r) {
    return r.log_artifacts(std::string(local_dir), or_empty(artifact_path));
  });
}

int mlruns_log_text(mlruns_run_t* run, const char* text, const char* artifact_file, char** errptr) {
  const char* fn = "mlruns_log_text";
  if (run && !text) return null_argument(fn, "text", errptr, run->print);
  if (run && !artifact_file) return null_argument(fn, "artifact_file", errptr, run->print);
  return with_run(run, fn, errptr, [&](mlruns::ActiveRun& r) { return r.log_text(text, artifact_file); });
}

int mlruns_log_model(mlruns_run_t* run, const char* local_path, const char* artifact_path, const char* flavor,
                     const char* signature, char** errptr) {
  const char* fn = "mlruns_log_model";
  if (run && !local_path) return null_argument(fn, "local_path", errptr, run->print);
  return with_run(run, fn, errptr, [&](mlruns::ActiveRun& r) {
    mlruns::ModelOptions o;
    if (artifact_path && *artifact_path) o.artifact_path = artifact_path;
    if (flavor && *flavor) o.flavor = flavor;
    o.signature = or_empty(signature);
    auto m = r.log_model(std::string(local_path), o);
    return m ? mlruns::Status::ok() : m.error();
  });
}

int mlruns_register_model(mlruns_store_t* store, const char* name, const char* source, const char* alias,
                          int64_t* version, char** errptr) {
  const char* fn = "mlruns_register_model";
  if (store && !name) return null_argument(fn, "name", errptr, store->print);
  if (store && !source) return null_argument(fn, "source", errptr, store->print);
  return with_registry(store, fn, errptr, [&](mlruns::ModelRegistry& reg) -> mlruns::Status {
    mlruns::ModelVersionOptions options;
    if (alias && *alias) options.aliases.emplace_back(alias);  // checked before anything is written
    auto v = reg.create_model_version(name, source, options);
    if (!v) return v.error();
    if (version) *version = v->version;  // out-params only on success
    return mlruns::Status::ok();
  });
}

int mlruns_set_model_alias(mlruns_store_t* store, const char* name, const char* alias, int64_t version,
                           char** errptr) {
  const char* fn = "mlruns_set_model_alias";
  if (store && !name) return null_argument(fn, "name", errptr, store->print);
  if (store && !alias) return null_argument(fn, "alias", errptr, store->print);
  return with_registry(store, fn, errptr, [&](mlruns::ModelRegistry& reg) {
    return reg.set_registered_model_alias(name, alias, version);
  });
}

int mlruns_run_flush(mlruns_run_t* run, char** errptr) {
  return with_run(run, "mlruns_run_flush", errptr, [](mlruns::ActiveRun& r) { return r.flush(); });
}

int mlruns_end_run(mlruns_run_t* run, int status, char** errptr) {
  const char* fn = "mlruns_end_run";
  if (run && status != MLRUNS_RUN_FINISHED && status != MLRUNS_RUN_FAILED && status != MLRUNS_RUN_KILLED) {
    return report(MLRUNS_INVALID_ARGUMENT,
                  "invalid argument: " + std::string(fn) + ": status " + std::to_string(status) +
                      ": must be MLRUNS_RUN_FINISHED (3), MLRUNS_RUN_FAILED (4) or MLRUNS_RUN_KILLED (5)",
                  errptr, run->print);
  }
  return with_run(run, fn, errptr, [&](mlruns::ActiveRun& r) {
    return r.end(static_cast<mlruns::RunStatus>(status));
  });
}

int mlruns_run_close(mlruns_run_t* run) {
  if (!run) return MLRUNS_OK;
  const int rc = mlruns_end_run(run, MLRUNS_RUN_FINISHED, nullptr);
  delete run;  // ~ActiveRun is noexcept; its end() is a no-op after the one above
  return rc;
}

}  // extern "C"
