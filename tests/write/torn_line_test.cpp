// No torn metric line after any kill (issue 9 item 1): a partial last line a
// killed writer left is cut before anything is appended after it; a failed
// append never writes a line twice; a point identical to the previous one of
// its series is not written again (mlflow migrate-filestore refuses twins).
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "env/line_tail.h"
#include "fault_env.h"
#include "mlruns/fsck.h"
#include "mlruns/reap.h"
#include "mlruns/reader.h"
#include "mlruns/store.h"
#include "resil_util.h"

using namespace mlruns;
using namespace mlruns::test;
namespace fs = std::filesystem;

namespace {

StoreOptions options(const std::string& root, Env* env = nullptr) {
  StoreOptions o;
  o.tracking_uri = root;
  o.env = env;
  o.errors = ErrorMode::kCount;
  o.flush.background_thread = false;
  return o;
}

// A run left RUNNING by a writer that is gone, with `lines` in metrics/loss.
std::string dead_run(const std::string& root, const std::string& lines) {
  Store store = Store::open(options(root));
  ActiveRun run = store.start_run({.system_tags = false});
  std::string id = run.id();
  REQUIRE(run.detach().is_ok());
  write_file(root + "/0/" + id + "/metrics/loss", lines);
  return id;
}

void set_mtime_back(const std::string& path, int seconds) {
  fs::last_write_time(path, fs::last_write_time(path) - std::chrono::seconds(seconds));
}

}  // namespace

TEST_CASE("a partial last line a killed writer left is cut before the next append (issue 9 item 1)",
          "[metrics][torn]") {
  TempDir dir;
  std::string root = dir.str() + "/mlruns";
  // What the issue found: a kill tore "1795962005853 0.1 1\n" after "...0.1".
  std::string id = dead_run(root, "1795962005847 0.1 0\n1795962005853 0.1");
  std::string file = root + "/0/" + id + "/metrics/loss";

  SECTION("a resumed run") {
    Store store = Store::open(options(root));
    ActiveRun run = store.resume_run(id);
    REQUIRE(run.log_metric("loss", 0.2, 1, 1795962005978).is_ok());
    REQUIRE(run.flush().is_ok());
  }
  SECTION("a by-id log_batch (the CLI's `mlruns log`)") {
    Store store = Store::open(options(root));
    REQUIRE(store.log_batch(id, {{.key = "loss", .value = 0.2, .timestamp = 1795962005978, .step = 1}}, {}, {})
                .is_ok());
  }
  CHECK(read_file(file) == "1795962005847 0.1 0\n1795962005978 0.2 1\n");
}

TEST_CASE("a file holding only a partial line is cut to nothing, then appended to", "[metrics][torn]") {
  TempDir dir;
  std::string root = dir.str() + "/mlruns";
  std::string id = dead_run(root, "17959620058");
  Store store = Store::open(options(root));
  REQUIRE(store.log_batch(id, {{.key = "loss", .value = 1.0, .timestamp = 5, .step = 0}}, {}, {}).is_ok());
  CHECK(read_file(root + "/0/" + id + "/metrics/loss") == "5 1.0 0\n");
}

TEST_CASE("a writer whose open metric file was removed under the lock (a fragment-only file cut by reap or "
          "fsck --repair) creates the file anew, whole - never appends to the removed file",
          "[metrics][torn]") {
  TempDir dir;
  std::string root = dir.str() + "/mlruns";
  std::string id = dead_run(root, "1 1.0 0\n");
  std::string file = root + "/0/" + id + "/metrics/loss";
  Store store = Store::open(options(root));
  ActiveRun run = store.resume_run(id);
  REQUIRE(run.log_metric("loss", 2.0, 1, 2).is_ok());
  REQUIRE(run.flush().is_ok());  // the writer now holds the file open
  {
    std::FILE* f = std::fopen(file.c_str(), "r+");  // in place: the same file, now a fragment only
    REQUIRE(f);
    REQUIRE(::ftruncate(::fileno(f), 0) == 0);
    std::fputs("17959", f);
    std::fclose(f);
  }
  auto cut = detail::repair_line_file(*Env::posix(), file);
  REQUIRE(cut);
  CHECK(cut->removed);
  CHECK_FALSE(fs::exists(file));
  REQUIRE(run.log_metric("loss", 3.0, 2, 3).is_ok());
  REQUIRE(run.flush().is_ok());
  CHECK(read_file(file) == "3 3.0 2\n");
}

TEST_CASE("a point identical to the previous one of its series is written once (migrate-filestore refuses twins)",
          "[metrics][torn]") {
  TempDir dir;
  std::string root = dir.str() + "/mlruns";
  std::string id;
  std::string file;
  {
    Store store = Store::open(options(root));
    ActiveRun run = store.start_run({.system_tags = false});
    id = run.id();
    file = root + "/0/" + id + "/metrics/m";
    run.log_metric("m", 1.0, 0, 5);
    run.log_metric("m", 1.0, 0, 5);  // twin in one batch
    REQUIRE(run.flush().is_ok());
    run.log_metric("m", 1.0, 0, 5);  // twin of the file's last line
    run.log_metric("m", 2.0, 1, 6);
    run.log_metric("m", NAN, 2, 7);
    run.log_metric("m", -NAN, 2, 7);  // two NaNs are one row for MLflow's SQL store
    run.log_metric("m", 0.0, 3, 8);
    run.log_metric("m", -0.0, 3, 8);  // and so are 0.0 and -0.0
    run.log_metric("m", 1.0, 0, 5);   // not the previous point: written (spec §5.1 keeps history)
    REQUIRE(run.detach().is_ok());
  }
  CHECK(read_file(file) == "5 1.0 0\n6 2.0 1\n7 nan 2\n8 0.0 3\n5 1.0 0\n");
  // A later process re-logging the file's last point (a restart) adds nothing.
  Store store = Store::open(options(root));
  REQUIRE(store.log_batch(id, {{.key = "m", .value = 1.0, .timestamp = 5, .step = 0}}, {}, {}).is_ok());
  CHECK(read_file(file) == "5 1.0 0\n6 2.0 1\n7 nan 2\n8 0.0 3\n5 1.0 0\n");
}

TEST_CASE("a failed append whose undo failed: the lines that landed are not sent again", "[metrics][torn][faults]") {
  TempDir dir;
  std::string root = dir.str() + "/mlruns";
  FaultEnv env;
  Store store = Store::open(options(root, &env));
  ActiveRun run = store.start_run({.system_tags = false});
  std::string file = root + "/0/" + run.id() + "/metrics/loss";
  run.log_metric("loss", 1.0, 0, 10);
  REQUIRE(run.flush().is_ok());
  // "11 2.0 1\n" (9 bytes) and 3 bytes of "12 3.0 2\n" land, then ENOSPC; the undo fails too.
  env.add_rule({.ops = FaultEnv::kAppend, .path_contains = "/metrics/", .error = ENOSPC, .once = true,
                .short_write = true, .short_write_bytes = 12});
  env.add_rule({.ops = FaultEnv::kTruncate, .path_contains = "/metrics/", .error = EIO, .once = true});
  run.log_metric("loss", 2.0, 1, 11);
  run.log_metric("loss", 3.0, 2, 12);
  Status s = run.flush();
  CHECK(s.os_error() == ENOSPC);
  CHECK(read_file(file) == "10 1.0 0\n11 2.0 1\n12 ");
  run.log_metric("loss", 4.0, 3, 13);
  REQUIRE(run.flush().is_ok());
  CHECK(read_file(file) == "10 1.0 0\n11 2.0 1\n12 3.0 2\n13 4.0 3\n");
  CHECK(env.injected() == 2);
}

TEST_CASE("without file locks, a partial line is cut only once it is old - a live writer's line is waited for",
          "[metrics][torn][faults]") {
  TempDir dir;
  std::string root = dir.str() + "/mlruns";
  FaultEnv env;
  env.add_rule({.ops = FaultEnv::kLock, .error = ENOLCK});  // Lustre without -o flock
  std::string id = dead_run(root, "1 1.0 0\n2 2.");
  std::string file = root + "/0/" + id + "/metrics/loss";

  SECTION("an old partial line is a dead writer's: cut") {
    set_mtime_back(file, 3600);
    Store store = Store::open(options(root, &env));
    REQUIRE(store.log_batch(id, {{.key = "loss", .value = 3.0, .timestamp = 3, .step = 2}}, {}, {}).is_ok());
    CHECK(read_file(file) == "1 1.0 0\n3 3.0 2\n");
  }
  SECTION("a young one may be growing: the writer waits for it to end, then appends after it") {
    std::thread live([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      std::ofstream(file, std::ios::app) << "0 1\n";  // the other writer finishes its line
    });
    Store store = Store::open(options(root, &env));
    Status s = store.log_batch(id, {{.key = "loss", .value = 3.0, .timestamp = 3, .step = 2}}, {}, {});
    live.join();
    REQUIRE(s.is_ok());
    CHECK(read_file(file) == "1 1.0 0\n2 2.0 1\n3 3.0 2\n");
  }
  CHECK(env.injected(FaultEnv::kLock) > 0);
}

TEST_CASE("two writers creating one metric file keep both their lines (the creation never replaces)",
          "[metrics][torn]") {
  TempDir dir;
  std::string root = dir.str() + "/mlruns";
  Store a = Store::open(options(root));
  ActiveRun run_a = a.start_run({.system_tags = false});
  Store b = Store::open(options(root));
  ActiveRun run_b = b.resume_run(run_a.id());
  run_a.log_metric("loss", 1.0, 0, 1);
  run_b.log_metric("loss", 2.0, 1, 2);
  REQUIRE(run_a.flush().is_ok());
  REQUIRE(run_b.flush().is_ok());  // finds the file made by a: appends, does not rename over it
  CHECK(read_file(root + "/0/" + run_a.id() + "/metrics/loss") == "1 1.0 0\n2 2.0 1\n");
}

// ---- every write site cut at every page boundary, then the "process" dies ----

namespace {

// Checks a metric file as MLflow reads it: whole 3-field lines, each once.
void check_whole_unique_lines(const std::string& path) {
  INFO(path);
  std::string text = read_file(path);
  REQUIRE_FALSE(text.empty());
  REQUIRE(text.back() == '\n');
  std::unordered_set<std::string> seen;
  for (const std::string& l : split_lines(text)) {
    if (std::count(l.begin(), l.end(), ' ') != 2) FAIL("not a 3-field line: '" << l << "'");
    if (!seen.insert(l).second) FAIL("written twice: '" << l << "'");
  }
}

// Logs points to `key` until their lines fill `pages` pages (one append at the next flush).
void log_pages(ActiveRun& run, const std::string& key, int pages) {
  std::size_t bytes = 0;
  for (int i = 1; bytes < static_cast<std::size_t>(pages) * 4096; ++i) {
    double v = i * 0.123456789;
    run.log_metric(key, v, i, 1700000000000 + i);
    bytes += std::to_string(1700000000000 + i).size() + python_repr(v).size() + std::to_string(i).size() + 3;
  }
}

}  // namespace

TEST_CASE("every write site cut at every page boundary, then the writer dies: the next writer sees whole lines",
          "[metrics][torn][faults]") {
  // A write that a SIGKILL stops leaves its first pages on disk. FaultEnv
  // lets a write through up to a page boundary of the file (after_bytes),
  // then every later call fails (the process is gone: no undo runs), and the
  // Store is dropped. A second Store (the next process) then logs into the
  // same run. Sites: a metric append, a metric file's creation, a param, a
  // tag and an artifact copy (the last four through temp file and rename).
  // meta.yaml is never a page long; env_fault tests cover it.
  struct Site {
    const char* name;
    std::uint64_t file_size_before;  // the append continues a file; the others start at 0
    std::function<Status(ActiveRun&, int pages, const std::string& src)> write;
  };
  const std::vector<Site> sites = {
      {"metric append", 11,
       [](ActiveRun& run, int pages, const std::string&) {
         log_pages(run, "loss", pages);
         return run.flush();
       }},
      {"metric creation", 0,
       [](ActiveRun& run, int pages, const std::string&) {
         log_pages(run, "fresh", pages);
         return run.flush();
       }},
      {"param", 0, [](ActiveRun& run, int, const std::string&) { return run.log_param("big", std::string(6000, 'p')); }},
      {"tag", 0, [](ActiveRun& run, int, const std::string&) { return run.set_tag("note", std::string(8000, 't')); }},
      {"artifact", 0, [](ActiveRun& run, int, const std::string& src) { return run.log_artifact(src, "ckpt"); }},
  };
  int cuts = 0, partial_tails = 0;
  for (const Site& site : sites) {
    bool small = std::string(site.name) == "param" || std::string(site.name) == "tag";  // 2 pages at most
    for (int pages = 1; pages <= (small ? 2 : 6); ++pages) {
      for (int cut_page = 0; cut_page < pages; ++cut_page) {
        std::uint64_t budget = std::uint64_t(cut_page + (site.file_size_before ? 1 : 0)) * 4096 - site.file_size_before;
        if (budget == 0) continue;  // nothing would reach the file
        INFO(site.name << ": a write of " << pages << " pages cut after " << budget << " bytes");
        TempDir dir;
        std::string root = dir.str() + "/mlruns";
        std::string src = dir.str() + "/ckpt.bin";
        write_file(src, std::string(static_cast<std::size_t>(pages) * 4096, 'w'));
        std::string id;
        {
          Store store = Store::open(options(root));
          ActiveRun run = store.start_run({.system_tags = false});
          id = run.id();
          run.log_metric("loss", 0.5, 0, 1000);  // "1000 0.5 0\n": 11 bytes
          REQUIRE(run.flush().is_ok());
          REQUIRE(run.detach().is_ok());
        }
        std::string run_dir = root + "/0/" + id;
        bool acked = false;
        {
          FaultEnv env;
          env.add_rule({.ops = FaultEnv::kAppend, .error = EIO, .after_bytes = budget});
          env.add_rule({.ops = FaultEnv::kTruncate | FaultEnv::kRemove, .error = EIO});  // no undo after a kill
          Store store = Store::open(options(root, &env));
          ActiveRun run = store.resume_run(id);
          acked = site.write(run, pages, src).is_ok();
          env.add_rule({.ops = FaultEnv::kAll | FaultEnv::kLock | FaultEnv::kReadAt, .error = EIO});  // dead
          ++cuts;
        }
        std::string loss = run_dir + "/metrics/loss";
        std::string before = read_file(loss);
        if (before.back() != '\n') ++partial_tails;
        {
          Store store = Store::open(options(root));
          ActiveRun run = store.resume_run(id);
          REQUIRE(run.log_metric("loss", 99.0, 99999, 99999).is_ok());
          REQUIRE(run.log_metric("fresh", 1.5, 99999, 99999).is_ok());
          REQUIRE(run.end().is_ok());
        }
        check_whole_unique_lines(loss);
        check_whole_unique_lines(run_dir + "/metrics/fresh");
        std::string after = read_file(loss);
        CHECK(after.rfind("1000 0.5 0\n", 0) == 0);
        CHECK(after.find("99999 99.0 99999\n") != std::string::npos);
        // The other sites: the final name holds nothing or the complete bytes.
        if (fs::exists(run_dir + "/params/big")) CHECK(read_file(run_dir + "/params/big") == std::string(6000, 'p'));
        if (fs::exists(run_dir + "/tags/note")) CHECK(read_file(run_dir + "/tags/note") == std::string(8000, 't'));
        if (fs::exists(run_dir + "/artifacts/ckpt/ckpt.bin"))
          CHECK(read_file(run_dir + "/artifacts/ckpt/ckpt.bin") == read_file(src));
        CHECK_FALSE(acked);  // cut before its end: the write failed, nothing was acknowledged
        auto reader = Reader::open(root);
        REQUIRE(reader.has_value());
        auto r = reader->run(id);
        REQUIRE(r.has_value());
        CHECK(r->info.status == RunStatus::kFinished);
      }
    }
  }
  WARN("page-boundary cuts: " << cuts << " writes cut at a page boundary of their file, " << partial_tails
                              << " left a partial metric line; every next writer saw whole lines only");
  CHECK(partial_tails > 0);
}

// ---- real processes killed with SIGKILL in the middle of multi-page appends ----

#ifdef MLRUNS_STRESS_PATH

namespace {

struct Verified {
  std::uint64_t end = 0;                          // bytes of whole lines checked so far
  std::map<int, std::int64_t> count, max_point;   // per writer: points seen, highest point
  std::unordered_set<std::string> lines;          // every whole line, to find repeats
};

// Checks the whole lines appended since the last call. The file may end in
// a partial line right after a kill; it is left for the next writer.
// The bytes of `path` from `offset` on (the lines checked before are not read again).
std::string read_from(const std::string& path, std::uint64_t offset) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void verify_new_lines(const std::string& path, Verified& v) {
  REQUIRE(fs::file_size(path) >= v.end);  // whole lines are never cut
  std::string text = read_from(path, v.end);
  std::string_view rest(text);
  std::string bad;  // plain checks per line (millions of lines): one failure names the first bad one
  while (bad.empty()) {
    std::size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) break;
    std::string line(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
    v.end += nl + 1;
    std::size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
    if (std::count(line.begin(), line.end(), ' ') != 2 || sp1 == 0 || sp2 + 1 == line.size()) {
      bad = "not a 3-field line";
    } else if (!v.lines.insert(line).second) {
      bad = "written twice";
    } else {
      std::int64_t ts = std::stoll(line.substr(0, sp1));
      std::int64_t step = std::stoll(line.substr(sp2 + 1));
      int writer = static_cast<int>((ts - 1700000000000) / 100000000LL);
      if (ts != 1700000000000 + writer * 100000000LL + step) bad = "timestamp and step of different points (torn)";
      v.count[writer]++;
      v.max_point[writer] = std::max(v.max_point.count(writer) ? v.max_point[writer] : -1, step);
    }
    if (!bad.empty()) FAIL("line '" << line << "' at byte " << v.end - nl - 1 << " of " << path << ": " << bad);
  }
}

}  // namespace

// Sequential and concurrent writers; no torn line is built on, every
// acknowledged point is there once.
TEST_CASE("SIGKILL during multi-page appends, hundreds of times", "[crash][torn]") {
  int kills = 300;
  if (const char* k = std::getenv("MLRUNS_TORN_KILLS")) kills = std::atoi(k);
  TempDir dir;
  std::string root = dir.str() + "/mlruns";
  std::string id;
  {
    Store store = Store::open(options(root));
    ActiveRun run = store.start_run({.system_tags = false});
    id = run.id();
    REQUIRE(run.detach().is_ok());
  }
  unsigned seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> delay_us(1000, 12000);
  std::map<std::string, Verified> files;
  int writers = 0, concurrent_rounds = 0, torn_after_kill = 0, next_writer = 0;
  std::int64_t acked_points = 0;
  auto started = std::chrono::steady_clock::now();
  for (int k = 0; k < kills; ++k) {
    // A key for 10 rounds: each file sees sequential and concurrent writers killed.
    std::string key = "loss-" + std::to_string(k / 10);
    std::string path = root + "/0/" + id + "/metrics/" + key;
    bool concurrent = k % 3 == 2;
    concurrent_rounds += concurrent;
    std::vector<std::pair<int, pid_t>> children;
    for (int j = 0; j < (concurrent ? 3 : 1); ++j) {
      int w = next_writer++;
      std::string acks = dir.str() + "/ack-" + std::to_string(w);
      pid_t pid = spawn({MLRUNS_STRESS_PATH, "append", root, id, std::to_string(w), acks, std::to_string(rng()), key});
      REQUIRE(pid > 0);
      children.emplace_back(w, pid);
      ++writers;
    }
    ::usleep(static_cast<useconds_t>(delay_us(rng)));
    for (auto& [w, pid] : children) ::kill(pid, SIGKILL);
    for (auto& [w, pid] : children) {
      int status = wait_child(pid);
      INFO("kill " << k << ": writer " << w << " " << describe_status(status));
      REQUIRE(WIFSIGNALED(status));
    }
    if (!fs::exists(path)) continue;  // killed before its first flush
    std::uint64_t size = fs::file_size(path);
    if (size > 0 && read_from(path, size - 1) != "\n") ++torn_after_kill;  // the kernel stopped a write at a page
    Verified& v = files[path];
    verify_new_lines(path, v);
    for (auto& [w, pid] : children) {
      std::string acks = dir.str() + "/ack-" + std::to_string(w);
      std::string ack_text = fs::exists(acks) ? read_file(acks) : std::string();
      std::size_t last_nl = ack_text.rfind('\n');
      ack_text.resize(last_nl == std::string::npos ? 0 : last_nl + 1);  // a kill may tear an ack line too
      if (ack_text.empty()) continue;
      std::string line = split_lines(ack_text).back();  // "A <writer> <last point>"
      std::int64_t n = std::stoll(line.substr(line.rfind(' ') + 1));
      INFO("writer " << w << " acknowledged points 0.." << n);
      REQUIRE(v.max_point.count(w) == 1);
      REQUIRE(v.max_point[w] >= n);                  // every acknowledged point is there
      REQUIRE(v.count[w] == v.max_point[w] + 1);     // each once, none missing below
      acked_points += n + 1;
    }
  }
  // reap ends the run (its writers are dead) and cuts what the last kills tore.
  auto reaped = reap(root, {.older_than_ms = 0, .probe = [](const auto&) { return ProcessState::kGone; }});
  REQUIRE(reaped.has_value());
  CHECK(reaped->errors.empty());
  std::size_t lines = 0;
  for (auto& [path, v] : files) {
    check_whole_unique_lines(path);
    verify_new_lines(path, v);
    lines += v.lines.size();
  }
  auto report = fsck(root, {.temp_grace_ms = 0});
  REQUIRE(report.has_value());
  for (const FsckFinding& f : report->findings) {
    INFO(f.check << " " << f.path << ": " << f.problem);
    CHECK(f.check == "temp.leftover");
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  WARN("torn-line kill test: " << kills << " kills (" << concurrent_rounds << " rounds of 3 concurrent writers), "
                               << writers << " writers, " << files.size() << " metric files, " << lines
                               << " lines checked, " << acked_points << " acknowledged points verified, "
                               << torn_after_kill << " kills left a partial line that the next writer cut ("
                               << (reaped->changes.empty() ? 0 : reaped->changes[0].partial_lines_cut.size())
                               << " cut by reap), " << secs << " s");
}

#endif
