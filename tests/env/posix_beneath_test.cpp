// Env::posix_beneath (env.h): the confined POSIX Env every verb works
// through (issue 15 items 1 and 6), with openat2 and with the openat walk
// used where the kernel has no openat2.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>

#include "env/posix_beneath.h"
#include "mlruns/env.h"
#include "test_util.h"

using namespace mlruns;
using namespace mlruns::testing;

namespace {

struct WalkMode {
  explicit WalkMode(bool walk) { detail::set_openat2_enabled(!walk); }
  ~WalkMode() { detail::set_openat2_enabled(true); }
};

}  // namespace

TEST_CASE("posix_beneath refuses paths outside its root and links at any component", "[env][beneath]") {
  for (bool walk : {false, true}) {
    WalkMode mode(walk);
    INFO((walk ? "openat walk" : "openat2"));
    TempDir tmp;
    fs::path root = tmp.path() / "tree";
    fs::path out = tmp.path() / "outside";
    write_file(root / "a" / "b" / "file", "in");
    write_file(out / "secret", "out");
    fs::create_directory_symlink(out, root / "a" / "link");
    fs::create_symlink(out / "secret", root / "a" / "b" / "flink");
    auto env = Env::posix_beneath(root.string());
    const std::string r = root.string();

    CHECK(*env->read_file(r + "/a/b/file", 100, false) == "in");
    // Outside the root, and a sibling whose name starts like the root.
    auto o = env->read_file(out.string() + "/secret", 100, false);
    REQUIRE_FALSE(o);
    CHECK(o.error().code() == Code::kFailedPrecondition);
    CHECK(o.error().message().find("outside the tree") != std::string::npos);
    write_file(tmp.path() / "tree-sibling" / "x", "x");
    CHECK_FALSE(env->read_file((tmp.path() / "tree-sibling" / "x").string(), 100, false));
    // ".." is refused lexically; a link in the middle or at the end is never followed.
    auto dots = env->read_file(r + "/a/../../outside/secret", 100, false);
    REQUIRE_FALSE(dots);
    CHECK(dots.error().code() == Code::kInvalidArgument);
    auto mid = env->read_file(r + "/a/link/secret", 100, false);
    REQUIRE_FALSE(mid);
    CHECK(mid.error().message().find("symbolic link") != std::string::npos);
    CHECK_FALSE(env->read_file(r + "/a/b/flink", 100, false));
    CHECK_FALSE(env->new_appendable_file(r + "/a/b/flink"));
    CHECK_FALSE(env->new_writable_file(r + "/a/link/new", false));
    CHECK_FALSE(env->create_dir(r + "/a/link/new"));
    CHECK_FALSE(env->create_dirs(r + "/a/link/new/deeper"));
    CHECK_FALSE(env->list_dir(r + "/a/link"));
    CHECK_FALSE(env->touch(r + "/a/link/secret"));
    CHECK_FALSE(env->rename(r + "/a/b/file", r + "/a/link/moved"));
    CHECK_FALSE(env->remove_file(r + "/a/link/secret"));
    CHECK(env->stat(r + "/a/link", true)->type == FileType::kSymlink);  // never followed
    // Operating on a link itself (rename, unlink) is fine: it stays a link.
    REQUIRE(env->rename(r + "/a/b/flink", r + "/a/b/flink2"));
    REQUIRE(env->remove_file(r + "/a/b/flink2"));
    REQUIRE(env->remove_tree(r + "/a/link"));  // unlinks the link only
    CHECK(read_file(out / "secret") == "out");
    CHECK(fs::exists(out / "secret"));
    // Inside, everything works as before.
    REQUIRE(env->create_dirs(r + "/x/y/z"));
    REQUIRE(env->new_writable_file(r + "/x/y/z/f", true));
    CHECK(env->stat(r + "/x/y/z/f")->type == FileType::kRegular);
    CHECK(*env->real_path(r + "/x/y") == fs::canonical(root / "x" / "y").string());
    REQUIRE(env->remove_tree(r + "/x"));
    CHECK_FALSE(fs::exists(root / "x"));
  }
}

TEST_CASE("posix_beneath never blocks on a FIFO and refuses what is not a regular file", "[env][beneath]") {
  TempDir tmp;
  fs::path root = tmp.path() / "tree";
  fs::create_directories(root);
  REQUIRE(::mkfifo((root / "fifo").c_str(), 0644) == 0);
  auto env = Env::posix_beneath(root.string());
  // Each of these would block forever on a FIFO without O_NONBLOCK.
  CHECK_FALSE(env->read_file((root / "fifo").string(), 100, false));
  CHECK_FALSE(env->new_sequential_file((root / "fifo").string()));
  CHECK_FALSE(env->new_appendable_file((root / "fifo").string()));
  CHECK_FALSE(env->new_writable_file((root / "fifo").string(), false));
}

TEST_CASE("posix_beneath's root may be reached through the user's own link, an added root may not be one",
          "[env][beneath]") {
  TempDir tmp;
  fs::path real = tmp.path() / "real";
  write_file(real / "f", "x");
  fs::create_directory_symlink(real, tmp.path() / "via");
  auto env = Env::posix_beneath((tmp.path() / "via").string());
  CHECK(*env->read_file((tmp.path() / "via" / "f").string(), 10, false) == "x");
  // A root added for an artifact folder outside the tree: a link there is refused.
  fs::path loc = tmp.path() / "loc";
  fs::create_directories(loc);
  fs::create_directory_symlink(real, loc / "run");
  REQUIRE(env->add_root((loc / "run").string()));
  CHECK_FALSE(env->read_file((loc / "run" / "f").string(), 10, false));
  CHECK(env->unconfined() == Env::posix());
}

TEST_CASE("remove_tree removes folders nested deeper than PATH_MAX (issue 15 item 6)", "[env][beneath]") {
  TempDir tmp;
  fs::path root = tmp.path() / "tree";
  const int depth = PATH_MAX / 8 * 3;  // each level adds "dddddd/" (7 bytes): 1536 * 7 > PATH_MAX
  REQUIRE(depth * 7 > PATH_MAX);
  auto confined = Env::posix_beneath(root.string());
  for (Env* env : {Env::posix(), confined.get()}) {
    fs::create_directories(root / "top");
    make_nested_dirs(root / "top", depth, "dddddd");
    write_file(root / "top" / "dddddd" / "leaf", "x");
    Status s = env->remove_tree((root / "top").string());
    INFO((env == Env::posix() ? "posix" : "posix_beneath") << ": " << s.to_string());
    CHECK(s);
    CHECK_FALSE(fs::exists(root / "top"));
  }
}

TEST_CASE("posix_beneath never modifies a file in place through a hard link: append, truncate and rewrite get a "
          "file of their own (issue 15, docs/hpc.md)",
          "[env][beneath][hardlink]") {
  for (bool walk : {false, true}) {
    WalkMode mode(walk);
    INFO((walk ? "openat walk" : "openat2"));
    TempDir tmp;
    fs::path root = tmp.path() / "tree";
    fs::path out = tmp.path() / "outside";
    write_file(out / "loss", "1 1.0 0\n1 2");  // ends in a fragment that a repair would cut
    write_file(out / "whole", "1 1.0 0\n");
    write_file(out / "meta", "x");
    write_file(root / "run" / "metrics" / "placeholder", "");
    fs::create_hard_link(out / "loss", root / "run" / "metrics" / "loss");
    fs::create_hard_link(out / "whole", root / "run" / "metrics" / "whole");
    fs::create_hard_link(out / "meta", root / "run" / "meta.yaml");
    ::chmod((out / "whole").c_str(), 0640);
    auto env = Env::posix_beneath(root.string());
    const std::string run = (root / "run").string();

    auto f = env->reopen_appendable_file(run + "/metrics/loss");
    REQUIRE(f);
    REQUIRE((*f)->truncate(8).is_ok());  // as cut_partial_line does
    REQUIRE((*f)->append("2 2.0 1\n").is_ok());
    REQUIRE((*f)->close().is_ok());
    CHECK(read_file(out / "loss") == "1 1.0 0\n1 2");
    CHECK(read_file(root / "run" / "metrics" / "loss") == "1 1.0 0\n2 2.0 1\n");
    CHECK(fs::hard_link_count(root / "run" / "metrics" / "loss") == 1);

    auto g = env->new_appendable_file(run + "/metrics/whole");
    REQUIRE(g);
    REQUIRE((*g)->append("3 3.0 2\n").is_ok());
    CHECK(read_file(out / "whole") == "1 1.0 0\n");
    CHECK(read_file(root / "run" / "metrics" / "whole") == "1 1.0 0\n3 3.0 2\n");
    CHECK((fs::status(root / "run" / "metrics" / "whole").permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));

    auto h = env->new_writable_file(run + "/meta.yaml");  // O_TRUNC would empty the outside file
    REQUIRE(h);
    REQUIRE((*h)->append("y").is_ok());
    CHECK(read_file(out / "meta") == "x");
    CHECK(read_file(root / "run" / "meta.yaml") == "y");
    fs::create_hard_link(out / "meta", root / "run" / "meta2");
    CHECK_FALSE(env->touch(run + "/meta2").is_ok());  // an mtime is shared by both names

    // No temp file is left, none inside metrics/ (MLflow would read it as a key).
    std::size_t entries = 0;
    for (const auto& e : fs::directory_iterator(root / "run" / "metrics")) entries += e.path().filename() != "";
    CHECK(entries == 3);
    for (const auto& e : fs::directory_iterator(root / "run"))
      CHECK(e.path().filename().string().rfind(".mlruns-tmp-", 0) == std::string::npos);
  }
}
