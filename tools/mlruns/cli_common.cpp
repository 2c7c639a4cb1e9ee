// Shared plumbing of the mlruns CLI (see cli_common.h).
#include "cli_common.h"
#include "mlruns/key.h"
#include "mlruns/text.h"
#include "status_line.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <iostream>
#include <memory>
#include <unordered_set>

#include <CLI/CLI.hpp>

namespace mlruns::cli {

Globals& globals() {
  static Globals g;
  return g;
}

void add_tracking_uri(CLI::App& app) {
  app.add_option("--tracking-uri", globals().tracking_uri,
                 "mlruns tree: a path or file: URI (default: MLFLOW_TRACKING_URI, then ./mlruns)");
}

void add_run_experiment(CLI::App& app) {
  app.add_option("--experiment,-e", globals().run_experiment,
                 "Experiment id of the run, needed only where its id is in more than one experiment (a copied "
                 "experiment)");
}

CLI::Option* artifact_path_option(CLI::Option* option) {
  return option->transform(CLI::Validator(
      [](std::string& path) {
        path = normalize_artifact_path(path);
        return std::string();
      },
      "", "artifact path"));
}

CLI::Option* comma_list(CLI::Option* option) {
  return option->delimiter(',')
      ->allow_extra_args(false)
      ->transform(CLI::Validator(
          [](std::string& item) {
            const auto first = item.find_first_not_of(" \t");
            const auto last = item.find_last_not_of(" \t");
            item = first == std::string::npos ? std::string() : item.substr(first, last - first + 1);
            return std::string();
          },
          "", "trim"));
}

std::string empty_list_error(std::string_view option) {
  const std::string name(option);
  if (name == "--columns")
    return name + " '' names no column; give e.g. run_id,run_name, or leave it out for the default columns";
  return name + " '' names nothing; give a comma-separated list, or leave it out";
}

int Commands::run_parsed() const {
  const std::function<int()>* best = nullptr;
  int best_depth = -1;
  for (const auto& [app, run] : entries_) {
    if (!app->parsed()) continue;
    int depth = 0;
    for (const CLI::App* p = app->get_parent(); p != nullptr; p = p->get_parent()) ++depth;
    if (depth > best_depth) {
      best_depth = depth;
      best = &run;
    }
  }
  return best != nullptr ? (*best)() : -1;
}

void check(const Status& status) {
  if (!status.is_ok()) throw Error(status);
}

Reader open_reader() {
  ReaderOptions options;
  options.run_experiment_id = globals().run_experiment;
  if (!globals().quiet) {
    // Once per path and message: a verb may read a file twice (search reads
    // what it filters on, then what it shows), its reader says so once.
    options.on_warning = [seen = std::make_shared<std::unordered_set<std::size_t>>()](const Warning& w) {
      if (!seen->insert(std::hash<std::string>{}(w.path + '\0' + w.message)).second) return;
      std::cerr << "mlruns: warning: " << w.path << ": " << w.message << '\n';
    };
  }
  return check(Reader::open(globals().tracking_uri, std::move(options)));
}

Store open_store() {
  StoreOptions options;
  options.tracking_uri = globals().tracking_uri;
  options.run_experiment_id = globals().run_experiment;
  options.errors = ErrorMode::kCount;
  options.on_error = [](const Status&) {};  // main prints the one error of the call
  // One short-lived call per process: no background flusher needed.
  options.flush.background_thread = false;
  Store store = Store::open(std::move(options));
  check(store.status());
  return store;
}

Store open_existing_store() {
  // Reader::open resolves the URI the same way and fails if the root is not a
  // directory, so a typo in --tracking-uri never creates a new tree.
  Reader reader = check(Reader::open(globals().tracking_uri, {}));
  StoreOptions options;
  options.tracking_uri = reader.root();
  options.run_experiment_id = globals().run_experiment;
  options.errors = ErrorMode::kCount;
  options.on_error = [](const Status&) {};  // main prints the one error of the call
  options.flush.background_thread = false;
  Store store = Store::open(std::move(options));
  check(store.status());
  return store;
}

Experiment find_experiment(const Reader& reader, std::string_view name_or_id) {
  return check(reader.find_experiment(name_or_id));
}

RunScope run_scope(const Reader& reader, const std::vector<std::string>& names_or_ids, std::string_view view) {
  RunScope scope;
  scope.view = parse_view(view);
  if (names_or_ids.empty()) {
    for (const Experiment& e : check(reader.experiments(ViewType::kAll))) scope.experiment_ids.push_back(e.experiment_id);
    scope.names = "every experiment";
    return scope;
  }
  for (const std::string& n : names_or_ids) {
    const Experiment e = find_experiment(reader, n);
    if (std::find(scope.experiment_ids.begin(), scope.experiment_ids.end(), e.experiment_id) !=
        scope.experiment_ids.end())
      continue;  // -e named twice (by name and by id): searched once
    scope.experiment_ids.push_back(e.experiment_id);
    scope.names += (scope.names.empty() ? "" : ", ") + e.name;
  }
  return scope;
}

// Looks an experiment up by id, else by name, deleted ones included.
std::string resolve_experiment_id(const Store& store, std::string_view name_or_id) {
  if (validate_experiment_id(name_or_id).is_ok()) {
    if (auto e = store.get_experiment(name_or_id)) return e->experiment_id;
  }
  Result<Experiment> e = store.get_experiment_by_name(name_or_id);
  if (!e) check(Status::not_found("experiment '" + std::string(name_or_id) + "'", "no experiment has this id or name"));
  return e->experiment_id;
}

ViewType parse_view(std::string_view view) {
  if (view == "active" || view == "active_only") return ViewType::kActiveOnly;
  if (view == "deleted" || view == "deleted_only") return ViewType::kDeletedOnly;
  if (view == "all") return ViewType::kAll;
  check(Status::invalid_argument("--view '" + std::string(view) + "'", "must be active, deleted or all"));
  return ViewType::kActiveOnly;
}

std::pair<std::string, std::string> split_key_value(std::string_view arg, std::string_view what) {
  const auto eq = arg.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    check(Status::invalid_argument(std::string(what) + " '" + std::string(arg) + "'", "expected KEY=VALUE"));
  }
  return {std::string(arg.substr(0, eq)), std::string(arg.substr(eq + 1))};
}

// The one number parser of the CLI: Python's float() and int(), as the
// library reads metric files (1e400 is inf, " 5 " and "1_000" are fine).
double parse_double(std::string_view text, std::string_view what) {
  std::optional<double> v = parse_python_float(text);
  if (!v) check(Status::invalid_argument(std::string(what) + " '" + std::string(text) + "'",
                                        "not a number (Python's float() syntax: 0.5, -1e-5, nan, inf)"));
  return *v;
}

std::int64_t parse_int64(std::string_view text, std::string_view what) {
  std::optional<std::int64_t> v = parse_python_int(text);
  if (!v) check(Status::invalid_argument(std::string(what) + " '" + std::string(text) + "'",
                                        "not an integer in the 64-bit range"));
  return *v;
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::int64_t parse_epoch_ms(std::string_view text, std::string_view what) {
  const std::int64_t ms = parse_int64(text, what);
  // By value, whatever the digits ("0001700000000" is 1.7e9 too): seconds
  // put "now" near 1.7e9, microseconds near 1.7e15, nanoseconds near 1.7e18.
  // Milliseconds lie below 1e13 (2286-11-20, where seconds end at 1e10):
  // one more digit is a time past 2286 (to the year 5138 at 1e14), which no
  // run has, so it is refused as a mistake too.
  std::string unit;
  std::int64_t fixed = 0;
  if (ms >= 1'000'000'000 && ms < 10'000'000'000) {
    unit = "seconds";
    fixed = ms * 1000;
  } else if (ms >= kMaxEpochMs && ms < 100'000'000'000'000) {
    check(Status::invalid_argument(std::string(what) + " '" + std::string(text) + "'",
                                   "is after the year 2286 in milliseconds since the epoch (ms must be below 1e13, "
                                   "2286-11-20); give milliseconds, e.g. now: " +
                                       std::to_string(now_ms())));
  } else if (ms >= 100'000'000'000'000 && ms < 100'000'000'000'000'000) {
    unit = "microseconds";
    fixed = ms / 1000;
  } else if (ms >= 100'000'000'000'000'000) {
    unit = "nanoseconds";
    fixed = ms / 1'000'000;
  }
  if (!unit.empty())
    check(Status::invalid_argument(std::string(what) + " '" + std::string(text) + "'",
                                   "looks like " + unit + " since the epoch; give milliseconds, e.g. " +
                                       std::to_string(fixed) + " (" + format_time_ms(fixed) + ")"));
  return ms;
}

std::string py_float(double value) { return python_repr(value); }

std::string format_time_ms(std::int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  const bool local = globals().local_time;
  if ((local ? localtime_r(&secs, &tm) : gmtime_r(&secs, &tm)) == nullptr) return std::to_string(ms);
  char buf[48];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  if (!local) return std::string(buf, n) + 'Z';
  // %z gives +0100; RFC 3339 writes +01:00.
  char zone[16];
  const std::size_t z = std::strftime(zone, sizeof zone, "%z", &tm);
  std::string out(buf, n);
  if (z == 5) out += std::string(zone, 3) + ':' + std::string(zone + 3, 2);
  return out;
}

std::string format_bytes(std::uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 4) {
    v /= 1024;
    ++unit;
  }
  if (unit == 0) return std::to_string(bytes) + " B";
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 1);
  return std::string(buf, res.ptr) + ' ' + kUnits[unit];
}

std::size_t terminal_width() {
  if (const char* env = std::getenv("COLUMNS"); env != nullptr && *env != '\0') {
    std::size_t cols = 0;
    const std::string_view s(env);
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), cols);
    if (ec == std::errc() && ptr == s.data() + s.size() && cols > 0) return cols;
  }
  if (isatty(STDOUT_FILENO) != 0) {
    winsize ws{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 80;
  }
  return 0;
}

std::size_t display_width(std::string_view text) { return mlruns::display_width(terminal_safe(text)); }

namespace {

// A cell as shown: escaped by terminal_safe (newlines too, so each row stays
// one line), then cut to `width` cells with "…".
std::string fit_cell(std::string_view text, std::size_t width) {
  return fit_width(terminal_safe(text), width);
}

// Standard output or error, for a person (`escape`: every byte passes
// through terminal_safe, newlines kept, and long lines are cut, below) or
// for a program (bytes as they are), never mixed with the progress line
// (status_line.h) on a terminal. Escaped bytes are held until a line ends,
// the stream is flushed, or 4 KiB gathered; a UTF-8 sequence is never split.
//
// A tree's strings reach a person's screen inside lines (a run name in
// get-top-run's explanation, a path in fsck's findings) and may be up to
// ReaderOptions::max_value_bytes (1 MiB) long. Every human line wider than
// kLineCells shows its first kHeadCells cells, "…[N bytes not shown]…" and
// its last kTailCells cells, so what follows the long string (a value, a
// step) stays on screen. --json, --csv and other machine output are never cut.
class OutputBuf final : public std::streambuf {
 public:
  static constexpr std::size_t kLineCells = 1000, kHeadCells = 500, kTailCells = 200;

  OutputBuf(std::streambuf* dest, int fd, bool escape) : dest_(dest), tty_(isatty(fd) != 0), escape_(escape) {}

 protected:
  int overflow(int c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    const char ch = static_cast<char>(c);
    xsputn(&ch, 1);
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    const std::string_view bytes(s, static_cast<std::size_t>(n));
    if (!escape_) {
      write(bytes);
      return n;
    }
    pending_.append(bytes);
    if (bytes.find('\n') != std::string_view::npos || pending_.size() >= 4096) emit();
    return n;
  }
  int sync() override {
    emit();
    if (escape_ && line_cells_ > 0) {  // a flush inside a line: show what is held
      std::string out;
      end_line(out);
      write(out);
    }
    return dest_->pubsync();
  }

 private:
  void write(std::string_view bytes) {
    auto put = [&] { dest_->sputn(bytes.data(), static_cast<std::streamsize>(bytes.size())); };
    if (!tty_ || bytes.empty()) return put();
    StatusLine::hidden_while(put, bytes.back() == '\n');
  }
  // Writes what is complete; an unfinished UTF-8 sequence at the end waits.
  void emit() {
    std::size_t cut = pending_.size();
    // The last lead byte among the final 4: if its sequence is not complete yet, hold it back.
    for (std::size_t back = 1; back <= 4 && back <= pending_.size(); ++back) {
      const auto c = static_cast<unsigned char>(pending_[pending_.size() - back]);
      if ((c & 0xC0) == 0x80) continue;  // a continuation byte
      const std::size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      if (back < need) cut = pending_.size() - back;
      break;
    }
    const std::string safe = terminal_safe(std::string_view(pending_).substr(0, cut), /*keep_newlines=*/true);
    pending_.erase(0, cut);
    std::string out;
    std::string_view text = safe;
    while (!text.empty()) {
      const std::size_t nl = text.find('\n');
      add_to_line(text.substr(0, nl), out);
      if (nl == std::string_view::npos) break;
      end_line(out);
      out += '\n';
      text.remove_prefix(nl + 1);
    }
    write(out);
  }
  // Text of the current line (terminal_safe, no newline): the head goes out,
  // what lies beyond it waits until the line is known to fit or not.
  void add_to_line(std::string_view piece, std::string& out) {
    if (piece.empty()) return;
    if (!cutting_ && line_cells_ < kHeadCells) {
      const std::size_t bytes = width_prefix_bytes(piece, kHeadCells - line_cells_);
      out.append(piece.substr(0, bytes));
      line_cells_ += mlruns::display_width(piece.substr(0, bytes));
      piece.remove_prefix(bytes);
      if (piece.empty()) return;
      line_cells_ = kHeadCells;  // a wide character that did not fit: the head ends here
    }
    if (cutting_) return keep_tail(piece);
    held_.append(piece);
    line_cells_ += mlruns::display_width(piece);
    if (line_cells_ > kLineCells) {
      cutting_ = true;
      std::string held = std::move(held_);
      held_.clear();
      keep_tail(held);
    }
  }
  // Past the line's limit: only the last kTailCells cells will be shown.
  void keep_tail(std::string_view piece) {
    cut_bytes_ += piece.size();
    tail_.append(piece);
    constexpr std::size_t kKeep = 16 * kTailCells;  // bytes: enough for kTailCells cells of any text
    if (tail_.size() > 2 * kKeep) {
      std::size_t from = tail_.size() - kKeep;
      while (from < tail_.size() && (static_cast<unsigned char>(tail_[from]) & 0xC0) == 0x80) ++from;
      tail_.erase(0, from);
    }
  }
  void end_line(std::string& out) {
    if (cutting_) {
      std::string_view tail = tail_;
      const std::size_t width = mlruns::display_width(tail);
      if (width > kTailCells) {
        tail.remove_prefix(width_prefix_bytes(tail, width - kTailCells));
        while (mlruns::display_width(tail) > kTailCells) {  // a wide character on the edge
          tail.remove_prefix(1);
          while (!tail.empty() && (static_cast<unsigned char>(tail.front()) & 0xC0) == 0x80) tail.remove_prefix(1);
        }
      }
      out += "\xe2\x80\xa6[" + std::to_string(cut_bytes_ - tail.size()) + " bytes not shown]\xe2\x80\xa6";
      out.append(tail);
    } else {
      out += held_;
    }
    line_cells_ = 0;
    cutting_ = false;
    cut_bytes_ = 0;
    held_.clear();
    tail_.clear();
  }
  std::streambuf* dest_;
  bool tty_;
  bool escape_;
  std::string pending_;
  // The current line of human output (escape_ only).
  std::size_t line_cells_ = 0;  // cells of the line so far, shown or held
  std::string held_;            // beyond the head, while the line may still fit
  bool cutting_ = false;        // the line is wider than kLineCells
  std::size_t cut_bytes_ = 0;   // bytes past the head, tail_ included
  std::string tail_;            // the last bytes of the line
};

struct Streams {
  std::streambuf* out = std::cout.rdbuf();
  std::streambuf* err = std::cerr.rdbuf();
  OutputBuf pass_out{out, STDOUT_FILENO, false};
  std::ostream machine{&pass_out};
  OutputBuf safe_out{out, STDOUT_FILENO, true};
  OutputBuf safe_err{err, STDERR_FILENO, true};
};

Streams& streams() {
  static Streams* s = new Streams;  // never destroyed: used until exit
  return *s;
}

}  // namespace

void install_terminal_filter() {
  Streams& s = streams();
  std::cout.rdbuf(&s.safe_out);
  std::cerr.rdbuf(&s.safe_err);
}

std::ostream& machine_out() {
  std::cout.flush();
  return streams().machine;
}

TableLayout layout_table(std::vector<std::size_t> natural, std::size_t width, const std::vector<std::size_t>& header,
                         const std::vector<bool>& pinned) {
  constexpr std::size_t kMaxNatural = 40;  // on a terminal, a long tag never takes a whole line
  constexpr std::size_t kMinShrunk = 10;
  auto header_width = [&](std::size_t c) { return c < header.size() ? header[c] : 0; };
  auto is_pinned = [&](std::size_t c) { return c < pinned.size() && pinned[c]; };
  TableLayout l;
  l.widths = std::move(natural);
  const std::size_t ncols = l.widths.size();
  l.show.assign(ncols, true);
  l.shown = ncols;
  // Even on a pipe a cell is at most kMaxCell cells wide (headers excepted):
  // a tree's value of up to 1 MiB would pad every row of its column.
  for (std::size_t c = 0; c < ncols; ++c) l.widths[c] = std::min(l.widths[c], std::max(kMaxCell, header_width(c)));
  if (width == 0 || ncols == 0) return l;
  // Columns come in order of importance: keep the leftmost ones whole and
  // leave out those on the right that do not fit, rather than cutting every
  // column down to an unreadable stub. The first column (the id a user
  // copies) is never cut; pinned columns (what the user sorted or filtered
  // on) get their room next. A header is never cut (`metrics.episode_rew…`
  // could be any of several metrics): a column is at least as wide as its
  // header, or left out.
  std::vector<std::size_t>& w = l.widths;
  for (std::size_t c = 1; c < ncols; ++c) w[c] = std::max(std::min(w[c], kMaxNatural), header_width(c));
  l.show.assign(ncols, false);
  l.show[0] = true;
  std::size_t used = w[0];
  for (std::size_t c = 1; c < ncols; ++c) {
    if (is_pinned(c) && used + TableLayout::kGap + w[c] <= width) {
      used += TableLayout::kGap + w[c];
      l.show[c] = true;
    }
  }
  for (std::size_t c = 1; c < ncols; ++c) {
    if (l.show[c] || is_pinned(c)) continue;
    if (used + TableLayout::kGap + w[c] <= width) {
      used += TableLayout::kGap + w[c];
      l.show[c] = true;
      continue;
    }
    // The first column that does not fit whole is shown cut, if enough is left.
    if (used + TableLayout::kGap + std::max(std::min(w[c], kMinShrunk), header_width(c)) <= width) {
      w[c] = width - used - TableLayout::kGap;
      l.show[c] = true;
    }
    break;
  }
  l.shown = static_cast<std::size_t>(std::count(l.show.begin(), l.show.end(), true));
  return l;
}

void print_table_row(std::ostream& out, const TableLayout& l, const std::vector<std::string>& row) {
  std::string line;
  for (std::size_t c = 0; c < l.widths.size(); ++c) {
    if (!l.show[c]) continue;
    const std::string cell = fit_cell(c < row.size() ? row[c] : std::string(), l.widths[c]);
    line += cell;
    line.append(l.widths[c] - display_width(cell) + TableLayout::kGap, ' ');
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  out << line << '\n';
}

std::size_t print_table(std::ostream& out, const Table& table, std::size_t width) {
  const std::size_t ncols = table.header.size();
  if (ncols == 0) return 0;
  std::vector<std::size_t> w(ncols, 0), header(ncols, 0);
  for (std::size_t c = 0; c < ncols; ++c) {
    w[c] = header[c] = display_width(table.header[c]);
    for (const auto& row : table.rows) {
      if (c < row.size()) w[c] = std::max(w[c], display_width(row[c]));
    }
  }
  const TableLayout l = layout_table(std::move(w), width, header, table.pinned);
  print_table_row(out, l, table.header);
  for (const auto& row : table.rows) print_table_row(out, l, row);
  return ncols - l.shown;
}

void print_csv_row(std::ostream& out, const std::vector<std::string>& row) {
  for (std::size_t c = 0; c < row.size(); ++c) {
    if (c > 0) out << ',';
    out << csv_field(row[c]);
  }
  out << '\n';
}

std::string csv_field(std::string_view field) {
  const bool quote = field.find_first_of(",\"\r\n") != std::string_view::npos ||
                     (!field.empty() && (field.front() == ' ' || field.back() == ' '));
  if (!quote) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

void print_csv(std::ostream& out, const Table& table) {
  print_csv_row(out, table.header);
  for (const auto& row : table.rows) print_csv_row(out, row);
}

Progress::Progress(std::function<std::string(std::uint64_t, std::uint64_t)> text) : text_(std::move(text)) {}

Progress::~Progress() { finish(); }

void Progress::operator()(std::uint64_t done, std::uint64_t total) {
  // Called per chunk or per run: the text is made at most ten times a second.
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(100) && done != total) return;
  last_ = now;
  StatusLine::set_text(text_(done, total));
}

void Progress::finish() { StatusLine::set_text({}); }

}  // namespace mlruns::cli
