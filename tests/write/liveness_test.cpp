// Liveness (issue 4 item 5): process identity tags and the sign of life.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "mlruns/env.h"
#include "mlruns/liveness.h"
#include "mlruns/reader.h"
#include "mlruns/store.h"
#include "resil_util.h"

using namespace mlruns;
using namespace mlruns::test;

TEST_CASE("process_start_token identifies this process and differs for another", "[liveness]") {
  std::string self = process_start_token();
  REQUIRE_FALSE(self.empty());
  CHECK(self == process_start_token(::getpid()));
  CHECK(self.find(':') != std::string::npos);
  CHECK(process_start_token(1) != self);
}

TEST_CASE("process_state: alive, gone, recycled pid, other host", "[liveness]") {
  std::map<std::string, std::string> tags = {{kTagHost, current_host()},
                                             {kTagPid, std::to_string(::getpid())},
                                             {kTagPidStart, process_start_token()}};
  CHECK(process_state(tags) == ProcessState::kAlive);

  SECTION("a pid that was reused by another process is gone") {
    tags[kTagPid] = "1";  // init exists, but it is not our writer
    CHECK(process_state(tags) == ProcessState::kGone);
  }
  SECTION("a process that exited is gone") {
    pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    tags[kTagPid] = std::to_string(child);
    tags[kTagPidStart] = process_start_token(child);
    wait_child(child);
    CHECK(process_state(tags) == ProcessState::kGone);
  }
  SECTION("another host cannot be judged from here") {
    tags[kTagHost] = current_host() + "-elsewhere";
    CHECK(process_state(tags) == ProcessState::kUnknown);
  }
  SECTION("no tags, no verdict") {
    CHECK(process_state({}) == ProcessState::kUnknown);
  }
}

TEST_CASE("process_state with an owner chain: alive while a job process lives, by silence while only an "
          "interactive session leader lives, gone when none lives or after a reboot",
          "[liveness]") {
  const std::string self = process_start_token();
  const std::string boot = self.substr(0, self.rfind(':'));
  const std::string ticks = self.substr(self.rfind(':') + 1);
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  const std::string dead = process_start_token(child);
  wait_child(child);
  REQUIRE_FALSE(dead.empty());
  const std::string dead_item = std::to_string(child) + "@" + dead.substr(dead.rfind(':') + 1);
  const std::string self_item = std::to_string(::getpid()) + "@" + ticks;
  std::map<std::string, std::string> tags = {{kTagHost, current_host()}, {kTagPid, std::to_string(child)}};
  auto judge = [&](const std::string& chain) {
    tags[kTagOwnerChain] = chain;
    return process_state(tags);
  };
  CHECK(judge(boot + " o" + dead_item + " o" + self_item) == ProcessState::kAlive);
  CHECK(judge(boot + " o" + dead_item + " w" + self_item) == ProcessState::kUnknown);
  CHECK(judge(boot + " o" + dead_item) == ProcessState::kGone);
  CHECK(judge("another-boot o" + self_item) == ProcessState::kGone);
  // Recorded for this process by owner_chain: this process is a job process ('o').
  const std::string mine = owner_chain(::getpid());
  CHECK(mine.rfind(boot + " o" + self_item, 0) == 0);
  CHECK(judge(mine) == ProcessState::kAlive);
  CHECK(owner_chain(1).empty());
}

TEST_CASE("last_sign_of_life is the newest mtime of meta.yaml and metric files", "[liveness]") {
  TempDir dir;
  std::string run = dir.str() + "/run";
  std::filesystem::create_directories(run + "/metrics/val");
  write_file(run + "/meta.yaml", "x");
  write_file(run + "/metrics/val/acc", "1 1.0 0\n");
  auto set_mtime = [](const std::string& p, std::int64_t sec) {
    struct timespec ts[2] = {{sec, 0}, {sec, 0}};
    REQUIRE(::utimensat(AT_FDCWD, p.c_str(), ts, 0) == 0);
  };
  set_mtime(run + "/meta.yaml", 1700000000);
  set_mtime(run + "/metrics/val/acc", 1700000100);
  auto t = last_sign_of_life(*Env::posix(), run);
  REQUIRE(t.has_value());
  CHECK(*t == 1700000100000);

  REQUIRE(Env::posix()->touch(run + "/meta.yaml").is_ok());  // the heartbeat
  auto t2 = last_sign_of_life(*Env::posix(), run);
  REQUIRE(t2.has_value());
  CHECK(*t2 > 1700000100000);

  CHECK(last_sign_of_life(*Env::posix(), dir.str() + "/nope").error().code() == Code::kNotFound);
}

TEST_CASE("A running run's meta.yaml mtime is its heartbeat, and its tags say where it lives",
          "[liveness][store]") {
  TempDir dir;
  std::string root = dir.str() + "/mlruns";
  auto store = Store::open({.tracking_uri = root, .heartbeat = std::chrono::milliseconds(20)});
  ActiveRun run = store.start_run();
  std::string run_dir = root + "/0/" + run.id();
  std::string meta = run_dir + "/meta.yaml";
  struct timespec old[2] = {{1600000000, 0}, {1600000000, 0}};
  REQUIRE(::utimensat(AT_FDCWD, meta.c_str(), old, 0) == 0);
  // Wait (bounded) for the background thread's touch.
  std::int64_t mtime = 0;
  for (int i = 0; i < 500; ++i) {
    mtime = Env::posix()->stat(meta, false)->mtime_ms;
    if (mtime > 1600000000000) break;
    ::usleep(10000);
  }
  CHECK(mtime > 1600000000000);
  auto life = last_sign_of_life(*Env::posix(), run_dir);
  REQUIRE(life.has_value());
  CHECK(*life >= mtime);

  auto r = store.start_run();  // the tags that reap reads
  REQUIRE(run.end().is_ok());
  REQUIRE(r.end().is_ok());
  auto reader = Reader::open(root);
  REQUIRE(reader.has_value());
  auto info = reader->run(run.id());
  REQUIRE(info.has_value());
  CHECK(info->tags.at(kTagHost) == current_host());
  CHECK(info->tags.at(kTagPid) == std::to_string(::getpid()));
  CHECK(info->tags.at(kTagPidStart) == process_start_token());
  CHECK(process_state(info->tags) == ProcessState::kAlive);
}
