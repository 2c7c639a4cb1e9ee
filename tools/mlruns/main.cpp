// mlruns: record and read MLflow mlruns trees from the shell.
//
// main only wires the verbs (one cmd_<verb>.cpp each), parses, runs the verb
// that was given and turns every failure into one line on stderr and the
// exit code documented in exit_codes.h: command-line errors through
// report_usage_error (usage.h), errors of a verb here. A verb added later
// gets both without code of its own.
#include <exception>
#include <iostream>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli_common.h"
#include "commands.h"
#include "exit_codes.h"
#include "mlruns/c.h"
#include "status_line.h"
#include "usage.h"

int main(int argc, char** argv) {
  using namespace mlruns::cli;
  install_terminal_filter();
  CLI::App app{"mlruns: write and read MLflow mlruns/ trees without Python"};
  app.name("mlruns");
  app.footer(kExitCodesHelp);
  app.require_subcommand(1);
  // Verbs inherit fallthrough: a global option (--quiet) given after a verb's
  // own arguments is passed up to the main app.
  app.fallthrough();
  add_tracking_uri(app);
  app.add_flag("-q,--quiet", globals().quiet, "Do not print warnings about damaged parts of the tree");
  app.add_flag("--local-time", globals().local_time,
               "Show times in the local zone with its offset (2024-01-01 01:20:00+01:00) instead of UTC (...Z)");
  // The C API's version string (mlruns_version), so both always agree.
  const std::string version = std::string("mlruns ") + mlruns_version();
  app.set_version_flag("--version", version, "Print the version and exit");

  Commands commands;
  setup_experiments(app, commands);
  setup_run(app, commands);
  setup_log(app, commands);
  setup_log_artifact(app, commands);
  setup_log_model(app, commands);
  setup_runs(app, commands);
  setup_show(app, commands);
  setup_history(app, commands);
  setup_artifacts(app, commands);
  setup_get_top_run(app, commands);
  setup_models(app, commands);
  setup_download(app, commands);
  setup_report(app, commands);
  setup_plot(app, commands);
  setup_fsck(app, commands);
  setup_relocate(app, commands);
  setup_gc(app, commands);
  setup_reap(app, commands);
  setup_sync(app, commands);
  commands.add(app.add_subcommand("version", "Print the version"), [version] {
    machine_out() << version << '\n';
    return kExitOk;
  });
  setup_generate(app, commands);

  // `mlruns [VERB...] help [VERB...]` is `mlruns VERB... --help`, as git and cargo take it.
  std::vector<const char*> args(argv, argv + argc);
  if (const int rc = rewrite_help(app, args); rc >= 0) return rc;
  try {
    app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::ParseError& e) {
    return report_usage_error(app, e, static_cast<int>(args.size()), args.data());
  }

  // Every verb shows that it is working, on a terminal (status_line.h),
  // unless its output is for a program (--json) or --quiet is given.
  StatusLineGuard status_line;
  {
    const CLI::App& verb = parsed_verb(app);
    const CLI::Option* json = verb.get_option_no_throw("--json");
    StatusLine::start(command_path(verb).substr(app.get_name().size() + 1),
                      (json == nullptr || json->count() == 0) && !globals().quiet);
  }
  try {
    const int rc = commands.run_parsed();
    std::cout.flush();
    if (!std::cout) {
      std::cerr << "mlruns: error: could not write to standard output\n";
      return kExitIOError;
    }
    return rc < 0 ? kExitUsage : rc;
  } catch (const UsageError& e) {
    std::cout.flush();
    std::cerr << "mlruns: " << e.what() << '\n';
    return kExitUsage;
  } catch (const mlruns::Error& e) {
    std::cout.flush();
    std::cerr << "mlruns: " << e.status().to_string() << '\n';
    return exit_code_for(e.status().code());
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << "mlruns: internal error: " << e.what() << '\n';
    return kExitFailure;
  }
}
