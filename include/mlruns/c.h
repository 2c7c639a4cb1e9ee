/* mlruns C API: record runs into an MLflow mlruns tree from C, Fortran
 * (iso_c_binding) and any language with a C FFI. A thin layer over the C++
 * Store/ActiveRun (store.h); see docs/c-api.md for examples.
 *
 * Conventions
 *  1. Handles are opaque: mlruns_store_t (an open tree) and mlruns_run_t (a
 *     run being written). A handle from mlruns_store_open*() is released with
 *     mlruns_store_close(), one from mlruns_start_run() with mlruns_run_close().
 *     A run handle keeps what it needs of its store alive: closing the store
 *     first is allowed (the run can still be written and closed).
 *  2. Strings passed in are NUL-terminated UTF-8, borrowed for the duration
 *     of the call only. A NULL string where a value is required is an error
 *     (MLRUNS_INVALID_ARGUMENT), never a crash. Strings returned as
 *     `const char*` are owned by the library (see each function for how long
 *     they stay valid); strings returned through `char**` are malloc()ed and
 *     the caller frees them with mlruns_free().
 *  3. Errors. Every fallible function returns an int: MLRUNS_OK (0) or one
 *     of the MLRUNS_* codes below (positive). In addition, when `errptr` is
 *     not NULL and the call fails, the old value of *errptr is freed and
 *     *errptr is set to a malloc()ed message naming the value and the rule
 *     (leveldb's convention); on success *errptr is left unchanged. Whatever
 *     errptr is, mlruns_last_error() returns the message of the calling
 *     thread's last failure. Functions returning a handle return NULL on
 *     failure and report the same way.
 *  4. No C++ exception ever crosses this boundary and no function aborts
 *     the process: logging trouble (full disk, quota, bad key) is reported
 *     and the host program keeps running. Points that could not be written
 *     stay buffered and are retried on the next flush.
 *  5. Thread safety: a store and its runs may be used from many threads, as
 *     in C++. One run should be written by one process at a time; many
 *     processes (MPI ranks, Slurm tasks) may share one tree.
 *  6. Booleans are int (0 false, non-zero true); 64-bit integers are int64_t
 *     (Fortran: integer(c_int64_t)).
 */
#ifndef MLRUNS_C_H_
#define MLRUNS_C_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- return codes (the values of mlruns::Code) ---- */
enum {
  MLRUNS_OK = 0,
  MLRUNS_INVALID_ARGUMENT = 1,    /* a name, value or option breaks a rule */
  MLRUNS_NOT_FOUND = 2,           /* no such experiment, run or file */
  MLRUNS_ALREADY_EXISTS = 3,      /* e.g. a param logged again with another value */
  MLRUNS_FAILED_PRECONDITION = 4, /* e.g. writing to an ended or deleted run */
  MLRUNS_CORRUPTION = 5,          /* the tree holds something unreadable */
  MLRUNS_IO_ERROR = 6,            /* the operating system refused (errno in the message) */
  MLRUNS_NOT_SUPPORTED = 7,       /* e.g. an http:// tracking URI */
  MLRUNS_INTERNAL = 8             /* out of memory or a bug in mlruns */
};

/* ---- run statuses for mlruns_end_run (MLflow's RunStatus numbers) ---- */
enum { MLRUNS_RUN_FINISHED = 3, MLRUNS_RUN_FAILED = 4, MLRUNS_RUN_KILLED = 5 };

/* ---- error modes for mlruns_store_open ---- */
enum {
  MLRUNS_ERRORS_RETURN = 0, /* report failures through return codes only */
  MLRUNS_ERRORS_PRINT = 1   /* also print each failure to stderr ("mlruns: ...") */
};

/* ---- durability for mlruns_options_set_durability (see options.h) ---- */
enum {
  MLRUNS_DURABILITY_NONE = 0,       /* never fsync */
  MLRUNS_DURABILITY_ON_CLOSE = 1,   /* fsync files when the run ends (default) */
  MLRUNS_DURABILITY_EVERY_FLUSH = 2 /* fsync after every flush */
};

/* Buffer size that holds any experiment or run id mlruns writes, with its NUL. */
#define MLRUNS_ID_BUFSIZE 257

typedef struct mlruns_store_t mlruns_store_t;
typedef struct mlruns_run_t mlruns_run_t;
typedef struct mlruns_options_t mlruns_options_t;

/* ---- errors and memory ---- */

/* The calling thread's last failure message, "" if none. Valid until the
 * thread's next failing mlruns call. Never NULL. */
const char* mlruns_last_error(void);
/* The calling thread's last failure code, MLRUNS_OK if none. */
int mlruns_last_error_code(void);
/* "ok", "invalid argument", ... Never NULL. */
const char* mlruns_code_name(int code);
/* Frees a string returned through a char** (including *errptr). NULL is fine. */
void mlruns_free(void* ptr);
/* "0.1.0" */
const char* mlruns_version(void);

/* ---- options (optional; for mlruns_store_open_with) ---- */

mlruns_options_t* mlruns_options_create(void); /* NULL only if out of memory */
void mlruns_options_destroy(mlruns_options_t* options);
void mlruns_options_set_error_mode(mlruns_options_t* options, int error_mode);
void mlruns_options_set_durability(mlruns_options_t* options, int durability);
/* Points buffered per run before they are written (default 16384). */
void mlruns_options_set_flush_max_points(mlruns_options_t* options, size_t max_points);
/* Oldest buffered point age before a write, in ms (default 2000). */
void mlruns_options_set_flush_max_age_ms(mlruns_options_t* options, int64_t max_age_ms);
/* Non-zero: every point is written before mlruns_log_metric returns. */
void mlruns_options_set_write_through(mlruns_options_t* options, int write_through);
/* Non-zero: over-long param/tag values are truncated (MLflow >= 2.11)
 * instead of refused. */
void mlruns_options_set_truncate_long_values(mlruns_options_t* options, int truncate);

/* Where new experiments keep their artifacts: <artifact_root>/<experiment id>
 * (StoreOptions::artifact_root, as `mlflow server --default-artifact-root`);
 * NULL or "": the tree itself. The string is copied. */
void mlruns_options_set_artifact_root(mlruns_options_t* options, const char* artifact_root);

/* ---- store ---- */

/* Opens (creating if needed) the tree at `tracking_uri`: a path or file: URI;
 * NULL or "" means MLFLOW_TRACKING_URI, then ./mlruns. A server URI (http:,
 * databricks, ...) fails with MLRUNS_NOT_SUPPORTED. Returns NULL on failure. */
mlruns_store_t* mlruns_store_open(const char* tracking_uri, int error_mode, char** errptr);
/* The same with options (NULL options means the defaults). `options` may be
 * destroyed once this returns. */
mlruns_store_t* mlruns_store_open_with(const char* tracking_uri, const mlruns_options_t* options,
                                       char** errptr);
/* Absolute path of the tree, owned by the store. NULL store: "". */
const char* mlruns_store_root(const mlruns_store_t* store);
/* Writes every buffered point of every run of this store. */
int mlruns_store_flush(mlruns_store_t* store, char** errptr);
/* Failures this store has seen (including those of its runs). */
uint64_t mlruns_store_failure_count(const mlruns_store_t* store);
/* Flushes and releases the handle. Returns the flush's code. NULL is fine. */
int mlruns_store_close(mlruns_store_t* store);

/* ---- experiments ---- */

/* Writes the id of the experiment named `name` into `id_buf` (NUL-terminated,
 * at most id_buf_size bytes; MLRUNS_ID_BUFSIZE is always enough), creating
 * the experiment if needed. Safe when many processes race on one name. */
int mlruns_get_or_create_experiment(mlruns_store_t* store, const char* name, char* id_buf,
                                    size_t id_buf_size, char** errptr);

/* ---- runs ---- */

/* Starts a run in experiment `experiment_id` (NULL or "": "0", Default).
 * `run_name` NULL or "": a generated "adjective-noun-N" name.
 * `parent_run_id` NULL or "": a top-level run; else a nested run
 * (mlflow.parentRunId). Returns NULL on failure. */
mlruns_run_t* mlruns_start_run(mlruns_store_t* store, const char* experiment_id,
                               const char* run_name, const char* parent_run_id, char** errptr);
/* The run's 32-character hex id, owned by the handle (valid until
 * mlruns_run_close). NULL run: "". */
const char* mlruns_run_id(const mlruns_run_t* run);

/* Params are immutable: the same value again is fine, another fails with
 * MLRUNS_ALREADY_EXISTS. */
int mlruns_log_param(mlruns_run_t* run, const char* key, const char* value, char** errptr);
/* Buffered, cheap; the timestamp is now. */
int mlruns_log_metric(mlruns_run_t* run, const char* key, double value, int64_t step,
                      char** errptr);
int mlruns_set_tag(mlruns_run_t* run, const char* key, const char* value, char** errptr);
/* Removes the run's tag `key` (MLflow's delete_tag): MLRUNS_NOT_FOUND if the
 * run has no such tag. */
int mlruns_delete_tag(mlruns_run_t* run, const char* key, char** errptr);
/* MLflow's log_artifact: a file goes to artifacts/<artifact_path>/<its name>,
 * a directory keeps its name: artifacts/<artifact_path>/<dir name>/...
 * (artifact_path NULL or "": the artifact root). An artifact file that exists
 * already fails with MLRUNS_ALREADY_EXISTS, naming it, and nothing is copied. */
int mlruns_log_artifact(mlruns_run_t* run, const char* local_path, const char* artifact_path,
                        char** errptr);
/* MLflow's log_artifacts: the contents of directory `local_dir` go to
 * artifacts/<artifact_path>/...; the same rules. */
int mlruns_log_artifacts(mlruns_run_t* run, const char* local_dir, const char* artifact_path,
                         char** errptr);
/* Writes `text` to artifacts/<artifact_file>. */
int mlruns_log_text(mlruns_run_t* run, const char* text, const char* artifact_file, char** errptr);
/* Logs a model (model.h, spec §8.3): copies a file or directory to
 * artifacts/<artifact_path>/ with an MLmodel file as MLflow 2.x writes it,
 * and adds it to the run's mlflow.log-model.history tag, so MLflow's UI
 * shows a model that can be registered; it also records the files as an
 * MLflow 3.x LoggedModel (ModelForm::kMlflow2And3, spec §9.2), so MLflow
 * 3.x's Models tab lists it.
 * artifact_path NULL or "": "model". flavor: "onnx", "torchscript" or the
 * name of a generic flavor for any files ([a-z0-9_]; NULL or "": "mlruns");
 * docs/models.md says what Python can load of each. signature NULL or "":
 * none, else a model signature as JSON ({"inputs": [...], "outputs": [...]})
 * or YAML. Fails with MLRUNS_ALREADY_EXISTS if artifact_path is taken. */
int mlruns_log_model(mlruns_run_t* run, const char* local_path, const char* artifact_path,
                     const char* flavor, const char* signature, char** errptr);
/* Registers `source` as a new version of the registered model `name`
 * (created if missing; registry.h): source is runs:/<run_id>/<path> (e.g.
 * "runs:/" + mlruns_run_id(run) + "/model") or an absolute path in the tree.
 * Version numbers are unique even when many processes register at once.
 * With `alias` (NULL or "": none), the alias then points at the new
 * version, replaced atomically. The number is written to *version unless
 * version is NULL. */
int mlruns_register_model(mlruns_store_t* store, const char* name, const char* source,
                          const char* alias, int64_t* version, char** errptr);
/* Points `alias` of registered model `name` at `version` (atomically). */
int mlruns_set_model_alias(mlruns_store_t* store, const char* name, const char* alias,
                           int64_t version, char** errptr);
/* Writes the run's buffered points to their files. */
int mlruns_run_flush(mlruns_run_t* run, char** errptr);
/* Flushes and ends the run with `status` (MLRUNS_RUN_FINISHED, _FAILED or
 * _KILLED) and end_time. Later calls are no-ops. The handle stays valid. */
int mlruns_end_run(mlruns_run_t* run, int status, char** errptr);
/* Releases the handle; a run not yet ended is ended FINISHED first.
 * Returns that end's code. NULL is fine. */
int mlruns_run_close(mlruns_run_t* run);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MLRUNS_C_H_ */
