// Command-line errors of the mlruns CLI, in one place (issue 10 item 2).
//
// main() hands every CLI11 parse failure to report_usage_error, so a verb
// added later gets the same treatment without code of its own: one line on
// stderr, `mlruns: unknown verb 'rn'; did you mean 'run'?`, exit 2
// (kExitUsage). The suggestion is the verb or option name of that level
// (the verb's own options and the global ones) nearest by
// Damerau-Levenshtein distance (optimal string alignment).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
class ParseError;
}  // namespace CLI

namespace mlruns::cli {

// Edits (insert, delete, substitute, swap two neighbours) from a to b.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word`, or "" when none is near enough: at most
// 1 edit for words up to 4 characters, 2 up to 8, 3 beyond; a unique
// candidate that starts with `word` also counts (`--over` -> `--overwrite`).
std::string suggest(std::string_view word, const std::vector<std::string>& candidates);

// Prints the error for `e` (thrown by app.parse(argc, argv)) on stderr, or
// the help for --help, and returns the exit code: 0 for --help/--version,
// kExitUsage otherwise. `mlruns` alone prints the help on stdout, exit 2.
int report_usage_error(CLI::App& app, const CLI::ParseError& e, int argc, const char* const* argv);

// `help` at any level of verbs, as git and cargo take it: `mlruns help`,
// `mlruns help models register` and `mlruns models help register` become
// `mlruns models register --help` in `args`. A word after `help` that names
// no verb there is an error on stderr with the nearest verb ("unknown verb
// 'nosuch'; did you mean 'show'?"): returns kExitUsage. Returns -1 when
// `args` is to be parsed (rewritten, or not a help request).
int rewrite_help(const CLI::App& app, std::vector<const char*>& args);

// "mlruns run start": the command path of a (sub)command.
std::string command_path(const CLI::App& app);

// The verb that was parsed (the deepest subcommand), after app.parse.
const CLI::App& parsed_verb(const CLI::App& app);

// The verbs below `app` that --help lists (a hidden one has an empty group).
std::vector<const CLI::App*> visible_verbs(const CLI::App& app);
// Every option name accepted at `app` ("--metric", "-m"): its own and, as
// verbs fall through to their parents, those of every level above.
std::vector<std::string> option_names(const CLI::App& app);

}  // namespace mlruns::cli
