// Shared plumbing of the mlruns CLI: global options, the verb registry,
// opening the tree, K=V parsing, and the output formats (terminal table,
// CSV, Python-style numbers). JSON shapes live in rest_json.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlruns/reader.h"
#include "mlruns/status.h"
#include "mlruns/store.h"
#include "mlruns/types.h"

namespace CLI {
class App;
class Option;
}

namespace mlruns::cli {

// Options every verb shares. --tracking-uri is accepted on the main app
// (before the verb) and on every verb (after its own arguments).
struct Globals {
  std::string tracking_uri;  // empty: MLFLOW_TRACKING_URI, then ./mlruns (resolved by the library)
  bool quiet = false;        // no warnings about damaged parts of the tree
  bool local_time = false;   // --local-time: times in the local zone with its offset, not UTC
  std::string run_experiment;  // -e of a verb naming a run by id: Reader/StoreOptions::run_experiment_id
};
Globals& globals();

// Adds --tracking-uri (bound to globals()) to a verb.
void add_tracking_uri(CLI::App& app);
// Adds --experiment/-e EXP_ID (bound to globals()) to a verb naming a run by
// id: the experiment to take the run from where its id is in more than one
// (a copied experiment); without it such an id is refused (format/layout.h
// pick_run: one rule for every verb).
void add_run_experiment(CLI::App& app);

// A comma-separated list option (--columns, --run-ids ...): split at ',',
// spaces around each item dropped ("run_id, run_name"), one argument per
// occurrence.
CLI::Option* comma_list(CLI::Option* option);

// The error for a comma list given nothing but commas and spaces ("",
// ",", " , "), whichever of CLI11 or the verb sees it first: for
// --columns "--columns '' names no column; give e.g. run_id,run_name, or
// leave it out for the default columns".
std::string empty_list_error(std::string_view option);

// An artifact path option or argument (--artifact-path, artifacts PATH):
// folded by mlruns::normalize_artifact_path as it is parsed, so "ckpts/best/"
// (tab completion's trailing '/') and "./ckpts/best" mean ckpts/best in
// every verb.
CLI::Option* artifact_path_option(CLI::Option* option);

// Verb registry: main runs the function of the deepest subcommand parsed.
class Commands {
 public:
  void add(CLI::App* app, std::function<int()> run) { entries_.emplace_back(app, std::move(run)); }
  // Exit code of the verb that was parsed; nullptr-safe. Returns -1 if none.
  int run_parsed() const;

 private:
  std::vector<std::pair<CLI::App*, std::function<int()>>> entries_;
};

// A command line that parsed but does not make sense (gc without a choice of
// what to remove): main prints "mlruns: <what>" and exits 2 (kExitUsage),
// as for errors CLI11 finds.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws mlruns::Error for a failed Status; main turns it into a message and an exit code.
void check(const Status& status);
template <typename T>
T check(Result<T> result) {
  if (!result) check(result.error());
  return std::move(*result);
}

// The tree as a Reader (never creates anything). Warnings go to stderr unless --quiet.
Reader open_reader();
// The tree as a Store (created if missing), in ErrorMode::kCount: calls return Status.
Store open_store();
// As open_store, but the tree must already exist (verbs that act on a run).
Store open_existing_store();

// "NAME_OR_ID" -> experiment (an id wins over a name), through the Reader.
Experiment find_experiment(const Reader& reader, std::string_view name_or_id);

// Which runs a read verb (runs, report, get-top-run) works on, one rule for
// all (issue 10 item 5): the experiments named with -e (any number, active
// or deleted), or none named: every experiment of the tree, active and
// deleted. --view then picks runs by their own lifecycle_stage, as MLflow's
// search_runs does for the ids it is given; deleting an experiment marks its
// runs deleted (MLflow's delete_experiment), so `--view active` shows none of
// them. So `runs` gives the union of `runs -e X` over every X, whatever the
// view, filter and --max.
struct RunScope {
  std::vector<std::string> experiment_ids;
  std::string names;  // "rl-sweep, sentiment" for messages; "every experiment" when none named
  ViewType view = ViewType::kActiveOnly;
};
RunScope run_scope(const Reader& reader, const std::vector<std::string>& names_or_ids, std::string_view view);

// The same through the Store, for write verbs (deleted experiments included).
std::string resolve_experiment_id(const Store& store, std::string_view name_or_id);

// "active" | "deleted" | "all"
ViewType parse_view(std::string_view view);

// "K=V" -> {K, V}; the value may contain '='. `what` names the option in errors.
std::pair<std::string, std::string> split_key_value(std::string_view arg, std::string_view what);
// Numbers, locale-free. Errors name the option and the text.
double parse_double(std::string_view text, std::string_view what);
std::int64_t parse_int64(std::string_view text, std::string_view what);

std::int64_t now_ms();
// A time given in ms since the epoch (--timestamp, --end-time), parsed from
// `text`. A value that is seconds, microseconds or nanoseconds by mistake,
// judged by value, not digits (1e9..1e10: 2001-2286 in seconds, January
// 1970 in ms; >= 1e14: 1973 on in µs, >= 1e17 ns), is refused naming the
// text as typed, with the value in ms as a hint (exit 3); so is one from
// kMaxEpochMs (1e13 ms, 2286-11-20) to 1e14, a time past 2286 in ms.
inline constexpr std::int64_t kMaxEpochMs = 10'000'000'000'000;
std::int64_t parse_epoch_ms(std::string_view text, std::string_view what);

// Python's repr(float): 7.0, 0.30000000000000004, 1.5e+300, 1e-05, nan, inf, -inf
// (mlruns::python_repr, the writer's own, so the CLI prints what the files hold).
std::string py_float(double value);
// ms since epoch -> a time that says its zone (RFC 3339 with a space):
// "2024-01-01 00:20:00Z" (UTC, the default), or with --local-time the local
// zone (TZ) and its offset, "2024-01-01 01:20:00+01:00".
std::string format_time_ms(std::int64_t ms);
// 1536 -> "1.5 KiB"
std::string format_bytes(std::uint64_t bytes);

// ---- tables and CSV ----
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  // Columns kept on a narrow terminal before any other but the first (the
  // metric of --order-by); may be shorter than header.
  std::vector<bool> pinned;
};
// Columns of the terminal on stdout: $COLUMNS, else TIOCGWINSZ, else 0 (not
// a terminal: no limit, so a pipe gets the whole table).
std::size_t terminal_width();
// Prints aligned columns; cells are escaped by terminal_safe. With
// width > 0 (a terminal), cells are cut at 40 columns with "…" (headers
// never), the leftmost columns that fit are shown and the rest left out;
// returns how many were left out. With width 0 (a pipe) only cells wider
// than kMaxCell are cut; --csv and --json give whole values.
std::size_t print_table(std::ostream& out, const Table& table, std::size_t width);
// The same, one row at a time, for output too large to hold (history):
// the natural width of each column (display_width of its widest cell,
// header included) and of its header in, the widths and which columns are
// shown out. `pinned` as Table::pinned.
inline constexpr std::size_t kMaxCell = 200;
struct TableLayout {
  static constexpr std::size_t kGap = 2;
  std::vector<std::size_t> widths;
  std::vector<bool> show;
  std::size_t shown = 0;
};
TableLayout layout_table(std::vector<std::size_t> natural, std::size_t width, const std::vector<std::size_t>& header,
                         const std::vector<bool>& pinned = {});
void print_table_row(std::ostream& out, const TableLayout& layout, const std::vector<std::string>& row);
void print_csv_row(std::ostream& out, const std::vector<std::string>& row);
// RFC 4180 quoting (lines end in LF, as pandas writes): a field with , " CR LF or outer spaces is quoted, quotes doubled.
std::string csv_field(std::string_view field);
void print_csv(std::ostream& out, const Table& table);

// How far a long operation is, on the CLI's one progress line
// (status_line.h: on stderr when it is a terminal, after a second, never on
// a pipe or with --json): `text(done, total)` replaces the verb's generic
// "working" until finish() or the end of the Progress. Thread-safe.
class Progress {
 public:
  explicit Progress(std::function<std::string(std::uint64_t done, std::uint64_t total)> text);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  void operator()(std::uint64_t done, std::uint64_t total);
  void finish();

 private:
  std::function<std::string(std::uint64_t, std::uint64_t)> text_;
  std::chrono::steady_clock::time_point last_{};
};

// Terminal cells of text as print_table shows it (terminal_safe, then
// East Asian widths: CJK = 2, combining = 0; mlruns/text.h).
std::size_t display_width(std::string_view text);

// ---- output safe for a terminal (issue 15 item 5) ----
// main calls install_terminal_filter() first: from then on every byte a verb
// writes to std::cout or std::cerr for a person goes through terminal_safe
// (mlruns/text.h), whatever the tree holds. Output for programs, which
// escapes per its own format (JSON, CSV) or is a value a script captures (an
// id, the downloaded path) or escapes tree text itself (write_terminal_chart:
// its own colours, labels through escape_control), goes to machine_out().
// Progress goes through Progress (status_line.h draws it).
void install_terminal_filter();
std::ostream& machine_out();

}  // namespace mlruns::cli
