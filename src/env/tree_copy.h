// Copying a folder tree by directory descriptors (download_artifacts and
// download_model, read/download.cpp; get-top-run -d uses the same call): no
// path longer than one name is ever built, so a tree nested deeper than
// PATH_MAX copies like any other (issue 15, finding 5 of the s4 re-test).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <unistd.h>

#include "mlruns/env.h"
#include "mlruns/status.h"

namespace mlruns::detail {

// Opens the folder `path` through `env` as a directory descriptor the
// caller owns (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC): for
// Env::posix_beneath() no link is followed at any component, for
// Env::posix() none at the last. Any other Env (an EnvWrapper of a test)
// gives kNotSupported, and the caller keeps to the Env's own calls.
Result<int> open_dir_fd(Env& env, const std::string& path);

struct Fd {  // a descriptor owned: closed when destroyed or reset
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(-1); }
  void reset(int f) {
    if (fd >= 0) ::close(fd);
    fd = f;
  }
};

struct TreeCopyOptions {
  bool sync = false;         // fsync every file and folder written
  std::size_t threads = 8;   // files of one folder copied at once
  // A link, FIFO, socket or device found below the source: not copied.
  std::function<void(const std::string& path, const std::string& message)> warn;
  // Bytes copied (data or hole); called from several threads at once.
  std::function<void(std::uint64_t)> on_bytes;
};

struct TreeCopyCounts {
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
};

// Bytes of the regular files below the folder open as `src` (not closed
// here), without following links; for progress totals. `shown` names it.
Result<std::uint64_t> measure_tree_fd(int src, const std::string& shown);

// Copies everything below the folder open as `src` into the empty folder
// open as `dst` (neither closed here): folders by mkdirat, regular files by
// openat(O_NOFOLLOW | O_NONBLOCK) then fstat (a FIFO swapped in never
// blocks) and copy_sparse (holes stay holes), each file's size checked
// against its fstat. Links and other non-regular files are skipped with
// `warn`. The walk holds two descriptors per side at a time: it goes down by
// openat(O_NOFOLLOW) and back up by "..", checking device and inode, so depth
// is bounded only by memory (one name per level); a folder moved meanwhile
// stops the copy with kFailedPrecondition. `shown_src`/`shown_dst` name the
// two folders in errors and warnings.
Result<TreeCopyCounts> copy_tree_fd(int src, int dst, const std::string& shown_src, const std::string& shown_dst,
                                    const TreeCopyOptions& options);

}  // namespace mlruns::detail
