/* Tests the C API (include/mlruns/c.h) from C, as a C or Fortran host would
 * use it: the header compiles as C11, results land in the tree in MLflow's
 * layout, and every misuse comes back as a code and a message, never a crash.
 * Built as its own executable (mlruns_c_api_test) and registered with ctest. */
#define _XOPEN_SOURCE 700
#include "mlruns/c.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int g_failures = 0;
static int g_checks = 0;

#define CHECK(cond)                                                          \
  do {                                                                       \
    ++g_checks;                                                              \
    if (!(cond)) {                                                           \
      ++g_failures;                                                          \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                        \
  } while (0)

#define CHECK_RC(expr, expected)                                                          \
  do {                                                                                    \
    int rc_ = (expr);                                                                     \
    ++g_checks;                                                                           \
    if (rc_ != (expected)) {                                                              \
      ++g_failures;                                                                       \
      fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d; last error: %s\n", __FILE__, \
              __LINE__, #expr, rc_, mlruns_code_name(rc_), (expected), mlruns_last_error()); \
    }                                                                                     \
  } while (0)

/* Reads a whole small file into a malloc()ed string; NULL if missing. */
static char* slurp(const char* path) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  char* buf = malloc(1 << 20);
  size_t n = fread(buf, 1, (1 << 20) - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static int count_lines(const char* s) {
  int n = 0;
  for (; s && *s; ++s) n += *s == '\n';
  return n;
}

/* How many times `needle` occurs in `s`. */
static int count_occurrences(const char* s, const char* needle) {
  int n = 0;
  for (const char* p = s; p && (p = strstr(p, needle)) != NULL; p += strlen(needle)) ++n;
  return n;
}

static int remove_entry(const char* path, const struct stat* sb, int flag, struct FTW* ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

int main(void) {
  char tmp[] = "/tmp/mlruns_c_api_test_XXXXXX";
  if (!mkdtemp(tmp)) {
    perror("mkdtemp");
    return 2;
  }
  char root[512], path[4096];
  snprintf(root, sizeof root, "%s/mlruns", tmp);
  char* err = NULL;

  /* ---- metadata ---- */
  CHECK(strlen(mlruns_version()) > 0);
  CHECK(strcmp(mlruns_code_name(MLRUNS_NOT_FOUND), "not found") == 0);
  CHECK(strcmp(mlruns_code_name(12345), "unknown code") == 0);

  /* ---- a server URI is refused with NOT_SUPPORTED ---- */
  mlruns_store_t* remote = mlruns_store_open("http://mlflow.example.com:5000", MLRUNS_ERRORS_RETURN, &err);
  CHECK(remote == NULL);
  CHECK(mlruns_last_error_code() == MLRUNS_NOT_SUPPORTED);
  CHECK(err != NULL && strlen(err) > 0);
  mlruns_free(err);
  err = NULL;
  CHECK_RC(mlruns_store_open("x", 7, NULL) == NULL ? mlruns_last_error_code() : MLRUNS_OK,
           MLRUNS_INVALID_ARGUMENT);

  /* ---- a tree that cannot be opened: its path named once, with the reason ---- */
  snprintf(path, sizeof path, "%s/plain-file", tmp);
  FILE* plain = fopen(path, "wb");
  CHECK(plain != NULL);
  if (plain) fclose(plain);
  snprintf(path, sizeof path, "%s/plain-file/mlruns", tmp);
  CHECK(mlruns_store_open(path, MLRUNS_ERRORS_RETURN, &err) == NULL);
  CHECK(count_occurrences(err, path) == 1);
  CHECK(strstr(err, "Not a directory") != NULL);
  CHECK(count_occurrences(mlruns_last_error(), path) == 1);
  mlruns_free(err);
  err = NULL;

  /* ---- open with options, get-or-create an experiment ---- */
  mlruns_options_t* opts = mlruns_options_create();
  CHECK(opts != NULL);
  mlruns_options_set_durability(opts, MLRUNS_DURABILITY_NONE);
  mlruns_options_set_flush_max_points(opts, 1000);
  mlruns_store_t* store = mlruns_store_open_with(root, opts, &err);
  mlruns_options_destroy(opts);
  CHECK(store != NULL);
  CHECK(err == NULL);
  if (!store) {
    fprintf(stderr, "cannot open %s: %s\n", root, mlruns_last_error());
    return 1;
  }
  CHECK(strstr(mlruns_store_root(store), "mlruns") != NULL);
  snprintf(path, sizeof path, "%s/0/meta.yaml", root);
  CHECK(access(path, F_OK) == 0); /* a new root gets experiment 0 "Default" */

  char exp_id[MLRUNS_ID_BUFSIZE], exp_again[MLRUNS_ID_BUFSIZE];
  CHECK_RC(mlruns_get_or_create_experiment(store, "c-api", exp_id, sizeof exp_id, &err), MLRUNS_OK);
  CHECK_RC(mlruns_get_or_create_experiment(store, "c-api", exp_again, sizeof exp_again, &err), MLRUNS_OK);
  CHECK(strcmp(exp_id, exp_again) == 0);
  CHECK(strlen(exp_id) > 0 && strspn(exp_id, "0123456789") == strlen(exp_id));
  char tiny[2];
  CHECK_RC(mlruns_get_or_create_experiment(store, "c-api", tiny, sizeof tiny, &err), MLRUNS_INVALID_ARGUMENT);
  CHECK(err != NULL && strstr(err, "MLRUNS_ID_BUFSIZE") != NULL);

  /* ---- a parent run and a nested child ---- */
  mlruns_run_t* parent = mlruns_start_run(store, exp_id, "sweep", NULL, &err);
  CHECK(parent != NULL);
  mlruns_run_t* child = mlruns_start_run(store, exp_id, "trial-1", mlruns_run_id(parent), &err);
  CHECK(child != NULL);
  if (!parent || !child) return 1;
  CHECK(strlen(mlruns_run_id(child)) == 32);

  /* ---- params: immutable ---- */
  CHECK_RC(mlruns_log_param(child, "lr", "0.001", &err), MLRUNS_OK);
  CHECK_RC(mlruns_log_param(child, "lr", "0.001", &err), MLRUNS_OK);
  CHECK_RC(mlruns_log_param(child, "lr", "0.5", &err), MLRUNS_ALREADY_EXISTS);
  CHECK(err != NULL && strstr(err, "lr") != NULL);

  /* ---- a hostile key never reaches the disk; errptr's old value is freed ---- */
  CHECK_RC(mlruns_log_metric(child, "../escape", 1.0, 0, &err), MLRUNS_INVALID_ARGUMENT);
  CHECK(err != NULL && strstr(err, "../escape") != NULL);
  CHECK(strstr(mlruns_last_error(), "../escape") != NULL);
  CHECK(mlruns_last_error_code() == MLRUNS_INVALID_ARGUMENT);
  snprintf(path, sizeof path, "%s/%s/escape", root, exp_id);
  CHECK(access(path, F_OK) != 0);

  /* ---- NULL arguments are errors, not crashes ---- */
  CHECK_RC(mlruns_log_metric(NULL, "loss", 1.0, 0, NULL), MLRUNS_INVALID_ARGUMENT);
  CHECK_RC(mlruns_log_param(child, NULL, "v", NULL), MLRUNS_INVALID_ARGUMENT);
  CHECK_RC(mlruns_set_tag(child, "k", NULL, NULL), MLRUNS_INVALID_ARGUMENT);
  CHECK(mlruns_start_run(NULL, exp_id, NULL, NULL, NULL) == NULL);
  CHECK_RC(mlruns_get_or_create_experiment(store, NULL, exp_again, sizeof exp_again, NULL),
           MLRUNS_INVALID_ARGUMENT);
  CHECK(strcmp(mlruns_run_id(NULL), "") == 0);

  /* ---- metrics, tags, artifacts ---- */
  for (int64_t step = 0; step < 100; ++step) {
    CHECK_RC(mlruns_log_metric(child, "loss", 1.0 / (double)(step + 1), step, NULL), MLRUNS_OK);
  }
  CHECK_RC(mlruns_set_tag(child, "model_type", "PPO", &err), MLRUNS_OK);
  CHECK_RC(mlruns_set_tag(child, "scratch", "x", &err), MLRUNS_OK);
  CHECK_RC(mlruns_delete_tag(child, "scratch", &err), MLRUNS_OK);
  CHECK_RC(mlruns_delete_tag(child, "scratch", NULL), MLRUNS_NOT_FOUND); /* MLflow: RESOURCE_DOES_NOT_EXIST */
  CHECK_RC(mlruns_delete_tag(child, NULL, NULL), MLRUNS_INVALID_ARGUMENT);
  CHECK_RC(mlruns_log_text(child, "{\"ok\": true}\n", "notes/info.json", &err), MLRUNS_OK);
  char local[1024];
  snprintf(local, sizeof local, "%s/policy.bin", tmp);
  FILE* f = fopen(local, "wb");
  CHECK(f != NULL);
  if (f) {
    fwrite("\x00\x01\x02\x03", 1, 4, f);
    fclose(f);
  }
  CHECK_RC(mlruns_log_artifact(child, local, "checkpoint_000010", &err), MLRUNS_OK);
  /* Logged again: never overwritten silently (issue 9 item 5). */
  CHECK_RC(mlruns_log_artifact(child, local, "checkpoint_000010", &err), MLRUNS_ALREADY_EXISTS);
  CHECK(err && strstr(err, "policy.bin") != NULL);
  /* log_artifacts copies a directory's contents: a file is refused. */
  CHECK_RC(mlruns_log_artifacts(child, local, "all", &err), MLRUNS_INVALID_ARGUMENT);
  CHECK_RC(mlruns_log_artifacts(child, NULL, "all", &err), MLRUNS_INVALID_ARGUMENT);
  CHECK_RC(mlruns_run_flush(child, &err), MLRUNS_OK);
  /* ---- a model, registered and aliased (model.h, registry.h; spec §8.3, §9.4) ---- */
  CHECK_RC(mlruns_log_model(child, local, "policy", "torchscript", NULL, &err), MLRUNS_OK);
  CHECK_RC(mlruns_log_model(child, local, "policy", "torchscript", NULL, &err), MLRUNS_ALREADY_EXISTS);
  CHECK_RC(mlruns_log_model(child, local, "bad", "sklearn", NULL, &err), MLRUNS_INVALID_ARGUMENT);
  CHECK_RC(mlruns_log_model(child, NULL, "x", NULL, NULL, &err), MLRUNS_INVALID_ARGUMENT);
  char source[128];
  snprintf(source, sizeof source, "runs:/%s/policy", mlruns_run_id(child));
  int64_t version = 0;
  CHECK_RC(mlruns_register_model(store, "ppo-policy", source, "champion", &version, &err), MLRUNS_OK);
  CHECK(version == 1);
  CHECK_RC(mlruns_register_model(store, "ppo-policy", source, NULL, &version, &err), MLRUNS_OK);
  CHECK(version == 2);
  CHECK_RC(mlruns_register_model(store, "a/b", source, NULL, NULL, &err), MLRUNS_INVALID_ARGUMENT);
  /* A bad alias is refused before anything is written; *version is left as it was (t10 F1). */
  version = -7;
  CHECK_RC(mlruns_register_model(store, "ppo-policy", source, "v3", &version, &err), MLRUNS_INVALID_ARGUMENT);
  CHECK(version == -7);
  CHECK(err && strstr(err, "'v3'") != NULL);
  snprintf(path, sizeof path, "%s/models/ppo-policy/version-3", root);
  CHECK(access(path, F_OK) != 0);
  CHECK_RC(mlruns_set_model_alias(store, "ppo-policy", "champion", 7, &err), MLRUNS_NOT_FOUND);
  CHECK_RC(mlruns_set_model_alias(NULL, "ppo-policy", "champion", 1, &err), MLRUNS_INVALID_ARGUMENT);
  snprintf(path, sizeof path, "%s/models/ppo-policy/aliases/champion", root);
  char* champion = slurp(path);
  CHECK(champion && strcmp(champion, "1") == 0);
  free(champion);
  CHECK_RC(mlruns_set_model_alias(store, "ppo-policy", "champion", 2, &err), MLRUNS_OK);
  champion = slurp(path);
  CHECK(champion && strcmp(champion, "2") == 0);
  free(champion);

  char run_dir[1024];
  snprintf(run_dir, sizeof run_dir, "%s/%s/%s", root, exp_id, mlruns_run_id(child));
  snprintf(path, sizeof path, "%s/metrics/loss", run_dir);
  char* loss = slurp(path);
  CHECK(loss != NULL);
  CHECK(count_lines(loss) == 100);
  CHECK(loss && strstr(loss, " 1.0 0\n") != NULL); /* first point: value 1.0, step 0 */
  CHECK(loss && strstr(loss, " 0.01 99\n") != NULL);
  free(loss);
  snprintf(path, sizeof path, "%s/params/lr", run_dir);
  char* lr = slurp(path);
  CHECK(lr && strcmp(lr, "0.001") == 0);
  free(lr);
  snprintf(path, sizeof path, "%s/tags/mlflow.parentRunId", run_dir);
  char* parent_tag = slurp(path);
  CHECK(parent_tag && strcmp(parent_tag, mlruns_run_id(parent)) == 0);
  free(parent_tag);
  snprintf(path, sizeof path, "%s/artifacts/checkpoint_000010/policy.bin", run_dir);
  struct stat st;
  CHECK(stat(path, &st) == 0 && st.st_size == 4);
  snprintf(path, sizeof path, "%s/artifacts/notes/info.json", run_dir);
  CHECK(access(path, F_OK) == 0);
  snprintf(path, sizeof path, "%s/artifacts/policy/MLmodel", run_dir);
  char* mlmodel = slurp(path);
  CHECK(mlmodel && strstr(mlmodel, "  pytorch:\n") != NULL);
  CHECK(mlmodel && strstr(mlmodel, "model_data: policy.bin\n") != NULL);
  free(mlmodel);
  snprintf(path, sizeof path, "%s/tags/mlflow.log-model.history", run_dir);
  CHECK(access(path, F_OK) == 0);

  /* ---- end: status and end_time; a bad status is refused ---- */
  CHECK_RC(mlruns_end_run(child, 9, &err), MLRUNS_INVALID_ARGUMENT);
  CHECK_RC(mlruns_end_run(child, MLRUNS_RUN_FAILED, &err), MLRUNS_OK);
  CHECK_RC(mlruns_end_run(child, MLRUNS_RUN_FINISHED, &err), MLRUNS_OK); /* a no-op */
  snprintf(path, sizeof path, "%s/meta.yaml", run_dir);
  char* meta = slurp(path);
  CHECK(meta && strstr(meta, "status: 4\n") != NULL);
  CHECK(meta && strstr(meta, "end_time: null") == NULL);
  free(meta);
  CHECK_RC(mlruns_run_close(child), MLRUNS_OK);

  /* ---- the store may be closed before its runs; closing a run ends it FINISHED ---- */
  char parent_dir[1024];
  snprintf(parent_dir, sizeof parent_dir, "%s/%s/%s", root, exp_id, mlruns_run_id(parent));
  CHECK(mlruns_store_failure_count(store) >= 2); /* the refused param and key */
  CHECK_RC(mlruns_store_close(store), MLRUNS_OK);
  CHECK_RC(mlruns_log_metric(parent, "best_loss", 0.01, 0, NULL), MLRUNS_OK);
  CHECK_RC(mlruns_run_close(parent), MLRUNS_OK);
  snprintf(path, sizeof path, "%s/meta.yaml", parent_dir);
  meta = slurp(path);
  CHECK(meta && strstr(meta, "status: 3\n") != NULL);
  free(meta);
  snprintf(path, sizeof path, "%s/metrics/best_loss", parent_dir);
  char* best = slurp(path);
  CHECK(count_lines(best) == 1);
  free(best);
  CHECK_RC(mlruns_run_close(NULL), MLRUNS_OK);
  CHECK_RC(mlruns_store_close(NULL), MLRUNS_OK);

  /* ---- a default artifact root: new experiments get <artifact_root>/<id> ---- */
  {
    char other[512], art[512], want[1024];
    snprintf(other, sizeof other, "%s/other", tmp);
    snprintf(art, sizeof art, "%s/art", tmp);
    mlruns_options_t* o = mlruns_options_create();
    mlruns_options_set_artifact_root(o, art);
    mlruns_store_t* s2 = mlruns_store_open_with(other, o, &err);
    mlruns_options_destroy(o);
    CHECK(s2 != NULL);
    char id2[MLRUNS_ID_BUFSIZE];
    CHECK_RC(mlruns_get_or_create_experiment(s2, "with-root", id2, sizeof id2, &err), MLRUNS_OK);
    snprintf(path, sizeof path, "%s/%s/meta.yaml", other, id2);
    char* m2 = slurp(path);
    snprintf(want, sizeof want, "artifact_location: %s/%s\n", art, id2);
    CHECK(m2 && strstr(m2, want) != NULL);
    free(m2);
    snprintf(path, sizeof path, "%s/0/meta.yaml", other);
    m2 = slurp(path);
    snprintf(want, sizeof want, "artifact_location: %s/0\n", art);
    CHECK(m2 && strstr(m2, want) != NULL); /* Default too, as MLflow's FileStore */
    free(m2);
    CHECK_RC(mlruns_store_close(s2), MLRUNS_OK);
  }

  mlruns_free(err);
  nftw(tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  printf("c_api_test: %d checks, %d failed\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
