// The POSIX Env's file primitives that appenders rely on to never build on a
// torn line (issue 9 item 1): reopen without creating, read_at, and the
// open-file-description lock that a killed holder cannot leave behind.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "mlruns/env.h"
#include "resil_util.h"

namespace fs = std::filesystem;
using mlruns::Code;
using mlruns::Env;
using mlruns::Status;
using mlruns::test::TempDir;
using mlruns::test::read_file;
using mlruns::test::write_file;

TEST_CASE("reopen_appendable_file never creates, refuses links and FIFOs, appends to what exists",
          "[env][posix]") {
  TempDir dir;
  Env& env = *Env::posix();
  std::string path = dir.str() + "/metric";
  auto missing = env.reopen_appendable_file(path);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code() == Code::kNotFound);
  CHECK_FALSE(fs::exists(path));

  write_file(path, "1 2.0 0\n");
  auto f = env.reopen_appendable_file(path);
  REQUIRE(f.has_value());
  REQUIRE((*f)->append("3 4.0 1\n").is_ok());
  CHECK(read_file(path) == "1 2.0 0\n3 4.0 1\n");

  fs::create_symlink(path, dir.str() + "/link");
  auto link = env.reopen_appendable_file(dir.str() + "/link");
  REQUIRE_FALSE(link.has_value());
  CHECK(link.error().code() == Code::kInvalidArgument);

  REQUIRE(::mkfifo((dir.str() + "/fifo").c_str(), 0644) == 0);
  auto fifo = env.reopen_appendable_file(dir.str() + "/fifo");  // must not hang waiting for a reader
  REQUIRE_FALSE(fifo.has_value());
  CHECK(fifo.error().code() == Code::kInvalidArgument);
}

TEST_CASE("read_at reads an appendable file back at any offset", "[env][posix]") {
  TempDir dir;
  Env& env = *Env::posix();
  std::string path = dir.str() + "/metric";
  auto f = env.new_appendable_file(path);
  REQUIRE(f.has_value());
  REQUIRE((*f)->append("1700000000000 0.5 0\n17000000").is_ok());
  char buf[16];
  auto tail = (*f)->read_at(20, sizeof buf, buf);
  REQUIRE(tail.has_value());
  CHECK(*tail == "17000000");
  auto past = (*f)->read_at(1000, sizeof buf, buf);
  REQUIRE(past.has_value());
  CHECK(past->empty());
}

TEST_CASE("lock excludes a second descriptor of the same process and is dropped on close", "[env][posix]") {
  TempDir dir;
  Env& env = *Env::posix();
  std::string path = dir.str() + "/metric";
  auto a = env.new_appendable_file(path);
  auto b = env.new_appendable_file(path);
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  auto held = (*a)->lock(1000);
  REQUIRE(held.has_value());
  auto busy = (*b)->lock(30);
  REQUIRE(!busy.has_value());
  CHECK(busy.error().code() == Code::kFailedPrecondition);
  CHECK_THAT(busy.error().message(), Catch::Contains("locked by another writer"));
  // Env::lock_file is the same lock: it excludes the open file's holder too.
  auto file_lock = env.lock_file(path, /*wait=*/false);
  REQUIRE(!file_lock.has_value());
  CHECK(file_lock.error().code() == Code::kFailedPrecondition);
  held->reset();  // released by destroying the FileLock
  auto b_held = (*b)->lock(1000);
  REQUIRE(b_held.has_value());
  CHECK(!env.lock_file(path, /*wait=*/false).has_value());
  b_held->reset();
  REQUIRE((*b)->close().is_ok());
  {
    auto l = env.lock_file(path, /*wait=*/false);
    REQUIRE(l.has_value());
    CHECK(!(*a)->lock(0).has_value());  // and lock_file's excludes an appender
  }
  CHECK((*a)->lock(1000).has_value());
}

TEST_CASE("a lock held by a process killed with SIGKILL is released by the kernel", "[env][posix]") {
  TempDir dir;
  std::string path = dir.str() + "/metric";
  write_file(path, "");
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    auto f = Env::posix()->reopen_appendable_file(path);
    if (!f) ::_exit(1);
    auto held = (*f)->lock(1000);
    if (!held) ::_exit(1);
    (void)!::write(ready[1], "x", 1);
    for (;;) ::pause();  // holds the lock until killed
  }
  ::close(ready[1]);
  char c;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  ::close(ready[0]);
  auto f = Env::posix()->reopen_appendable_file(path);
  REQUIRE(f.has_value());
  CHECK((*f)->lock(30).error().code() == Code::kFailedPrecondition);  // the child holds it
  REQUIRE(::kill(pid, SIGKILL) == 0);
  mlruns::test::wait_child(pid);
  CHECK((*f)->lock(5000).has_value());
}
