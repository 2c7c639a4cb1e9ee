// Store::log_batch by run id (the CLI's `mlruns log`, the Python plugin): one
// open per metric file that exists, closed after its append; what is not a
// regular file (a link, a FIFO) is refused and nothing of the batch written;
// the bytes are the ones an ActiveRun writes (spec §5.1, §11).
#include <dirent.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "mlruns/env.h"
#include "mlruns/store.h"
#include "test_util.h"

using namespace mlruns;
namespace fs = std::filesystem;
using mlruns::testing::read_file;
using mlruns::testing::TempDir;
using mlruns::testing::write_file;

namespace {

struct OwnedEnv {
  std::unique_ptr<Env> owned;
};

// Counts the calls a writer makes on the tree's confined Env.
class CountingEnv : private OwnedEnv, public EnvWrapper {
 public:
  explicit CountingEnv(const std::string& root) : OwnedEnv{Env::posix_beneath(root)}, EnvWrapper(owned.get()) {}
  std::atomic<int> reopens{0}, metric_stats{0};
  Result<std::unique_ptr<WritableFile>> reopen_appendable_file(const std::string& p) override {
    ++reopens;
    return target()->reopen_appendable_file(p);
  }
  Result<FileInfo> stat(const std::string& p, bool follow) override {
    if (p.find("/metrics/") != std::string::npos) ++metric_stats;
    return target()->stat(p, follow);
  }
};

StoreOptions options(const std::string& root, Env* env = nullptr) {
  StoreOptions o;
  o.tracking_uri = root;
  o.env = env;
  o.errors = ErrorMode::kCount;  // refusals come back as a Status
  o.flush.background_thread = false;
  return o;
}

// A run left RUNNING (as the plugin's create_run leaves it), its id.
std::string detached_run(const std::string& root) {
  Store store = Store::open(options(root));
  ActiveRun run = store.start_run({.system_tags = false});
  std::string id = run.id();
  REQUIRE(run.detach().is_ok());
  return id;
}

// The metrics/ folder of a new detached run (made), and the run's id in `id`.
std::string metrics_folder(const std::string& root, std::string& id) {
  id = detached_run(root);
  std::string metrics = root + "/0/" + id + "/metrics";
  fs::create_directories(metrics);
  return metrics;
}

std::vector<Metric> points(int keys, std::int64_t step) {
  std::vector<Metric> out;
  for (int k = 0; k < keys; ++k) out.push_back(Metric{"m" + std::to_string(k), k * 0.5 + step, 1000 + step, step, {}, {}});
  return out;
}

int open_descriptors() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

}  // namespace

TEST_CASE("log_batch by run id: one open per existing metric file, no look before it, closed after (spec §11)",
          "[store][by-id]") {
  TempDir dir;
  std::string root = dir.root();
  std::string id = detached_run(root);
  CountingEnv env(root);
  Store store = Store::open(options(root, &env));
  REQUIRE(store.log_batch(id, points(50, 0), {}, {}).is_ok());  // creates the 50 files
  int before = open_descriptors();
  env.reopens = 0;
  env.metric_stats = 0;
  REQUIRE(store.log_batch(id, points(50, 1), {}, {}).is_ok());  // appends to them
  CHECK(env.reopens == 50);
  CHECK(env.metric_stats == 0);
  CHECK(open_descriptors() == before);
  CHECK(read_file(root + "/0/" + id + "/metrics/m3") == "1000 1.5 0\n1001 2.5 1\n");
}

TEST_CASE("log_batch by run id writes the bytes an ActiveRun writes, creating and appending (spec §5.1)",
          "[store][by-id]") {
  TempDir dir;
  std::string root = dir.root();
  std::string by_id = detached_run(root);
  Store store = Store::open(options(root));
  ActiveRun run = store.start_run({.system_tags = false});
  std::vector<Metric> batch = {{"loss", 0.1, 17, 0, {}, {}}, {"loss", 1e-7, 18, 1, {}, {}},
                               {"a/b", -2.0, 19, -3, {}, {}}, {"inf", 1.0 / 0.0, 20, 4, {}, {}}};
  for (int round = 0; round < 2; ++round) {
    for (Metric& m : batch) m.step += 10 * round;
    REQUIRE(store.log_batch(by_id, batch, {}, {}).is_ok());
    REQUIRE(run.log_batch(batch, {}, {}).is_ok());
    REQUIRE(run.flush().is_ok());
  }
  for (const char* key : {"loss", "a/b", "inf"})
    CHECK(read_file(root + "/0/" + by_id + "/metrics/" + key) == read_file(root + "/0/" + run.id() + "/metrics/" + key));
  CHECK(read_file(root + "/0/" + by_id + "/metrics/loss") == "17 0.1 0\n18 1e-07 1\n17 0.1 10\n18 1e-07 11\n");
}

TEST_CASE("log_batch by run id refuses a metric file that is a symbolic link, and writes nothing of the batch",
          "[store][by-id][security]") {
  TempDir dir;
  std::string root = dir.root(), id;
  std::string metrics = metrics_folder(root, id);
  std::string outside = dir.str() + "/outside";
  write_file(outside, "1 1.0 0\n");
  fs::create_symlink(outside, metrics + "/loss");
  Store store = Store::open(options(root));
  Status s = store.log_batch(id, {{"fine", 1.0, 5, 0, {}, {}}, {"loss", 2.0, 5, 1, {}, {}}}, {}, {});
  // Refused as the Reader refuses a link (issue 15): the file and the rule, not "already exists".
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(s.message().find("metrics/loss' is a symbolic link; not followed") != std::string::npos);
  CHECK(read_file(outside) == "1 1.0 0\n");
  CHECK(fs::is_symlink(metrics + "/loss"));
  CHECK_FALSE(fs::exists(metrics + "/fine"));
}

TEST_CASE("log_batch by run id refuses a metric file that is a FIFO, without blocking", "[store][by-id][security]") {
  TempDir dir;
  std::string root = dir.root(), id;
  std::string metrics = metrics_folder(root, id);
  REQUIRE(::mkfifo((metrics + "/loss").c_str(), 0644) == 0);
  Store store = Store::open(options(root));
  auto t0 = std::chrono::steady_clock::now();
  Status s = store.log_batch(id, {{"loss", 2.0, 5, 1, {}, {}}, {"fine", 1.0, 5, 0, {}, {}}}, {}, {});
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(s.message().find("not a regular file (a FIFO, socket or device)") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));  // returns: no open blocked
  CHECK_FALSE(fs::exists(metrics + "/fine"));
  struct stat st;
  REQUIRE(::lstat((metrics + "/loss").c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
}
