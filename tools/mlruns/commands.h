// One setup function per verb file (cmd_<verb>.cpp): each adds its
// subcommand to the app and registers its run function.
#pragma once

#include "cli_common.h"

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
// Maintenance verbs (issue 4 items 5-8).
void setup_fsck(CLI::App& app, Commands& commands);
void setup_relocate(CLI::App& app, Commands& commands);
void setup_gc(CLI::App& app, Commands& commands);
void setup_reap(CLI::App& app, Commands& commands);
// Pushing a tree to a tracking server (issue 11).
void setup_sync(CLI::App& app, Commands& commands);

}  // namespace mlruns::cli
