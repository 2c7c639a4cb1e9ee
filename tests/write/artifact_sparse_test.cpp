// log_artifact, log_artifacts and log_model keep a sparse source's holes as
// holes (env/sparse_copy.h, the same copy a download makes): a checkpoint of
// 1 GiB apparent size holding a few bytes costs a few blocks (issue 15).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "mlruns/store.h"
#include "store_test_util.h"
#include "test_util.h"

using namespace mlruns;
using namespace mlruns::testing;

namespace {

constexpr std::uint64_t kHole = 1ull << 30;  // 1 GiB apparent size

// "HEAD", a 1 GiB hole, "TAIL"; false where the file system has no sparse files.
bool make_sparse(const fs::path& p) {
  fs::create_directories(p.parent_path());
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::pwrite(fd, "HEAD", 4, 0) == 4);
  REQUIRE(::pwrite(fd, "TAIL", 4, static_cast<off_t>(kHole)) == 4);
  ::close(fd);
  struct stat st;
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_blocks * 512 < static_cast<off_t>(kHole);
}

// The copy has the source's size and bytes, and a few blocks, not 1 GiB.
void check_sparse_copy(const fs::path& copy) {
  INFO(copy.string());
  struct stat st;
  REQUIRE(::stat(copy.c_str(), &st) == 0);
  CHECK(static_cast<std::uint64_t>(st.st_size) == kHole + 4);
  CHECK(st.st_blocks * 512 <= 64 * 1024);  // main: 1 GiB of NULs written
  int fd = ::open(copy.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  char head[4] = {}, mid[4] = {1, 1, 1, 1}, tail[4] = {};
  CHECK(::pread(fd, head, 4, 0) == 4);
  CHECK(::pread(fd, mid, 4, static_cast<off_t>(kHole / 2)) == 4);
  CHECK(::pread(fd, tail, 4, static_cast<off_t>(kHole)) == 4);
  ::close(fd);
  CHECK(std::string(head, 4) == "HEAD");
  CHECK(std::string(mid, 4) == std::string(4, '\0'));
  CHECK(std::string(tail, 4) == "TAIL");
}

}  // namespace

TEST_CASE("log_artifact, log_artifacts and log_model copy a sparse source sparse: holes stay holes (issue 15)",
          "[artifact_copy]") {
  TempDir t;
  Store store = Store::open(opts(t));
  ActiveRun run = store.start_run({.run_name = "sparse"});
  const fs::path src = t.path() / "src";
  if (!make_sparse(src / "ckpt.bin") || !make_sparse(src / "dir/ckpt.bin") || !make_sparse(src / "model/ckpt.bin")) {
    WARN("this file system has no sparse files: nothing to check");
    return;
  }
  const fs::path arts = t.path() / "mlruns" / run.experiment_id() / run.id() / "artifacts";
  REQUIRE(run.log_artifact((src / "ckpt.bin").string(), "one").is_ok());
  check_sparse_copy(arts / "one/ckpt.bin");
  REQUIRE(store.log_artifacts(run.id(), (src / "dir").string(), "many").is_ok());
  check_sparse_copy(arts / "many/ckpt.bin");
  auto m = run.log_model((src / "model").string(), {.artifact_path = "model", .flavor = "tensorrt"});
  REQUIRE(m);
  check_sparse_copy(arts / "model/ckpt.bin");
}

TEST_CASE("a source with NULs written out (no holes) is copied with its runs of NUL blocks as holes, bytes equal",
          "[artifact_copy]") {
  TempDir t;
  Store store = Store::open(opts(t));
  ActiveRun run = store.start_run({.run_name = "dense zeros"});
  // data, 64 NUL blocks, a block half data, 3 NUL blocks, a short data block, 2 NUL blocks and an unaligned NUL tail
  std::string bytes = std::string(4096, 'a') + std::string(64 * 4096, '\0') + std::string(2048, 'b') +
                      std::string(2048 + 3 * 4096, '\0') + std::string(100, 'c') + std::string(3996 + 2 * 4096 + 300, '\0');
  const fs::path src = t.path() / "dense.bin";
  write_file(src, bytes);
  REQUIRE(run.log_artifact(src.string(), "d").is_ok());
  const fs::path copy = t.path() / "mlruns" / run.experiment_id() / run.id() / "artifacts/d/dense.bin";
  CHECK(read_file(copy) == bytes);
  struct stat in, out;
  REQUIRE(::stat(src.c_str(), &in) == 0);
  REQUIRE(::stat(copy.c_str(), &out) == 0);
  if (in.st_blocks * 512 >= static_cast<off_t>(bytes.size()))  // NULs on disk in the source
    CHECK(out.st_blocks < in.st_blocks);
}
