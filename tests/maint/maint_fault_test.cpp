// The maintenance tools under faults (issue 4): fsck --repair, relocate, gc
// and reap run through FaultEnv with ENOSPC, EDQUOT, EIO, EACCES, EINTR, a
// short write and an rmtree that dies half-way, failing the k-th write-like
// operation and every one after it (a full disk stays full), for k = 0, 1,
// 2, ... until the tool completes without reaching the fault. Each time:
//   * the call returns and reports the failure, naming the path;
//   * the tree is not damaged: every meta.yaml holds its old bytes or
//     complete new ones, no metric file is partial, no temp file sits where
//     MLflow reads keys, a run is either whole or gone (gc), a quarantine
//     move happened or did not (fsck), nothing is lost;
//   * once the fault is gone, running the tool again reaches the same end
//     state as a fault-free run on a fresh copy.
#include <fcntl.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <regex>
#include <set>

#include <yaml-cpp/yaml.h>

#include "fault_env.h"
#include "maint_test_util.h"
#include "format/meta_parse.h"
#include "mlruns/fsck.h"
#include "mlruns/gc.h"
#include "mlruns/reap.h"
#include "mlruns/relocate.h"

using namespace maint_test;
using mlruns::test::FaultEnv;

namespace {

// How a fault sweep fails operations. A sweep fails the k-th operation of
// `ops` and every later one (a full disk stays full) for k = 0, 1, 2, ...
// The four errno kinds behave alike above the Env, so they share one sweep:
// kind i takes the k with k % 4 == i, and together with ENOSPC every write
// of a tool fails once under two different errno values.
struct Fault {
  const char* name;
  int error;
  unsigned ops;
  int stride = 1, offset = 0;
  bool short_write = false;
  bool partial_remove = false;
};
constexpr unsigned kWrites = FaultEnv::kAllWrites;
const Fault kFaults[] = {
    {"ENOSPC", ENOSPC, kWrites},
    {"EDQUOT", EDQUOT, kWrites, 4, 0},
    {"EIO", EIO, kWrites, 4, 1},
    {"EACCES", EACCES, kWrites, 4, 2},
    {"EINTR", EINTR, kWrites, 4, 3},
    {"short write", ENOSPC, FaultEnv::kAppend, 1, 0, true},  // the k-th append writes half, then fails
    {"EIO in a half-done rmtree", EIO, FaultEnv::kRemove, 1, 0, false, true},
};

// fsync costs milliseconds on a real disk and means nothing here (no power
// loss is simulated), so the sweeps run on an Env that skips it.
class NoSyncEnv : public mlruns::EnvWrapper {
 public:
  NoSyncEnv() : EnvWrapper(mlruns::Env::posix()) {}
  mlruns::Result<std::unique_ptr<mlruns::WritableFile>> new_writable_file(const std::string& p, bool excl) override {
    auto f = target()->new_writable_file(p, excl);
    if (!f) return f;
    return std::unique_ptr<mlruns::WritableFile>(new File(std::move(*f)));
  }
  mlruns::Status sync_dir(const std::string&) override { return mlruns::Status::ok(); }

 private:
  class File final : public mlruns::WritableFile {
   public:
    explicit File(std::unique_ptr<mlruns::WritableFile> f) : f_(std::move(f)) {}
    mlruns::Status append(std::string_view d) override { return f_->append(d); }
    mlruns::Status truncate(std::uint64_t n) override { return f_->truncate(n); }
    mlruns::Result<std::uint64_t> size() override { return f_->size(); }
    mlruns::Status sync() override { return mlruns::Status::ok(); }
    mlruns::Status close() override { return f_->close(); }

   private:
    std::unique_ptr<mlruns::WritableFile> f_;
  };
};

const std::string kExpA = "692696469721977523";
const std::string kExpB = "763558276457519285";
const std::string kTrashed = "702085803536168059";
const std::string kModel = "m-0123456789abcdef0123456789abcdef";
const std::string kTrace = "tr-fedcba9876543210fedcba9876543210";

// The 3.8 fixture cut down to 6 runs in 4 experiments (one trashed), so that
// a sweep over every write of a tool stays fast.
struct SmallTree {
  TempTree t;
  SmallTree() {
    auto keep_runs = [&](const fs::path& exp, std::size_t n, const std::string& must_keep = {}) {
      std::vector<fs::path> runs;
      for (auto& e : fs::directory_iterator(exp))
        if (e.is_directory() && fs::exists(e.path() / "meta.yaml")) runs.push_back(e.path());
      std::sort(runs.begin(), runs.end());
      if (!must_keep.empty())
        std::stable_partition(runs.begin(), runs.end(), [&](const fs::path& p) { return p.filename() == must_keep; });
      for (std::size_t i = n; i < runs.size(); ++i) fs::remove_all(runs[i]);
    };
    keep_runs(t.root / kExpA, 2);
    keep_runs(t.root / kExpB, 1, "73f6c94fec5f46348c1e98db961d2709");  // the one with a 5-field metric line
  }
};

// A fresh copy of the small tree (TempTree would copy the whole fixture first).
struct WorkTree {
  fs::path dir;
  fs::path root;
  explicit WorkTree(const SmallTree& small) {
    static int counter = 0;
    // tmpfs when there is one: a sweep creates and removes thousands of files.
    std::error_code ec;
    fs::path base = fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
    dir = base / (small.t.dir.filename().string() + "-work" + std::to_string(counter++));
    root = dir / "mlruns";
    fs::create_directories(dir);
    fs::copy(small.t.root, root, fs::copy_options::recursive);
  }
  ~WorkTree() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

using Snapshot = std::map<std::string, std::string>;

bool is_temp(const std::string& rel) { return fs::path(rel).filename().string().rfind(".mlruns-tmp-", 0) == 0; }
bool in_quarantine(const std::string& rel) { return rel.rfind("quarantine-", 0) == 0; }
bool in_gc_staging(const std::string& rel) { return rel.rfind(".mlruns-gc.trash", 0) == 0; }

// A snapshot comparable across copies: the root's own path reads <ROOT>,
// temp files are dropped, quarantine folders merge into one (files only,
// without NOTES.txt and without the suffix a repeated save adds).
Snapshot normalized(const fs::path& root) {
  std::string real = fs::canonical(root).string();
  static const std::regex kQuarantine(R"(^quarantine-[0-9TZ]+-[0-9a-f]+\.trash(/|$))");
  static const std::regex kSuffix(R"((\.moved)?-[0-9]{10,}$)");
  Snapshot out;
  for (const auto& [raw_rel, raw_bytes] : snapshot(root)) {
    std::string rel = raw_rel, bytes = raw_bytes;
    if (is_temp(rel)) continue;
    if (in_quarantine(rel)) {
      if (rel.back() == '/' || rel.size() >= 9 && rel.compare(rel.size() - 9, 9, "NOTES.txt") == 0) continue;
      rel = std::regex_replace(std::regex_replace(rel, kQuarantine, "quarantine/"), kSuffix, "");
    }
    for (std::size_t p; (p = bytes.find(real)) != std::string::npos;) bytes.replace(p, real.size(), "<ROOT>");
    out[rel] = bytes;
  }
  return out;
}

std::string show_diff(const Snapshot& a, const Snapshot& b) {
  std::string out;
  for (const auto& [k, v] : a)
    if (!b.count(k)) out += "only before/left: " + k + "\n";
    else if (b.at(k) != v) out += "differs: " + k + "\n";
  for (const auto& [k, v] : b)
    if (!a.count(k)) out += "only after/right: " + k + "\n";
  return out;
}

// What a tool reported: did the call return a report, and the texts of the
// failures it names.
struct Outcome {
  bool returned = false;
  std::vector<std::string> failures;
};

struct Tool {
  const char* name;
  std::function<void(const fs::path& root)> prepare;  // on each fresh copy
  std::function<Outcome(const fs::path& root, mlruns::Env* env)> run;
  bool one_edit_per_file = true;  // each meta.yaml is edited at most once
  bool removes_runs = false;      // gc
};

// NOTES.txt names everything a quarantine holds: no move goes unrecorded.
void check_notes(const Snapshot& after) {
  std::vector<std::string> recorded;
  for (const auto& [rel, bytes] : after) {
    if (!in_quarantine(rel) || fs::path(rel).filename() != "NOTES.txt") continue;
    for (std::size_t pos = 0; pos < bytes.size();) {
      std::size_t nl = bytes.find('\n', pos);
      std::string line = bytes.substr(pos, nl - pos);
      pos = nl == std::string::npos ? bytes.size() : nl + 1;
      if (line.rfind("moved ", 0) == 0 && line.find(" -> ") != std::string::npos) {
        std::size_t b = line.find(" -> ") + 4;
        recorded.push_back(line.substr(b, line.find(": ", b) - b));
      } else if (line.rfind("saved ", 0) == 0) {
        recorded.push_back(line.substr(6, line.find(" (from ") - 6));
      }
    }
  }
  for (const auto& [rel, bytes] : after) {
    if (!in_quarantine(rel) || rel.back() == '/' || fs::path(rel).filename() == "NOTES.txt" || is_temp(rel)) continue;
    INFO("quarantined " << rel);
    CHECK(std::any_of(recorded.begin(), recorded.end(),
                      [&](const std::string& t) { return rel == t || rel.rfind(t + "/", 0) == 0; }));
  }
}

// The damage checks of the header, `before` and `after` being raw snapshots.
void check_intact(const Tool& tool, const Snapshot& before, const Snapshot& after, const Snapshot& ref,
                  const std::string& real) {
  auto norm = [&](std::string s) {
    for (std::size_t p; (p = s.find(real)) != std::string::npos;) s.replace(p, real.size(), "<ROOT>");
    return s;
  };
  for (const auto& [rel, bytes] : after) {
    if (in_gc_staging(rel)) continue;
    INFO(rel);
    fs::path p(rel);
    std::string parent = p.parent_path().filename().string();
    if (is_temp(rel)) {
      // MLflow would read a temp file in these folders as a key (spec §11).
      CHECK(parent != "metrics");
      CHECK(parent != "params");
      CHECK(parent != "tags");
      continue;
    }
    bool changed = !before.count(rel) || before.at(rel) != bytes;
    if (!changed || in_quarantine(rel)) continue;
    if (p.filename() == "meta.yaml") {
      if (tool.one_edit_per_file) {
        CHECK((ref.count(rel) && ref.at(rel) == norm(bytes)));
      } else {
        // Several edits in a row: each intermediate state is a complete file.
        REQUIRE(!bytes.empty());
        CHECK(bytes.back() == '\n');
        YAML::Node n;
        REQUIRE_NOTHROW(n = YAML::Load(bytes));
        CHECK(n.IsMap());
        if (before.count(rel))
          for (const auto& kv : YAML::Load(before.at(rel))) CHECK(n[kv.first.Scalar()]);
      }
    } else if (rel.find("/metrics/") != std::string::npos || rel.find("/tags/") != std::string::npos) {
      CHECK((ref.count(rel) && ref.at(rel) == norm(bytes)));
    }
  }
  // Nothing is lost: a file is where it was, or moved whole to a quarantine,
  // or (gc) its whole run or experiment folder left the tree.
  std::set<std::string> quarantined;
  for (const auto& [rel, bytes] : after)
    if (in_quarantine(rel)) quarantined.insert(rel.substr(rel.find('/') + 1));
  check_notes(after);
  std::map<std::string, std::pair<int, int>> run_files;  // run folder -> (files before, files still there)
  for (const auto& [rel, bytes] : before) {
    if (rel.back() == '/') continue;
    INFO(rel);
    bool here = after.count(rel) > 0;
    bool moved = std::any_of(quarantined.begin(), quarantined.end(), [&](const std::string& q) { return q.rfind(rel, 0) == 0; });
    if (!tool.removes_runs) CHECK((here || moved));
    // Run folders: <exp>/<run>/... or .trash/<exp>/<run>/...
    std::vector<std::string> parts;
    for (const auto& c : fs::path(rel)) parts.push_back(c.string());
    std::size_t base = parts[0] == ".trash" ? 1 : 0;
    if (parts.size() > base + 2) {
      std::string run = (base ? ".trash/" : "") + parts[base] + "/" + parts[base + 1];
      if (before.count(run + "/meta.yaml")) {
        auto& c = run_files[run];
        ++c.first;
        if (here) ++c.second;
      }
    }
  }
  if (tool.removes_runs) {
    for (const auto& [run, c] : run_files) {
      INFO("run folder " << run << ": " << c.second << " of " << c.first << " files left");
      CHECK((c.second == 0 || c.second == c.first));
    }
    // An experiment folder still in the tree keeps its meta.yaml.
    for (const auto& [rel, bytes] : after)
      if (rel.back() == '/' && !in_gc_staging(rel) && before.count(rel + "meta.yaml") &&
          std::count(rel.begin(), rel.end(), '/') <= 2 && (rel.rfind(".trash/", 0) == 0 || std::count(rel.begin(), rel.end(), '/') == 1))
        CHECK(after.count(rel + "meta.yaml"));
  }
}

void sweep(const Tool& tool) {
  SmallTree small;
  // The reference: a fault-free run on a fresh copy.
  Snapshot ref;
  {
    WorkTree scratch(small);
    tool.prepare(scratch.root);
    NoSyncEnv env;
    Outcome o = tool.run(scratch.root, &env);
    REQUIRE(o.returned);
    for (const auto& f : o.failures) FAIL_CHECK(f);
    ref = normalized(scratch.root);
  }
  std::uint64_t faults = 0, sweeps = 0;
  for (const Fault& f : kFaults) {
    if (f.partial_remove && !tool.removes_runs) continue;
    for (std::uint64_t k = f.offset;; k += f.stride) {
      INFO(tool.name << " under " << f.name << " from operation #" << k);
      REQUIRE(k < 1000);
      WorkTree work(small);
      tool.prepare(work.root);
      std::string real = fs::canonical(work.root).string();
      Snapshot before = snapshot(work.root);
      NoSyncEnv base;
      FaultEnv env(&base);
      FaultEnv::Rule rule;
      rule.ops = f.ops;
      rule.error = f.error;
      rule.after_calls = k;
      rule.short_write = f.short_write;
      rule.partial_remove = f.partial_remove;
      env.add_rule(rule);
      Outcome o = tool.run(work.root, &env);
      std::uint64_t n = env.injected();
      faults += n;
      if (n == 0) {
        // The tool did fewer than k+1 writes: it completed, as the reference did.
        CHECK(o.failures.empty());
        CHECK(show_diff(ref, normalized(work.root)) == "");
        break;
      }
      ++sweeps;
      REQUIRE(o.returned);
      REQUIRE(!o.failures.empty());
      std::string first = env.injected_paths().front();
      CHECK(std::any_of(o.failures.begin(), o.failures.end(),
                        [&](const std::string& s) { return s.find(first) != std::string::npos; }));
      check_intact(tool, before, snapshot(work.root), ref, real);
      // The disk was cleaned up: the tool finishes the job.
      env.clear_rules();
      Outcome again = tool.run(work.root, &env);
      REQUIRE(again.returned);
      check_notes(snapshot(work.root));
      for (const auto& s : again.failures) FAIL_CHECK("after the fault: " << s);
      CHECK(show_diff(ref, normalized(work.root)) == "");
    }
  }
  CHECK(sweeps > 10);
  CHECK(faults >= sweeps);
}

// ---- the four tools ----

// Every file under `dir` gets the same fixed mtime (seconds since the epoch).
void set_mtime(const fs::path& dir, std::time_t t) {
  const struct timespec times[2] = {{t, 0}, {t, 0}};
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) REQUIRE(::utimensat(AT_FDCWD, e.path().c_str(), times, 0) == 0);
}

fs::path running(const fs::path& run) {
  make_running(run);
  // A fixed last sign of life (2025-01-01), so that end_time is the same on every copy.
  set_mtime(run, 1735689600);
  return run;
}

Outcome from_errors(bool returned, const std::vector<mlruns::Status>& errors) {
  Outcome o;
  o.returned = returned;
  for (const auto& s : errors) o.failures.push_back(s.to_string());
  return o;
}

const Tool kReap{
    "reap",
    [](const fs::path& root) {
      for (const fs::path& exp : {root / kExpA, root / kExpB}) running(first_run(exp));
    },
    [](const fs::path& root, mlruns::Env* env) {
      auto gone = [](const std::map<std::string, std::string>&) { return mlruns::ProcessState::kGone; };
      auto r = mlruns::reap(root.string(), {.env = env, .probe = gone});
      return r ? from_errors(true, r->errors) : Outcome{false, {r.error().to_string()}};
    },
};

// A registry version and a trace to relocate besides the fixture's URIs.
void add_registry_and_trace(const fs::path& root) {
  const std::string old = "file:///scratch/golden/mlruns/" + kExpA;
  std::string run = first_run(root / kExpA).filename().string();
  fs::create_directories(root / "models" / "clf" / "version-1");
  spit(root / "models" / "clf" / "version-1" / "meta.yaml",
       "creation_timestamp: 1795344700000\ncurrent_stage: None\ndescription: ''\nlast_updated_timestamp: 1795344700000\n"
       "name: clf\nrun_id: " + run + "\nrun_link: ''\nsource: " + old + "/" + run + "/artifacts/model\nstatus: READY\n"
       "status_message: null\nstorage_location: " + old + "/" + run + "/artifacts/model\nuser_id: null\nversion: 1\n");
  fs::path trace = root / kExpA / "traces" / kTrace;
  fs::create_directories(trace / "tags");
  spit(trace / "trace_info.yaml", "request_id: " + kTrace + "\n");
  spit(trace / "tags" / "mlflow.artifactLocation", old + "/traces/" + kTrace + "/artifacts");
}

const Tool kRelocate{
    "relocate",
    add_registry_and_trace,
    [](const fs::path& root, mlruns::Env* env) {
      auto r = mlruns::relocate(root.string(), {.env = env});
      return r ? from_errors(true, r->errors) : Outcome{false, {r.error().to_string()}};
    },
};

void mark_deleted(const fs::path& run) {
  std::string m = slurp(run / "meta.yaml");
  auto p = m.find("lifecycle_stage: active");
  m.replace(p, 23, "lifecycle_stage: deleted");
  m.insert(0, "deleted_time: 1000\n");
  spit(run / "meta.yaml", m);
}

const Tool kGc{
    "gc",
    [](const fs::path& root) {
      mark_deleted(first_run(root / kExpA));
      mark_deleted(first_run(root / kExpB));
    },
    [](const fs::path& root, mlruns::Env* env) {
      auto r = mlruns::gc(root.string(), {.env = env});
      return r ? from_errors(true, r->errors) : Outcome{false, {r.error().to_string()}};
    },
    true,
    true,
};

const Tool kFsck{
    "fsck --repair",
    [](const fs::path& root) {
      // Beside the fixture's own findings (run_uuid, moved URIs, a 5-field
      // metric line): litter to quarantine and an unreadable run.
      auto run = first_run(root / kExpA);
      spit(run / "metrics" / ".DS_Store", std::string("\0\1Bud1", 6));
      spit(first_run(root / "0") / "meta.yaml", "");
    },
    [](const fs::path& root, mlruns::Env* env) {
      mlruns::FsckOptions opt{.env = env, .repair = true};
      auto r = mlruns::fsck(root.string(), opt);
      Outcome o;
      if (!r) return Outcome{false, {r.error().to_string()}};
      o.returned = true;
      for (const auto& f : r->findings)
        if (f.outcome == mlruns::FsckAction::kFailed) o.failures.push_back(f.path + ": " + f.action);
      return o;
    },
    false,
};

}  // namespace

TEST_CASE("reap under every fault leaves each run RUNNING or KILLED, never torn, and finishes afterwards",
          "[faults][maint]") {
  sweep(kReap);
}

TEST_CASE("relocate under every fault leaves each URI old or new, never torn, and finishes afterwards",
          "[faults][maint]") {
  sweep(kRelocate);
}

TEST_CASE("gc under every fault leaves each run whole or gone, never half-removed, and finishes afterwards",
          "[faults][maint]") {
  sweep(kGc);
}

TEST_CASE("fsck --repair under every fault reports failed repairs, damages nothing and finishes afterwards",
          "[faults][maint]") {
  sweep(kFsck);
}
