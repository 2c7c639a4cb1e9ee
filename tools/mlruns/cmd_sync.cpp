// `mlruns sync --to URL`: pushes the tree to an MLflow tracking server
// (sync.h, docs/sync.md). SIGINT/SIGTERM finish the current batch and stop;
// the handler only sets a flag and writes to a pipe (no work in it).
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "exit_codes.h"
#include "maint_cli.h"
#include "mlruns/sync.h"
#include "rest_json.h"

namespace mlruns::cli {

struct SyncCliOptions {
  std::string to;
  std::vector<std::string> experiments;
  std::vector<std::string> run_ids;
  bool include_deleted = false;
  bool dry_run = false;
  bool rebuild_record = false;
  bool follow = false;
  std::string interval = "60s";
  unsigned jobs = 4;
  bool json = false;
};

namespace {

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler stores to it");
int g_wake[2] = {-1, -1};

extern "C" void on_stop_signal(int) {
  g_stop.store(true);
  if (g_wake[1] >= 0) {
    const char c = 's';
    ssize_t n = ::write(g_wake[1], &c, 1);
    (void)n;
  }
}

void install_stop_handlers() {
  if (::pipe(g_wake) == 0) {
    for (int fd : g_wake) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C stops at once
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

// Sleeps up to `ms`, or until a stop signal arrives.
void wait_interval(std::int64_t ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!g_stop.load()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()).count();
    if (left <= 0) return;
    struct pollfd p {g_wake[0], POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left, 60000)));
  }
}

std::string format_count(std::uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

// Progress on the CLI's progress line (status_line.h): runs, points, bytes,
// rate, ETA. Text from the tree or the server goes to std::cout/std::cerr,
// whose terminal filter (cli_common.h) escapes it; JSON goes to machine_out().
class SyncProgressLine {
 public:
  void operator()(const SyncProgress& p) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double rate = secs > 0 ? static_cast<double>(p.bytes_done) / secs : 0;
    std::string eta = "-";
    if (rate > 0 && p.bytes_total > p.bytes_done) {
      auto left = static_cast<long>(static_cast<double>(p.bytes_total - p.bytes_done) / rate);
      eta = std::to_string(left / 60) + "m" + std::to_string(left % 60) + "s";
    }
    text_ = "sync: " + std::to_string(p.runs_done) + "/" + std::to_string(p.runs_total) + " runs, " +
            format_count(p.points_sent) + " points, " + format_bytes(p.bytes_done) + " of " +
            format_bytes(p.bytes_total) + ", " + format_bytes(static_cast<std::uint64_t>(rate)) + "/s, ETA " + eta;
    progress_(p.runs_done, p.runs_total);
  }
  void finish() { progress_.finish(); }

 private:
  std::string text_;
  Progress progress_{[this](std::uint64_t, std::uint64_t) { return text_; }};
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

void print_run_notes(const RunSyncReport& r, bool dry_run) {
  const std::string who = "run " + r.run_id + " (" + r.experiment_name + ")";
  if (dry_run && (r.state == RunSyncState::kCreated || r.state == RunSyncState::kUpdated)) {
    std::cout << "would " << (r.state == RunSyncState::kCreated ? "create " : "update ") << who << ": "
              << r.params_sent << " params, " << r.tags_sent << " tags, " << format_count(r.points_sent) << " points, "
              << r.artifacts_sent << " artifacts (" << format_bytes(r.bytes_sent) << ")\n";
  }
  if (r.state == RunSyncState::kFailed) std::cerr << "mlruns: " << who << ": failed\n";
  for (const SyncConflict& c : r.conflicts)
    std::cerr << "mlruns: " << who << ": conflict: param '" << c.key << "' is '" << c.local_value
              << "' here and '" << c.server_value << "' on the server; the server's value is kept\n";
  for (const std::string& n : r.notes) std::cerr << "mlruns: " << who << ": " << n << '\n';
}

void print_summary(const SyncResult& r, const std::string& server, bool dry_run, double secs) {
  std::cout << (dry_run ? "dry run against " : "synced to ") << server
            << (r.server_version.empty() ? "" : " (MLflow " + r.server_version + ")") << ": "
            << r.runs_created << (dry_run ? " to create, " : " created, ") << r.runs_updated
            << (dry_run ? " to update, " : " updated, ") << r.runs_unchanged << " unchanged, " << r.runs_skipped
            << " skipped, " << r.runs_failed << " failed, " << r.conflicts << " conflicts\n";
  std::cout << (dry_run ? "would send " : "sent ") << format_count(r.points_sent) << " points, " << r.params_sent
            << " params, " << r.tags_sent << " tags, " << r.artifacts_sent << " artifacts, " << format_bytes(r.bytes_sent);
  if (!dry_run) {
    std::cout << " in " << r.write_requests << " write and " << r.read_requests << " read requests, ";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f s", secs);
    std::cout << buf;
  }
  std::cout << '\n';
  if (r.interrupted) std::cout << "interrupted: the rest is sent by the next sync\n";
  if (r.files_unread)
    std::cerr << "mlruns: " << r.files_unread << " file(s) or folder(s) could not be read and were not synced (named above)\n";
  for (const std::string& e : r.errors) std::cerr << "mlruns: " << e << '\n';
}

}  // namespace

int run_sync(const SyncCliOptions& opt) {
  SyncOptions so;
  so.server = check(ServerOptions::from_environment(opt.to));
  so.experiments = opt.experiments;
  so.run_ids = opt.run_ids;
  so.include_deleted = opt.include_deleted;
  so.dry_run = opt.dry_run;
  so.rebuild_record = opt.rebuild_record;
  so.jobs = opt.jobs;
  so.stop = &g_stop;
  const std::int64_t interval_ms = parse_duration_ms(opt.interval, "--interval");
  if (opt.follow && opt.dry_run) check(Status::invalid_argument("--follow with --dry-run", "a dry run is one pass"));
  for (const std::string& id : opt.run_ids) check(validate_run_id(id));
  const std::string server = redact_url(opt.to);
  Reader reader = open_reader();
  install_stop_handlers();
  SyncProgressLine progress;
  so.on_progress = [&progress](const SyncProgress& p) { progress(p); };
  int rc = kExitOk;
  for (bool first = true;; first = false) {
    const auto start = std::chrono::steady_clock::now();
    auto result = sync_tree(reader, so);
    progress.finish();
    if (!result) {
      if (!opt.follow || first) check(result.error());
      std::cerr << "mlruns: " << result.error().to_string() << " (trying again in " << opt.interval << ")\n";
    } else {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const bool something = !opt.follow || result->runs_created + result->runs_updated + result->runs_failed +
                                                    result->conflicts + result->errors.size() > 0;
      if (opt.json) {
        Json j = sync_result_json(*result, server, opt.dry_run);
        machine_out() << (opt.follow ? j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n" : dump(j)) << std::flush;
      } else if (something) {
        for (const RunSyncReport& r : result->runs) print_run_notes(r, opt.dry_run);
        print_summary(*result, server, opt.dry_run, secs);
        std::cout.flush();
      }
      rc = result->complete() ? kExitOk : kExitPartial;
    }
    if (!opt.follow) return rc;
    if (g_stop.load()) return kExitOk;  // --follow ends on SIGINT/SIGTERM, after the batch in flight
    wait_interval(interval_ms);
    if (g_stop.load()) return kExitOk;
  }
}

void setup_sync(CLI::App& app, Commands& commands) {
  auto opt = std::make_shared<SyncCliOptions>();
  auto* sub = app.add_subcommand("sync", "Push the tree to an MLflow tracking server, incrementally, without duplicates");
  sub->add_option("--to", opt->to, "Tracking server URL, e.g. https://mlflow.example.org")->required();
  sub->add_option("--experiment,-e", opt->experiments, "Experiment name or id (repeatable; default: every active one)");
  sub->add_option("--run-id", opt->run_ids, "Only this run and its parents (repeatable)");
  sub->add_flag("--include-deleted", opt->include_deleted,
                "Also sync deleted runs and runs of deleted experiments (deleted on the server too)");
  sub->add_flag("--dry-run", opt->dry_run, "Say what would be sent, from the local record; send and write nothing");
  sub->add_flag("--rebuild-record", opt->rebuild_record,
                "Ignore the local record and rebuild it from the server (after a machine crash)");
  sub->add_flag("--follow", opt->follow, "Sync again every --interval until SIGINT/SIGTERM (then exit 0)");
  sub->add_option("--interval", opt->interval, "Pause between passes with --follow: #d#h#m#s (default 60s)");
  sub->add_option("--jobs,-j", opt->jobs, "Runs synced at once, one connection each (default 4)")
      ->check(CLI::Range(1, 64));
  sub->add_flag("--json", opt->json, "The result as JSON (one line per pass with --follow); no progress");
  sub->footer(
      "Credentials and TLS as MLflow's clients: MLFLOW_TRACKING_USERNAME/PASSWORD, MLFLOW_TRACKING_TOKEN,\n"
      "MLFLOW_TRACKING_INSECURE_TLS, MLFLOW_TRACKING_SERVER_CERT_PATH, MLFLOW_TRACKING_CLIENT_CERT_PATH;\n"
      "retries: MLFLOW_HTTP_REQUEST_MAX_RETRIES (7), _BACKOFF_FACTOR (2), _BACKOFF_JITTER (1.0), _TIMEOUT (120).\n"
      "Exit code 10: some runs failed, have conflicts or have files that could not be read (see stderr). See docs/sync.md.");
  add_tracking_uri(*sub);
  commands.add(sub, [opt] { return run_sync(*opt); });
}

}  // namespace mlruns::cli
