// download_artifacts: found in moved trees, written to a temporary sibling and
// renamed into place, sizes verified, existing targets never silently replaced.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "mlruns/download.h"
#include "mlruns/env.h"
#include "reader_test_util.h"

using namespace mlruns;
using namespace mlruns::testing;

namespace {

const char* kBestRun = "73f6c94fec5f46348c1e98db961d2709";  // mlflow-3.8, has checkpoint_000010/
const char* kExp = "763558276457519285";

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Fails the Nth append of any written file, after writing part of it: a
// full disk or a killed copy in the middle of a checkpoint.
class FailingWriteEnv : public EnvWrapper {
 public:
  explicit FailingWriteEnv(int fail_at_append) : EnvWrapper(Env::posix()), fail_at_(fail_at_append) {}

  Result<std::unique_ptr<WritableFile>> new_writable_file(const std::string& p, bool excl) override {
    auto f = target()->new_writable_file(p, excl);
    if (!f) return f;
    return std::unique_ptr<WritableFile>(new File(std::move(*f), this));
  }

 private:
  class File : public WritableFile {
   public:
    File(std::unique_ptr<WritableFile> base, FailingWriteEnv* env) : base_(std::move(base)), env_(env) {}
    Status append(std::string_view data) override {
      if (++env_->appends_ == env_->fail_at_) {
        (void)base_->append(data.substr(0, data.size() / 2));
        return Status::io_error("test", "no space left on device (injected)");
      }
      return base_->append(data);
    }
    Status truncate(std::uint64_t size) override { return base_->truncate(size); }
    Result<std::uint64_t> size() override { return base_->size(); }
    Status sync() override { return base_->sync(); }
    Status close() override { return base_->close(); }

   private:
    std::unique_ptr<WritableFile> base_;
    FailingWriteEnv* env_;
  };

  int fail_at_;
  int appends_ = 0;
};

}  // namespace

TEST_CASE("download finds artifacts of a moved tree inside the tree (spec §8.2, §14.12)", "[download]") {
  TempDir tmp;
  fs::path root = copy_fixture("mlflow-3.8", tmp.path() / "elsewhere");
  auto reader = Reader::open(root.string());
  REQUIRE(reader);
  auto art_root = reader->artifact_root(kBestRun);
  REQUIRE(art_root);
  CHECK(*art_root == (fs::canonical(root) / kExp / kBestRun / "artifacts").string());

  std::uint64_t last_done = 0, last_total = 0;
  int calls = 0;
  DownloadOptions opts;
  opts.on_progress = [&](std::uint64_t done, std::uint64_t total) {
    CHECK(done >= last_done);
    last_done = done;
    last_total = total;
    ++calls;
  };
  fs::path dest = tmp.path() / "out";
  auto r = download_artifacts(*reader, kBestRun, "checkpoint_000010", dest.string(), opts);
  REQUIRE(r);
  CHECK(r->local_path == (dest / "checkpoint_000010").string());
  CHECK(r->files == 2);
  CHECK(r->bytes == 71 + 146);
  CHECK(calls >= 2);
  CHECK(last_done == 217);
  CHECK(last_total == 217);
  fs::path src = root / kExp / kBestRun / "artifacts" / "checkpoint_000010";
  CHECK(read_file(dest / "checkpoint_000010" / "policy_state.pkl") == read_file(src / "policy_state.pkl"));
  CHECK(read_file(dest / "checkpoint_000010" / "rllib_checkpoint.json") == read_file(src / "rllib_checkpoint.json"));
  CHECK(names_in(dest) == std::vector<std::string>{"checkpoint_000010"});  // no temporary left
}

TEST_CASE("download of all artifacts and of one file", "[download]") {
  TempDir tmp;
  fs::path root = copy_fixture("mlflow-3.8", tmp.path());
  auto reader = Reader::open(root.string());
  REQUIRE(reader);
  fs::path dest = tmp.path() / "out";

  auto all = download_artifacts(*reader, kBestRun, "", dest.string());
  REQUIRE(all);
  CHECK(all->local_path == (dest / "artifacts").string());
  CHECK(all->files == 4);
  CHECK(read_file(dest / "artifacts" / "eval" / "summary report.txt").size() == 27);

  auto one = download_artifacts(*reader, kBestRun, "eval/summary report.txt", dest.string());
  REQUIRE(one);
  CHECK(one->local_path == (dest / "summary report.txt").string());
  CHECK(one->files == 1);
  CHECK(one->bytes == 27);
  CHECK(names_in(dest) == std::vector<std::string>{"artifacts", "summary report.txt"});
}

TEST_CASE("a sparse artifact is downloaded sparse: its holes cost no reads, writes or disk blocks (issue 15)",
          "[download]") {
  TempDir tmp;
  fs::path root = copy_fixture("mlflow-3.8", tmp.path());
  auto reader = Reader::open(root.string());
  REQUIRE(reader);
  const fs::path art = *reader->artifact_root(kBestRun);
  constexpr std::uint64_t kHole = 1ull << 30;  // 1 GiB apparent, a few bytes of data
  // "HEAD", a hole, "TAIL"; and a file that ends in a hole (its size set by ftruncate).
  {
    int fd = ::open((art / "sparse.bin").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::pwrite(fd, "HEAD", 4, 0) == 4);
    REQUIRE(::pwrite(fd, "TAIL", 4, static_cast<off_t>(kHole)) == 4);
    ::close(fd);
    fd = ::open((art / "ends_in_hole.bin").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::pwrite(fd, "DATA", 4, 0) == 4);
    REQUIRE(::ftruncate(fd, static_cast<off_t>(kHole)) == 0);
    ::close(fd);
  }
  struct stat src;
  REQUIRE(::stat((art / "sparse.bin").c_str(), &src) == 0);
  if (src.st_blocks * 512 >= static_cast<off_t>(kHole)) {
    WARN("this file system has no sparse files: nothing to check");
    return;
  }
  std::uint64_t last_done = 0;
  DownloadOptions o;
  o.on_progress = [&](std::uint64_t done, std::uint64_t) { last_done = done; };
  const fs::path dest = tmp.path() / "out";
  for (const char* name : {"sparse.bin", "ends_in_hole.bin"}) {
    INFO(name);
    auto got = download_artifacts(*reader, kBestRun, name, dest.string(), o);
    REQUIRE(got);
    struct stat st;
    REQUIRE(::stat((dest / name).c_str(), &st) == 0);
    struct stat in;
    REQUIRE(::stat((art / name).c_str(), &in) == 0);
    CHECK(st.st_size == in.st_size);                 // the same apparent size
    CHECK(st.st_blocks * 512 <= 64 * 1024);          // main: 1 GiB of NULs written
    CHECK(got->bytes == static_cast<std::uint64_t>(in.st_size));
    // The same bytes where there is data, NULs in the hole.
    int fd = ::open((dest / name).c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    char buf[5] = {0};
    CHECK(::pread(fd, buf, 4, 0) == 4);
    CHECK(std::string(buf) == (std::string(name) == "sparse.bin" ? "HEAD" : "DATA"));
    char mid[4] = {1, 1, 1, 1};
    CHECK(::pread(fd, mid, 4, static_cast<off_t>(kHole / 2)) == 4);
    CHECK(std::string(mid, 4) == std::string(4, '\0'));
    if (std::string(name) == "sparse.bin") {
      CHECK(::pread(fd, buf, 4, static_cast<off_t>(kHole)) == 4);
      CHECK(std::string(buf) == "TAIL");
    }
    ::close(fd);
  }
  CHECK(last_done >= kHole);  // progress counts the holes as done
}

TEST_CASE("download refuses an existing target unless told to overwrite, then replaces it", "[download]") {
  TempDir tmp;
  fs::path root = copy_fixture("mlflow-3.8", tmp.path());
  auto reader = Reader::open(root.string());
  REQUIRE(reader);
  fs::path dest = tmp.path() / "out";
  write_file(dest / "checkpoint_000010" / "old.txt", "old");

  auto refused = download_artifacts(*reader, kBestRun, "checkpoint_000010", dest.string());
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == Code::kAlreadyExists);
  // One sentence a caller shows as is, ending in the caller's own way to ask for overwrite.
  CHECK(refused.error().message() == (dest / "checkpoint_000010").string() +
                                         " is already there (an earlier download?); set DownloadOptions::overwrite to "
                                         "replace it");
  DownloadOptions hinted;
  hinted.overwrite_hint = "add --overwrite to replace it";
  auto refused_cli = download_artifacts(*reader, kBestRun, "checkpoint_000010", dest.string(), hinted);
  REQUIRE_FALSE(refused_cli);
  CHECK(refused_cli.error().message() ==
        (dest / "checkpoint_000010").string() + " is already there (an earlier download?); add --overwrite to replace it");
  CHECK(read_file(dest / "checkpoint_000010" / "old.txt") == "old");

  DownloadOptions opts;
  opts.overwrite = true;
  auto replaced = download_artifacts(*reader, kBestRun, "checkpoint_000010", dest.string(), opts);
  REQUIRE(replaced);
  CHECK(names_in(dest / "checkpoint_000010") == std::vector<std::string>{"policy_state.pkl", "rllib_checkpoint.json"});
  CHECK(names_in(dest) == std::vector<std::string>{"checkpoint_000010"});

  // A single file is replaced too.
  write_file(dest / "params.json", "stale");
  REQUIRE_FALSE(download_artifacts(*reader, kBestRun, "params.json", dest.string()));
  CHECK(read_file(dest / "params.json") == "stale");
  REQUIRE(download_artifacts(*reader, kBestRun, "params.json", dest.string(), opts));
  CHECK(read_file(dest / "params.json").size() == 76);
}

TEST_CASE("an interrupted download leaves neither the target nor a temporary", "[download]") {
  TempDir tmp;
  fs::path root = copy_fixture("mlflow-3.8", tmp.path());
  for (int fail_at : {1, 2}) {
    FailingWriteEnv env(fail_at);
    ReaderOptions ro;
    ro.env = &env;
    auto reader = Reader::open(root.string(), ro);
    REQUIRE(reader);
    fs::path dest = tmp.path() / ("out" + std::to_string(fail_at));
    auto r = download_artifacts(*reader, kBestRun, "checkpoint_000010", dest.string());
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("injected") != std::string::npos);
    CHECK(names_in(dest).empty());
  }
  // With overwrite, the old copy survives a failed replacement.
  FailingWriteEnv env(2);
  ReaderOptions ro;
  ro.env = &env;
  auto reader = Reader::open(root.string(), ro);
  REQUIRE(reader);
  fs::path dest = tmp.path() / "out-old";
  write_file(dest / "checkpoint_000010" / "old.txt", "old");
  DownloadOptions opts;
  opts.overwrite = true;
  REQUIRE_FALSE(download_artifacts(*reader, kBestRun, "checkpoint_000010", dest.string(), opts));
  CHECK(read_file(dest / "checkpoint_000010" / "old.txt") == "old");
  CHECK(names_in(dest) == std::vector<std::string>{"checkpoint_000010"});
}

TEST_CASE("download validates the artifact path and never follows symlinks", "[download]") {
  TempDir tmp;
  fs::path root = copy_fixture("mlflow-3.8", tmp.path());
  fs::path arts = root / kExp / kBestRun / "artifacts";
  write_file(tmp.path() / "secret" / "key.txt", "secret");
  fs::create_directory_symlink(tmp.path() / "secret", arts / "linked_dir");
  fs::create_symlink(tmp.path() / "secret" / "key.txt", arts / "checkpoint_000010" / "linked_file");
  Warnings warnings;
  auto reader = Reader::open(root.string(), warnings.options());
  REQUIRE(reader);
  fs::path dest = tmp.path() / "out";

  for (const char* bad : {"../x", "/etc/passwd", "a/../b", "a/.."}) {
    INFO(bad);
    auto r = download_artifacts(*reader, kBestRun, bad, dest.string());
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Code::kInvalidArgument);
  }
  // Other spellings of a path are folded first (normalize_artifact_path, include/mlruns/key.h):
  // "a//b" and "./a" name a/b and a, which this run does not have.
  for (const char* other : {"a//b", "./a"}) {
    INFO(other);
    auto r = download_artifacts(*reader, kBestRun, other, dest.string());
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Code::kNotFound);
  }
  auto via_link = download_artifacts(*reader, kBestRun, "linked_dir/key.txt", dest.string());
  REQUIRE_FALSE(via_link);
  auto link = download_artifacts(*reader, kBestRun, "linked_dir", dest.string());
  REQUIRE_FALSE(link);
  CHECK(link.error().code() == Code::kInvalidArgument);

  auto r = download_artifacts(*reader, kBestRun, "checkpoint_000010", dest.string());
  REQUIRE(r);
  CHECK(r->files == 2);
  CHECK_FALSE(fs::exists(dest / "checkpoint_000010" / "linked_file"));
  CHECK(warnings.has("linked_file", "symbolic link"));

  auto missing = download_artifacts(*reader, kBestRun, "no_such_checkpoint", dest.string());
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == Code::kNotFound);
}

TEST_CASE("artifact_uri is used when it exists and names the run's artifacts, never a hostile path", "[download]") {
  TempDir tmp;
  const std::string exp = "1", run = "0123456789abcdef0123456789abcdef";
  fs::path root = tmp.path() / "mlruns";
  write_file(root / exp / "meta.yaml", exp_meta(exp, "e"));
  fs::path external = tmp.path() / "shared" / "art" / exp / run / "artifacts";
  write_file(external / "model.pt", "weights");
  write_file(root / exp / run / "artifacts" / "in_tree.txt", "x");

  // The experiment's artifact_location is <shared>/art/<exp>, as MLflow
  // records it when the experiment is created with that location.
  auto set_location = [&](const fs::path& location) {
    std::string m = exp_meta(exp, "e");
    m.replace(0, m.find('\n'), "artifact_location: file://" + location.string());
    write_file(root / exp / "meta.yaml", m);
  };
  auto set_uri = [&](const std::string& id, const fs::path& uri) {
    std::string meta = run_meta(exp, id);
    meta.replace(meta.find("file://"), meta.find('\n') - meta.find("file://"), "file://" + uri.string());
    write_file(root / exp / id / "meta.yaml", meta);
  };
  SECTION("an existing external artifact location is used") {
    set_location(tmp.path() / "shared" / "art" / exp);
    set_uri(run, external);
    auto reader = Reader::open(root.string());
    REQUIRE(reader);
    CHECK(*reader->artifact_root(run) == external.string());
    auto r = download_artifacts(*reader, run, "model.pt", (tmp.path() / "out").string());
    REQUIRE(r);
    CHECK(read_file(tmp.path() / "out" / "model.pt") == "weights");
  }
  SECTION("outside the tree, <location>/<run_id>/artifacts of another location than the experiment's is ignored "
          "(issue 15)") {
    set_location(tmp.path() / "elsewhere");
    set_uri(run, external);
    Warnings w;
    auto reader = Reader::open(root.string(), w.options());
    REQUIRE(reader);
    CHECK(*reader->artifact_root(run) == (fs::canonical(root) / exp / run / "artifacts").string());
    CHECK(w.has("meta.yaml", "of the run's experiment"));
    auto r = download_artifacts(*reader, run, "", (tmp.path() / "out").string());
    REQUIRE(r);
    CHECK(fs::exists(tmp.path() / "out" / "artifacts" / "in_tree.txt"));  // <dest>/artifacts (download.h)
    CHECK_FALSE(fs::exists(tmp.path() / "out" / "artifacts" / "model.pt"));
  }
  SECTION("outside the tree, a run id that is not uuid4().hex never names a folder (issue 15, spec §4.4)") {
    const std::string victim = "victim";  // a valid run id (§4.4's regex) a tree's author chose
    set_location(tmp.path() / "shared" / "art" / exp);
    write_file(tmp.path() / "shared" / "art" / exp / victim / "artifacts" / "secret.txt", "s");
    write_file(root / exp / victim / "artifacts" / "in_tree.txt", "x");
    set_uri(victim, tmp.path() / "shared" / "art" / exp / victim / "artifacts");
    Warnings w;
    auto reader = Reader::open(root.string(), w.options());
    REQUIRE(reader);
    CHECK(*reader->artifact_root(victim) == (fs::canonical(root) / exp / victim / "artifacts").string());
    CHECK(w.has("meta.yaml", "uuid4().hex"));
  }
  SECTION("a URI that does not end with <run>/artifacts is ignored") {
    std::string meta = run_meta(exp, run);
    meta.replace(meta.find("file://"), meta.find('\n') - meta.find("file://"), "file://" + tmp.path().string());
    write_file(root / exp / run / "meta.yaml", meta);
    Warnings w;
    auto reader = Reader::open(root.string(), w.options());
    REQUIRE(reader);
    CHECK(*reader->artifact_root(run) == (fs::canonical(root) / exp / run / "artifacts").string());
    CHECK(w.has("meta.yaml", "does not end with"));
  }
  SECTION("a URI with .. is ignored") {
    std::string meta = run_meta(exp, run);
    std::string hostile = (tmp.path() / "shared" / ".." / "shared" / "art" / exp / run / "artifacts").string();
    meta.replace(meta.find("file://"), meta.find('\n') - meta.find("file://"), hostile);
    write_file(root / exp / run / "meta.yaml", meta);
    Warnings w;
    auto reader = Reader::open(root.string(), w.options());
    REQUIRE(reader);
    CHECK(*reader->artifact_root(run) == (fs::canonical(root) / exp / run / "artifacts").string());
    // The warning names the folder it names once folded, and the rule (issue 15).
    CHECK(w.has("meta.yaml", "its '..' folded lexically"));
    CHECK(w.has("meta.yaml", (tmp.path() / "shared" / "art" / exp / run / "artifacts").string()));
  }
  SECTION("a URI naming a symbolic link: the warning says what was found and what was read instead (issue 15)") {
    const fs::path linked = root / exp / "elsewhere" / run / "artifacts";
    fs::create_directories(linked.parent_path());
    fs::create_directories(tmp.path() / "target");
    fs::create_directory_symlink(tmp.path() / "target", linked);
    std::string meta = run_meta(exp, run);
    meta.replace(meta.find("file://"), meta.find('\n') - meta.find("file://"), "file://" + linked.string());
    write_file(root / exp / run / "meta.yaml", meta);
    Warnings w;
    auto reader = Reader::open(root.string(), w.options());
    REQUIRE(reader);
    const std::string in_tree = (fs::canonical(root) / exp / run / "artifacts").string();
    CHECK(*reader->artifact_root(run) == in_tree);
    // main: "artifact_uri '...' is a symbolic link; not followed, using the artifacts folder inside the tree"
    CHECK(w.has("meta.yaml", "which is a symbolic link: not followed"));
    CHECK(w.has("meta.yaml", "read from '" + in_tree + "' instead"));
  }
  SECTION("a relative URI with .. is refused for its '..', not for its ending (issue 15)") {
    std::string meta = run_meta(exp, run);
    meta.replace(meta.find("file://"), meta.find('\n') - meta.find("file://"), "../elsewhere/" + run + "/artifacts");
    write_file(root / exp / run / "meta.yaml", meta);
    Warnings w;
    auto reader = Reader::open(root.string(), w.options());
    REQUIRE(reader);
    CHECK(*reader->artifact_root(run) == (fs::canonical(root) / exp / run / "artifacts").string());
    CHECK(w.has("meta.yaml", "relative path with a '..' component"));
    CHECK_FALSE(w.has("meta.yaml", "does not end with"));  // main: the wrong reason
  }
}
