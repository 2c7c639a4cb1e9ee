// Error-counting mode reports failures without flooding stderr (issue 10
// item 11): the first in full, then counts per kind (options.h,
// summarize_errors), in ErrorMode::kCount and the C API's print mode.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

#include "mlruns/c.h"
#include "mlruns/store.h"
#include "test_util.h"

using namespace mlruns;
using mlruns::testing::read_file;
using mlruns::testing::TempDir;

namespace {

// stderr (fd 2) goes to a file while it lives; text() is what was written.
class StderrCapture {
 public:
  StderrCapture() : path_(dir_.path() / "stderr") {
    std::fflush(stderr);
    saved_ = ::dup(2);
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 2);
    ::close(fd);
  }
  ~StderrCapture() { restore(); }
  std::string text() {
    restore();
    return read_file(path_);
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
  }
  TempDir dir_;
  std::filesystem::path path_;
  int saved_ = -1;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    out.push_back(text.substr(start, nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("kCount: 100,000 failing calls print the first failure, then one summary per kind", "[errors]") {
  TempDir t;
  StderrCapture err;
  {
    Store store = Store::open({.tracking_uri = t.str() + "/mlruns", .errors = ErrorMode::kCount});
    ActiveRun run = store.start_run();
    REQUIRE(run.ok());
    REQUIRE(run.log_param("lr", "0.1").is_ok());
    for (int i = 0; i < 100000; ++i) CHECK_FALSE(run.log_metric("bad/../key", 1.0, i).is_ok());
    for (int i = 0; i < 3; ++i) CHECK(run.log_param("lr", "0.2").code() == Code::kAlreadyExists);
    CHECK(store.failure_count() == 100003);
  }  // the store closes: the final summary
  const std::vector<std::string> ls = lines_of(err.text());
  INFO(err.text());
  REQUIRE(ls.size() == 4);
  CHECK_THAT(ls[0], Catch::StartsWith("mlruns: invalid argument: ") && Catch::Contains("bad/../key") &&
                        Catch::EndsWith("(further failures are counted and summarized)"));
  CHECK(ls[1] == "mlruns: 100002 more failure(s) until the store closed; 100003 in all:");
  CHECK_THAT(ls[2], Catch::StartsWith("mlruns:   99999 x invalid argument (99999 in all), latest: ") &&
                        Catch::Contains("bad/../key"));
  CHECK_THAT(ls[3], Catch::StartsWith("mlruns:   3 x already exists (3 in all), latest: ") && Catch::Contains("lr"));
}

TEST_CASE("kCount: a store that cannot open says so once, and an on_error of one's own replaces the summary",
          "[errors]") {
  {
    StderrCapture err;
    {
      Store store = Store::open({.tracking_uri = "http://localhost:5000", .errors = ErrorMode::kCount});
      CHECK_FALSE(store.ok());
      for (int i = 0; i < 1000; ++i) {
        ActiveRun run = store.start_run();
        CHECK_FALSE(run.log_metric("loss", 1.0, i).is_ok());
      }
    }
    const std::vector<std::string> ls = lines_of(err.text());
    REQUIRE_FALSE(ls.empty());
    CHECK(ls.size() <= 4);
    CHECK_THAT(ls[0], Catch::Contains("http://localhost:5000") && Catch::Contains("mlruns sync --to"));
  }
  StderrCapture err;
  int seen = 0;
  {
    Store store = Store::open({.tracking_uri = "http://localhost:5000",
                               .errors = ErrorMode::kCount,
                               .on_error = [&](const Status&) { ++seen; }});
  }
  CHECK(seen == 1);
  CHECK(err.text().empty());
}

TEST_CASE("summarize_errors reports at most once per interval while failures go on", "[errors]") {
  StderrCapture err;
  {
    auto on_error = summarize_errors(std::chrono::seconds(1));
    on_error(Status::io_error("a", "first"));
    on_error(Status::io_error("b", "second"));  // within the interval: counted only
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    on_error(Status::not_found("c", "third"));  // the interval has passed: a summary of 2
    on_error(Status::not_found("d", "fourth"));
  }
  const std::vector<std::string> ls = lines_of(err.text());
  INFO(err.text());
  REQUIRE(ls.size() == 6);
  CHECK(ls[0] == "mlruns: I/O error: a: first (further failures are counted and summarized)");
  CHECK(ls[1] == "mlruns: 2 more failure(s) since the last summary; 3 in all:");
  CHECK(ls[2] == "mlruns:   1 x not found (1 in all), latest: c: third");
  CHECK(ls[3] == "mlruns:   1 x I/O error (1 in all), latest: b: second");  // in the order of mlruns::Code
  CHECK(ls[4] == "mlruns: 1 more failure(s) until the store closed; 4 in all:");
  CHECK(ls[5] == "mlruns:   1 x not found (2 in all), latest: d: fourth");
}

TEST_CASE("C API print mode: the first failure in full, then a summary, not a line per call", "[errors][capi]") {
  TempDir t;
  StderrCapture err;
  mlruns_store_t* store = mlruns_store_open((t.str() + "/mlruns").c_str(), MLRUNS_ERRORS_PRINT, nullptr);
  REQUIRE(store != nullptr);
  mlruns_run_t* run = mlruns_start_run(store, nullptr, "r", nullptr, nullptr);
  REQUIRE(run != nullptr);
  for (int i = 0; i < 10000; ++i) CHECK(mlruns_log_metric(run, "../x", 1.0, i, nullptr) == MLRUNS_INVALID_ARGUMENT);
  mlruns_end_run(run, MLRUNS_RUN_FINISHED, nullptr);
  mlruns_run_close(run);
  mlruns_store_close(store);
  const std::vector<std::string> ls = lines_of(err.text());
  INFO(err.text());
  REQUIRE(ls.size() == 3);
  CHECK_THAT(ls[0], Catch::StartsWith("mlruns: invalid argument: ") && Catch::Contains("../x"));
  CHECK(ls[1] == "mlruns: 9999 more failure(s) until the store closed; 10000 in all:");
}

TEST_CASE("C API print mode: a failed open says no store was opened, and promises no summary", "[errors][capi]") {
  StderrCapture err;
  char* msg = nullptr;
  mlruns_store_t* store = mlruns_store_open("http://localhost:5000", MLRUNS_ERRORS_PRINT, &msg);
  CHECK(store == nullptr);
  CHECK(mlruns_store_flush(store, nullptr) == MLRUNS_INVALID_ARGUMENT);  // quietly: nothing is counted
  mlruns_free(msg);
  const std::vector<std::string> ls = lines_of(err.text());
  INFO(err.text());
  REQUIRE(ls.size() == 1);
  CHECK_THAT(ls[0], Catch::StartsWith("mlruns: not supported: ") && Catch::Contains("no store was opened") &&
                        !Catch::Contains("further failures are counted"));
}
