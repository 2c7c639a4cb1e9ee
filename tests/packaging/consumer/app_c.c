/* Writes one run through the installed C API. Usage: app_c <tracking root> */
#include <stdio.h>

#include <mlruns/c.h>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  mlruns_store_t* store = mlruns_store_open(argv[1], MLRUNS_ERRORS_PRINT, NULL);
  if (!store) return 1;
  char exp[MLRUNS_ID_BUFSIZE];
  if (mlruns_get_or_create_experiment(store, "consumer", exp, sizeof exp, NULL) != MLRUNS_OK) return 1;
  mlruns_run_t* run = mlruns_start_run(store, exp, "from-c", NULL, NULL);
  if (!run) return 1;
  int rc = mlruns_log_metric(run, "loss", 0.5, 1, NULL);
  rc |= mlruns_end_run(run, MLRUNS_RUN_FINISHED, NULL);
  rc |= mlruns_run_close(run);
  rc |= mlruns_store_close(store);
  printf("%s/%s\n", exp, "c");
  return rc == MLRUNS_OK ? 0 : 1;
}
