// Tests of the test tools themselves (FaultEnv), and of the POSIX Env's
// promise that EINTR and short writes never reach the caller.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "fault_env.h"
#include "resil_util.h"

namespace fs = std::filesystem;
using mlruns::Env;
using mlruns::test::FaultEnv;
using mlruns::test::TempDir;
using mlruns::test::read_file;
using mlruns::test::write_file;

namespace {

mlruns::Status append_file(Env& env, const std::string& path, std::string_view data) {
  auto f = env.new_appendable_file(path);
  if (!f) return f.error();
  MLRUNS_RETURN_IF_ERROR((*f)->append(data));
  return (*f)->close();
}

}  // namespace

TEST_CASE("FaultEnv fails only matching operations and paths, naming the path", "[fault_env]") {
  TempDir dir;
  FaultEnv env;
  env.add_rule({.ops = FaultEnv::kAppend, .path_contains = "/metrics/", .error = ENOSPC});
  std::string metric = dir.str() + "/metrics/loss";
  fs::create_directories(dir.str() + "/metrics");
  mlruns::Status s = append_file(env, metric, "1 0.5 0\n");
  REQUIRE_FALSE(s.is_ok());
  CHECK(s.code() == mlruns::Code::kIOError);
  CHECK(s.os_error() == ENOSPC);
  CHECK(s.message().find(metric) != std::string::npos);
  CHECK(read_file(metric).empty());  // the opening was allowed, the append was not

  CHECK(append_file(env, dir.str() + "/other", "x").is_ok());
  CHECK(env.rename(dir.str() + "/other", dir.str() + "/other2").is_ok());
  CHECK(env.injected() == 1);
  CHECK(env.injected(FaultEnv::kAppend) == 1);
  CHECK(env.injected(FaultEnv::kRename) == 0);
}

TEST_CASE("FaultEnv rules fire after N calls, once or persistently", "[fault_env]") {
  TempDir dir;
  FaultEnv env;
  std::string p = dir.str() + "/f";
  SECTION("once") {
    env.add_rule({.ops = FaultEnv::kOpenWrite, .error = EACCES, .after_calls = 2, .once = true});
    CHECK(env.new_writable_file(p, false).has_value());
    CHECK(env.new_writable_file(p, false).has_value());
    auto third = env.new_writable_file(p, false);
    REQUIRE_FALSE(third.has_value());
    CHECK(third.error().os_error() == EACCES);
    CHECK(env.new_writable_file(p, false).has_value());
    CHECK(env.injected(FaultEnv::kOpenWrite) == 1);
  }
  SECTION("persistent until removed") {
    int id = env.add_rule({.ops = FaultEnv::kCreateDir | FaultEnv::kRename, .error = EDQUOT});
    for (int i = 0; i < 3; ++i) CHECK(env.create_dir(p + std::to_string(i)).os_error() == EDQUOT);
    CHECK(env.rename(p, p + "x").os_error() == EDQUOT);
    env.remove_rule(id);
    CHECK(env.create_dir(p + "0").is_ok());
    CHECK(env.injected() == 4);
  }
  SECTION("every errno of the issue is passed through") {
    for (int err : {ENOSPC, EDQUOT, EIO, EACCES, EINTR}) {
      env.clear_rules();
      env.add_rule({.ops = FaultEnv::kSyncDir, .error = err});
      CHECK(env.sync_dir(dir.str()).os_error() == err);
    }
  }
}

TEST_CASE("FaultEnv short writes hand a prefix to the file, then fail", "[fault_env]") {
  TempDir dir;
  FaultEnv env;
  std::string p = dir.str() + "/m";
  SECTION("short_write: half of the data") {
    env.add_rule({.ops = FaultEnv::kAppend, .error = EIO, .once = true, .short_write = true});
    CHECK(append_file(env, p, "12345678\n").os_error() == EIO);
    CHECK(read_file(p) == "1234");
  }
  SECTION("after_bytes: the budget runs out mid-call, like a full disk") {
    env.add_rule({.ops = FaultEnv::kAppend, .error = ENOSPC, .after_bytes = 10});
    auto f = env.new_appendable_file(p);
    REQUIRE(f.has_value());
    CHECK((*f)->append("abcdef\n").is_ok());        // 7 bytes
    CHECK((*f)->append("ghijkl\n").os_error() == ENOSPC);  // 3 more fit
    CHECK((*f)->append("x").os_error() == ENOSPC);
    (*f)->close();
    CHECK(read_file(p) == "abcdef\nghi");
    CHECK(env.injected(FaultEnv::kAppend) == 2);
  }
}

TEST_CASE("FaultEnv drops unsynced data like a machine crash", "[fault_env]") {
  TempDir dir;
  FaultEnv env;
  std::string d = dir.str();
  write_file(d + "/meta.yaml", "old\n");  // predates the env: durable

  // An appended file: only the synced part survives.
  auto f = env.new_appendable_file(d + "/metric");
  REQUIRE(f.has_value());
  REQUIRE((*f)->append("1 1.0 0\n").is_ok());
  REQUIRE((*f)->sync().is_ok());
  REQUIRE(env.sync_dir(d).is_ok());
  REQUIRE((*f)->append("2 2.0 1\n").is_ok());
  (*f)->close();

  // A new file never synced: gone.
  REQUIRE(append_file(env, d + "/fresh", "x").is_ok());

  // A rename over meta.yaml without a directory sync: the old file comes back.
  auto t = env.new_writable_file(d + "/.meta.yaml.tmp", true);
  REQUIRE(t.has_value());
  REQUIRE((*t)->append("new\n").is_ok());
  REQUIRE((*t)->sync().is_ok());
  (*t)->close();
  REQUIRE(env.rename(d + "/.meta.yaml.tmp", d + "/meta.yaml").is_ok());
  CHECK(read_file(d + "/meta.yaml") == "new\n");

  CHECK(env.drop_unsynced_data() == 3);
  CHECK(read_file(d + "/metric") == "1 1.0 0\n");
  CHECK_FALSE(fs::exists(d + "/fresh"));
  CHECK(read_file(d + "/meta.yaml") == "old\n");
}

TEST_CASE("FaultEnv keeps a renamed file whose folder was synced", "[fault_env]") {
  TempDir dir;
  FaultEnv env;
  std::string d = dir.str();
  write_file(d + "/meta.yaml", "old\n");
  auto t = env.new_writable_file(d + "/.tmp", true);
  REQUIRE(t.has_value());
  REQUIRE((*t)->append("new\n").is_ok());
  REQUIRE((*t)->sync().is_ok());
  (*t)->close();
  REQUIRE(env.rename(d + "/.tmp", d + "/meta.yaml").is_ok());
  REQUIRE(env.sync_dir(d).is_ok());
  env.drop_unsynced_data();
  CHECK(read_file(d + "/meta.yaml") == "new\n");
}

namespace {
std::atomic<int> g_signals{0};
extern "C" void count_signal(int) { g_signals.fetch_add(1, std::memory_order_relaxed); }
}  // namespace

TEST_CASE("POSIX Env retries EINTR and short writes from real signals", "[fault_env][posix]") {
  // A slow reader on a FIFO makes write(2) block; signals without SA_RESTART
  // then interrupt it (EINTR, or a short count once some bytes went through).
  TempDir dir;
  std::string fifo = dir.str() + "/fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);

  struct sigaction sa = {}, old = {};
  sa.sa_handler = count_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocked calls return EINTR
  REQUIRE(::sigaction(SIGUSR2, &sa, &old) == 0);
  g_signals = 0;

  std::string data;
  for (int i = 0; data.size() < (2u << 20); ++i) data += std::to_string(i) + " 0.5 " + std::to_string(i) + "\n";

  std::string received;
  std::thread reader([&] {
    int fd = ::open(fifo.c_str(), O_RDONLY);
    char buf[8192];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      received.append(buf, static_cast<std::size_t>(n));
      ::usleep(50);
    }
    ::close(fd);
  });
  std::atomic<bool> done{false};
  pthread_t self = ::pthread_self();
  std::thread signaller([&] {
    while (!done) {
      ::pthread_kill(self, SIGUSR2);
      ::usleep(200);
    }
  });

  mlruns::Status s = append_file(*Env::posix(), fifo, data);
  done = true;
  signaller.join();
  reader.join();
  ::sigaction(SIGUSR2, &old, nullptr);

  CHECK(s.is_ok());
  CHECK(g_signals.load() > 0);
  WARN("signals delivered while the POSIX Env wrote " << data.size() << " bytes: " << g_signals.load());
  CHECK(received.size() == data.size());
  CHECK(received == data);
}
