// One setup function per verb file (cmd_<verb>.cpp): each adds its
// subcommand to the app and registers its run function.
#pragma once

#include "cli_common.h"
#include "mlruns/report.h"

namespace mlruns::cli {

// Write verbs (issue 2 item 10).
void setup_experiments(CLI::App& app, Commands& commands);  // list + create/delete/restore/rename
void setup_run(CLI::App& app, Commands& commands);          // start/end/delete/restore
void setup_log(CLI::App& app, Commands& commands);
void setup_log_artifact(CLI::App& app, Commands& commands);
// Read verbs (issue 3 item 5).
void setup_runs(CLI::App& app, Commands& commands);
void setup_show(CLI::App& app, Commands& commands);
void setup_history(CLI::App& app, Commands& commands);
void setup_artifacts(CLI::App& app, Commands& commands);
void setup_get_top_run(CLI::App& app, Commands& commands);
// Looking at runs (issue 14).
void setup_report(CLI::App& app, Commands& commands);
void setup_plot(CLI::App& app, Commands& commands);
// The terminal chart of plot and history --plot: width and height (0: the
// terminal's width, 16 rows), braille in UTF-8 locales unless `ascii`,
// colours when stdout is a terminal and NO_COLOR is unset.
TerminalChartOptions terminal_chart_options(int width, int height, bool ascii);
// Maintenance verbs (issue 4 items 5-8).
void setup_fsck(CLI::App& app, Commands& commands);
void setup_relocate(CLI::App& app, Commands& commands);
void setup_gc(CLI::App& app, Commands& commands);
void setup_reap(CLI::App& app, Commands& commands);
// Pushing a tree to a tracking server (issue 11).
void setup_sync(CLI::App& app, Commands& commands);
// The man page and shell completions from the same tree (hidden `__generate`).
void setup_generate(CLI::App& app, Commands& commands);

}  // namespace mlruns::cli
