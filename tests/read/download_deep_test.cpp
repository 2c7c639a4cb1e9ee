// download_artifacts of a folder nested deeper than PATH_MAX: copied by
// directory descriptors (src/env/tree_copy.cpp), every level, byte for byte,
// holes kept, links and FIFOs deep inside skipped with a warning (issue 15,
// finding 5 of the s4 re-test: "File name too long", exit 8).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "mlruns/download.h"
#include "mlruns/env.h"
#include "reader_test_util.h"

using namespace mlruns;
using namespace mlruns::testing;

namespace {

const char* kRun = "73f6c94fec5f46348c1e98db961d2709";  // mlflow-3.8
const char* kExperiment = "763558276457519285";
constexpr int kLevels = 1000;
const std::string kLevelName = "nested-level";  // 13 bytes a level with its '/': 13,000 in all
constexpr off_t kSparseSize = 8 << 20;

std::string level_bytes(int level) {
  std::string s;
  for (int i = 0; i < 300; ++i) s += "level " + std::to_string(level) + " line " + std::to_string(i) + "\n";
  return s;
}

void write_at(int dir, const std::string& name, const std::string& data) {
  int fd = ::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  ::close(fd);
}

std::string read_at(int dir, const std::string& name) {
  int fd = ::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return "<missing>";
  std::string out;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

bool exists_at(int dir, const std::string& name) {
  struct stat st;
  return ::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

// Goes one level down (the descriptor of `dir` is closed); -1 if there is none.
int down(int dir) {
  int next = ::openat(dir, kLevelName.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  ::close(dir);
  return next;
}

}  // namespace

TEST_CASE("download copies a folder 1,000 levels deep (beyond PATH_MAX) by descriptors (issue 15)",
          "[download][deep]") {
  TempDir tmp;
  fs::path root = copy_fixture("mlflow-3.8", tmp.path());
  fs::path arts = root / kExperiment / kRun / "artifacts";
  write_file(tmp.path() / "secret.txt", "secret");
  REQUIRE(kLevels * static_cast<int>(kLevelName.size() + 1) > PATH_MAX);

  // artifacts/deep/nested-level/.../nested-level: a file every 100 levels,
  // a link and a FIFO at level 500, a sparse and a dense file at the bottom.
  fs::create_directory(arts / "deep");
  int dir = ::open((arts / "deep").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(dir >= 0);
  for (int level = 1; level <= kLevels; ++level) {
    REQUIRE(::mkdirat(dir, kLevelName.c_str(), 0755) == 0);
    dir = down(dir);
    REQUIRE(dir >= 0);
    if (level % 100 == 0) write_at(dir, "data.txt", level_bytes(level));
    if (level == 500) {
      REQUIRE(::symlinkat((tmp.path() / "secret.txt").c_str(), dir, "link") == 0);
      REQUIRE(::mkfifoat(dir, "pipe", 0644) == 0);
    }
  }
  write_at(dir, "bottom.bin", std::string(100000, 'x') + "end");
  int sparse = ::openat(dir, "sparse.bin", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  REQUIRE(sparse >= 0);
  REQUIRE(::pwrite(sparse, "z", 1, kSparseSize - 1) == 1);
  ::close(sparse);
  ::close(dir);

  Warnings warnings;
  auto reader = Reader::open(root.string(), warnings.options());
  REQUIRE(reader);
  fs::path dest = tmp.path() / "out";
  auto r = download_artifacts(*reader, kRun, "deep", dest.string());
  REQUIRE(r);
  CHECK(r->local_path == (dest / "deep").string());
  CHECK(r->files == kLevels / 100 + 2);
  std::uint64_t bytes = 100003 + kSparseSize;
  for (int level = 100; level <= kLevels; level += 100) bytes += level_bytes(level).size();
  CHECK(r->bytes == bytes);
  CHECK(warnings.has("link", "symbolic link"));
  CHECK(warnings.has("pipe", "not a regular file"));

  // The copy, level by level: the same depth, the same bytes, no link, no FIFO.
  dir = ::open((dest / "deep").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(dir >= 0);
  int depth = 0;
  bool same = true;
  for (int next; (next = down(dir)) >= 0; dir = next) {
    ++depth;
    if (depth % 100 == 0 && read_at(next, "data.txt") != level_bytes(depth)) same = false;
    if (depth % 100 != 0 && exists_at(next, "data.txt")) same = false;
    if (depth == 500) {
      CHECK_FALSE(exists_at(next, "link"));
      CHECK_FALSE(exists_at(next, "pipe"));
    }
    if (depth == kLevels) {
      CHECK(read_at(next, "bottom.bin") == std::string(100000, 'x') + "end");
      struct stat st;
      REQUIRE(::fstatat(next, "sparse.bin", &st, AT_SYMLINK_NOFOLLOW) == 0);
      CHECK(st.st_size == kSparseSize);
      CHECK(st.st_blocks * 512 < kSparseSize / 4);  // the hole stayed a hole
      CHECK(read_at(next, "sparse.bin").back() == 'z');
    }
  }
  CHECK(depth == kLevels);
  CHECK(same);
  // No staging folder is left beside the result.
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dest)) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 1);

  // fs::remove_all works by paths: the deep trees go by descriptors.
  CHECK(Env::posix()->remove_tree((dest / "deep").string()));
  CHECK(Env::posix()->remove_tree((arts / "deep").string()));
}
