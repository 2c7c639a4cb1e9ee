// Metric appends: whole lines in one call, a failed or short write truncated
// back, failed points kept and retried (spec §5.1, §11, §14.3).
#include <catch2/catch.hpp>

#include <atomic>

#include "write/metric_buffer.h"
#include "mlruns/store.h"
#include "test_util.h"

using namespace mlruns;
namespace fs = std::filesystem;
using mlruns::testing::read_file;
using mlruns::testing::TempDir;

namespace {

// Forwards every call to another WritableFile; a test file overrides only
// what it observes or breaks (as EnvWrapper does for an Env).
class ForwardingFile : public WritableFile {
 public:
  explicit ForwardingFile(std::unique_ptr<WritableFile> f) : f_(std::move(f)) {}
  Status append(std::string_view d) override { return f_->append(d); }
  Status truncate(std::uint64_t n) override { return f_->truncate(n); }
  Result<std::uint64_t> size() override { return f_->size(); }
  Status sync() override { return f_->sync(); }
  Status close() override { return f_->close(); }
  Result<std::string_view> read_at(std::uint64_t o, std::size_t n, char* b) override { return f_->read_at(o, n, b); }
  Result<std::unique_ptr<FileLock>> lock(std::int64_t ms) override { return f_->lock(ms); }

 protected:
  std::unique_ptr<WritableFile> f_;
};

// An Env wrapping every appendable file it opens in `Wrapped` (a ForwardingFile
// taking the Env and the file).
template <typename Self, typename Wrapped>
class AppendWrappingEnv : public EnvWrapper {
 public:
  AppendWrappingEnv() : EnvWrapper(Env::posix()) {}
  Result<std::unique_ptr<WritableFile>> new_appendable_file(const std::string& p) override {
    return wrap(target()->new_appendable_file(p));
  }
  Result<std::unique_ptr<WritableFile>> reopen_appendable_file(const std::string& p) override {
    return wrap(target()->reopen_appendable_file(p));
  }

 protected:
  Result<std::unique_ptr<WritableFile>> wrap(Result<std::unique_ptr<WritableFile>> f) {
    if (!f) return f;
    return std::unique_ptr<WritableFile>(new Wrapped(static_cast<Self*>(this), std::move(*f)));
  }
};

// Wraps Env::posix(): while `fail_appends` is set, an append to a metric
// file writes only its first `partial_bytes` bytes and then fails (ENOSPC).
class ShortWriteFile;
class ShortWriteEnv : public AppendWrappingEnv<ShortWriteEnv, ShortWriteFile> {
 public:
  std::atomic<bool> fail_appends{false};
  std::size_t partial_bytes = 7;
  std::atomic<int> appends{0};
};

class ShortWriteFile : public ForwardingFile {
 public:
  ShortWriteFile(ShortWriteEnv* env, std::unique_ptr<WritableFile> f) : ForwardingFile(std::move(f)), env_(env) {}
  Status append(std::string_view data) override {
    ++env_->appends;
    if (env_->fail_appends) {
      (void)f_->append(data.substr(0, std::min(env_->partial_bytes, data.size())));
      return Status::from_errno("metric file", 28 /*ENOSPC*/);
    }
    return f_->append(data);
  }

 private:
  ShortWriteEnv* env_;
};

}  // namespace

TEST_CASE("a short, failed append is truncated back and retried in kCount mode (spec §11, §14.3)", "[metrics][faults]") {
  TempDir t;
  ShortWriteEnv env;
  StoreOptions o;
  o.tracking_uri = t.root();
  o.env = &env;
  o.errors = ErrorMode::kCount;
  o.flush.background_thread = false;
  Store store = Store::open(o);
  ActiveRun run = store.start_run({.system_tags = false});
  fs::path file = t.path() / "mlruns/0" / run.id() / "metrics/loss";

  run.log_metric("loss", 0.5, 0, 1000);
  REQUIRE(run.flush().is_ok());
  CHECK(read_file(file) == "1000 0.5 0\n");

  env.fail_appends = true;
  run.log_metric("loss", 0.25, 1, 1001);
  run.log_metric("loss", 0.125, 2, 1002);
  Status s = run.flush();
  CHECK(s.code() == Code::kIOError);
  CHECK(store.failure_count() == 1);
  CHECK(read_file(file) == "1000 0.5 0\n");  // the 7 bytes that got through were cut off again

  env.fail_appends = false;
  REQUIRE(run.flush().is_ok());  // the kept points are written once, in order
  CHECK(read_file(file) == "1000 0.5 0\n1001 0.25 1\n1002 0.125 2\n");
}

TEST_CASE("points that keep failing are still written at the end of the run once the disk recovers", "[metrics][faults]") {
  TempDir t;
  ShortWriteEnv env;
  StoreOptions o;
  o.tracking_uri = t.root();
  o.env = &env;
  o.errors = ErrorMode::kCount;
  o.flush.background_thread = false;
  o.flush.max_points = 2;
  Store store = Store::open(o);
  std::string id;
  {
    ActiveRun run = store.start_run({.system_tags = false});
    id = run.id();
    env.fail_appends = true;
    for (int i = 0; i < 6; ++i) CHECK_NOTHROW(run.log_metric("m", i, i, 10));
    CHECK(store.failure_count() >= 1);
    env.fail_appends = false;
  }
  std::string text = read_file(t.path() / "mlruns/0" / id / "metrics/m");
  CHECK(text == "10 0.0 0\n10 1.0 1\n10 2.0 2\n10 3.0 3\n10 4.0 4\n10 5.0 5\n");
}

TEST_CASE("one append call per metric file per flush (spec §11)", "[metrics]") {
  TempDir t;
  ShortWriteEnv env;
  StoreOptions o;
  o.tracking_uri = t.root();
  o.env = &env;
  o.flush.background_thread = false;
  Store store = Store::open(o);
  ActiveRun run = store.start_run({.system_tags = false});
  run.log_metric("a", -1, -1, 1);  // a new metric file is created whole (temp + rename);
  run.log_metric("b", -1, -1, 1);  // later flushes append
  REQUIRE(run.flush().is_ok());
  for (int i = 0; i < 1000; ++i) {
    run.log_metric("a", i, i, 1);
    run.log_metric("b", i, i, 1);
  }
  env.appends = 0;
  REQUIRE(run.flush().is_ok());
  CHECK(env.appends == 2);
}

TEST_CASE("kThrow: a failed flush throws and keeps the points", "[metrics][faults]") {
  TempDir t;
  ShortWriteEnv env;
  StoreOptions o;
  o.tracking_uri = t.root();
  o.env = &env;
  o.flush.background_thread = false;
  Store store = Store::open(o);
  ActiveRun run = store.start_run({.system_tags = false});
  run.log_metric("m", 1, 0, 1);
  run.flush();  // creates the file whole (temp + rename); appends come next
  run.log_metric("m", 2, 1, 1);
  env.fail_appends = true;
  CHECK_THROWS_AS(run.flush(), Error);
  env.fail_appends = false;
  run.flush();
  CHECK(read_file(t.path() / "mlruns/0" / run.id() / "metrics/m") == "1 1.0 0\n1 2.0 1\n");
}

TEST_CASE("append_metric_line writes the 3-field line (spec §5.1, §13.1)", "[metrics]") {
  std::string out;
  detail::append_metric_line(out, {1736942400035, 0.9, 0});
  detail::append_metric_line(out, {1, 1.2345678901234568e+17, -7});
  CHECK(out == "1736942400035 0.9 0\n1 1.2345678901234568e+17 -7\n");
}

namespace {
// Counts fsyncs of files and folders.
class SyncCountingFile;
class SyncCountingEnv : public AppendWrappingEnv<SyncCountingEnv, SyncCountingFile> {
 public:
  std::atomic<int> file_syncs{0}, dir_syncs{0};
  Result<std::unique_ptr<WritableFile>> new_writable_file(const std::string& p, bool excl) override {
    return wrap(target()->new_writable_file(p, excl));
  }
  Status sync_dir(const std::string& p) override {
    ++dir_syncs;
    return target()->sync_dir(p);
  }
};

class SyncCountingFile : public ForwardingFile {
 public:
  SyncCountingFile(SyncCountingEnv* env, std::unique_ptr<WritableFile> f) : ForwardingFile(std::move(f)), env_(env) {}
  Status sync() override {
    ++env_->file_syncs;
    return f_->sync();
  }

 private:
  SyncCountingEnv* env_;
};

void run_three_flushes(const TempDir& t, SyncCountingEnv& env, Durability d, int* during, int* total) {
  StoreOptions o;
  o.tracking_uri = t.root();
  o.env = &env;
  o.durability = d;
  o.flush.background_thread = false;
  Store store = Store::open(o);
  env.file_syncs = 0;
  {
    ActiveRun run = store.start_run({.system_tags = false});
    for (int i = 0; i < 3; ++i) {
      run.log_metric("m", i, i, 1);
      run.flush();
    }
    *during = env.file_syncs;
  }
  *total = env.file_syncs;
}
}  // namespace

TEST_CASE("durability modes fsync as options.h documents", "[metrics][durability]") {
  int during = 0, total = 0;
  {
    TempDir t;
    SyncCountingEnv env;
    run_three_flushes(t, env, Durability::kNone, &during, &total);
    CHECK(total == 0);
  }
  {
    TempDir t;
    SyncCountingEnv env;
    run_three_flushes(t, env, Durability::kOnClose, &during, &total);
    CHECK(during == 0);  // nothing while the run lives
    CHECK(total >= 3);   // metric file, tag file, meta.yaml at the end
  }
  {
    TempDir t;
    SyncCountingEnv env;
    run_three_flushes(t, env, Durability::kEveryFlush, &during, &total);
    CHECK(during >= 3 + 2);  // every flush, plus the run's meta.yaml and tag at creation
    CHECK(total > during);
  }
}
