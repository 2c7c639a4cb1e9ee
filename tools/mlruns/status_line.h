// The one progress line of the mlruns CLI (issue 10 item 7).
//
// main() starts it for whatever verb runs, so every verb, including those
// added later, shows on a terminal that it is still working once it has
// taken more than a second: `mlruns: fsck: working (3 s)`. A verb that knows
// how far it is replaces the text through Progress (cli_common.h):
// `mlruns: downloading 1.2 GiB / 3.0 GiB (40%) (12 s)`. The line is drawn
// on stderr only when stderr is a terminal, never on a pipe or a file, and
// not with --json or --quiet; it is redrawn in place at most twice a second,
// erased before anything else is written to stdout or stderr (so output and
// the line never mix) and at the end.
#pragma once

#include <functional>
#include <string>

namespace mlruns::cli {

class StatusLine {
 public:
  // Starts the line for verb `what` ("fsck", "run start") if `enabled` and
  // stderr is a terminal. A background thread draws it.
  static void start(std::string what, bool enabled);
  // Erases the line and stops the thread. Safe to call when not started.
  static void stop();
  // The text after "mlruns: "; "" goes back to "<verb>: working".
  static void set_text(std::string text);
  // Runs `write` (output to stdout or stderr) with the line erased first;
  // `ends_line`: the output ends with a newline, so the line may be drawn
  // again below it.
  static void hidden_while(const std::function<void()>& write, bool ends_line);
};

// Stops the line when main returns, whichever way.
struct StatusLineGuard {
  ~StatusLineGuard() { StatusLine::stop(); }
};

}  // namespace mlruns::cli
