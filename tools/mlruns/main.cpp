// mlruns: record and read MLflow mlruns trees from the shell.
#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  CLI::App app{"mlruns: write and read MLflow mlruns/ trees without Python"};
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
