// Env: the one seam between mlruns and the file system.
//
// Every file-system call the library makes goes through an Env, so that tests
// can wrap the real one (EnvWrapper) and make any operation fail on purpose:
// ENOSPC on the third append, a rename that never happens, a short write.
// Env::posix() is the real thing. Paths are plain strings; nothing here
// validates names (key.h does that before a name ever becomes a path).
//
// Confinement (docs/hpc.md, security model): every verb works through
// Env::posix_beneath(root), which takes the same path strings but refuses any
// path that is not lexically below one of its roots and never follows a
// symbolic link below a root, at any component: the root is opened once and
// the rest is resolved relative to it (openat2 with RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS, or an openat(O_NOFOLLOW) walk where the kernel lacks
// openat2), and the last step is the *at() call on the parent's descriptor,
// so a link swapped into a live tree gains nothing. A custom Env given in the
// options (tests) is used as it is: wrap Env::posix_beneath(root) to keep the
// confinement.
//
// Thread safety: an Env is safe for concurrent use by many threads. A file
// object is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mlruns/status.h"

namespace mlruns {

// An exclusive advisory lock on a whole file, held until this object is
// destroyed, the file's open file description is closed, or the process
// dies. The POSIX Envs use open-file-description locks (fcntl F_OFD_SETLK):
// owned by the open file, not the process, so two opens in one process
// exclude each other too, and a SIGKILLed holder never leaves one behind;
// NFS passes them to the server's lock manager, Lustre needs -o flock. One
// kind of lock for every caller: WritableFile::lock (appenders of a metric
// file) and Env::lock_file (a lock file, e.g. sync's per-run record).
class FileLock {
 public:
  virtual ~FileLock() = default;
};

// A file open for writing. "Handed to the OS" (append returns) and "on disk"
// (sync returns) are separate moments, as in leveldb's WritableFile.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Writes all of `data`, retrying EINTR and short writes. On failure some
  // prefix of `data` may have reached the file; the caller can truncate().
  virtual Status append(std::string_view data) = 0;
  // Cuts the file back to `size` bytes (to undo a failed append).
  virtual Status truncate(std::uint64_t size) = 0;
  // Extends the file by `n` bytes that read as NULs, and later appends go
  // after them: a hole, costing no disk blocks, where the file system has
  // sparse files (the POSIX Env: ftruncate and lseek); the default appends
  // NULs. How a download keeps a sparse artifact sparse.
  virtual Status append_hole(std::uint64_t n);
  // Current size of the file in bytes.
  virtual Result<std::uint64_t> size() = 0;
  // fsync: the data survives a machine crash once this returns OK.
  virtual Status sync() = 0;
  // Closes the descriptor; further calls fail. The destructor closes too.
  virtual Status close() = 0;

  // Reads up to `n` bytes at byte `offset` into `scratch` (pread(2)); an
  // empty result means `offset` is at or past the end. This is how an
  // appender checks that a file ends in '\n' before it appends (a killed
  // writer may have left a partial line). kNotSupported by default, for
  // files that cannot be read back.
  virtual Result<std::string_view> read_at(std::uint64_t offset, std::size_t n, char* scratch);
  // Takes an exclusive FileLock on the whole file, waiting at most
  // `timeout_ms` for another holder to let go (< 0: without limit, 0: not at
  // all); still held by another then: kFailedPrecondition. Where the file
  // system has no locks (ENOLCK, EINVAL, EOPNOTSUPP, ENOSYS: NFS mounted with
  // -o nolock is node-local, Lustre without -o flock) the result is
  // kNotSupported and callers fall back (docs/crash-semantics.md);
  // kNotSupported is also the default for files that are not POSIX files.
  // REQUIRES: the lock is destroyed before the file is closed.
  virtual Result<std::unique_ptr<FileLock>> lock(std::int64_t timeout_ms);
};

// A file open for reading from the start.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to `n` bytes into `scratch`; an empty result means end of file.
  virtual Result<std::string_view> read(std::size_t n, char* scratch) = 0;
  // Moves the read position `n` bytes forward (sync reads a metric file from
  // the offset it last sent). This default reads and discards.
  virtual Status skip(std::uint64_t n);
  // If the read position is inside a hole of a sparse file, moves it to the
  // hole's end (the next data, or the end of the file: lseek SEEK_DATA) and
  // returns how many bytes it passed over. A hole reads as NULs, which no
  // MLflow file holds, so readers count it as bad data without reading it:
  // a 4 GB file that is one hole costs one call, not 4 GB of reads.
  // 0 when the position is not in a hole, and where the file system or the
  // Env cannot tell (this default).
  virtual Result<std::uint64_t> skip_hole();
};

enum class FileType { kRegular, kDirectory, kSymlink, kOther, kMissing };

struct FileInfo {
  FileType type = FileType::kMissing;
  std::uint64_t size = 0;
  std::int64_t mtime_ms = 0;
  std::int64_t mtime_ns = 0;  // the same, in ns since the epoch (0 where the Env has no such precision)
};

struct DirEntry {
  std::string name{};
  FileType type = FileType::kOther;  // as lstat sees it: a symlink is kSymlink
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide POSIX Env. Never null, never deleted. Follows symbolic
  // links like the shell does: for the user's own paths only (the path to a
  // tree root, an artifact's source, a download's destination).
  static Env* posix();

  // A POSIX Env confined to the folder `root` (absolute or relative to the
  // current directory; it need not exist yet: create_dirs(root) makes it).
  // The path to `root` may contain symbolic links (the user's choice); below
  // it nothing is followed:
  // - a path outside every root fails with kFailedPrecondition ("outside the
  //   tree"), one with a ".." component with kInvalidArgument;
  // - a symbolic link at any component fails with kInvalidArgument ("symbolic
  //   link; not followed"), stat(path) reports a final link as kSymlink even
  //   when asked to follow; a FIFO or device is refused by the read and write
  //   calls without blocking (O_NONBLOCK, then fstat: regular files only);
  // - remove_tree works by descriptors (openat, fdopendir, unlinkat), so no
  //   nesting depth is too deep, unlinks links without following them and
  //   does not cross into another file system mounted below.
  static std::unique_ptr<Env> posix_beneath(const std::string& root);

  // Confined Envs: also allow paths below `root` (an artifact folder outside
  // the tree that passed detail::outside_artifact_dir's shape check; the path
  // to it may contain links, nothing below it is followed). Idempotent.
  // Other Envs: nothing to do, OK.
  virtual Status add_root(const std::string& root) {
    (void)root;
    return Status::ok();
  }
  // The Env for paths the user names outside the tree (log_artifact's
  // source, download_artifacts' destination). A confined Env returns the
  // unconfined one it is built on; others return themselves.
  virtual Env* unconfined() { return this; }

  // Creates or truncates `path` for writing. With `exclusive`, fails with
  // kAlreadyExists if the file exists (O_EXCL).
  virtual Result<std::unique_ptr<WritableFile>> new_writable_file(const std::string& path,
                                                                  bool exclusive = false) = 0;
  // Opens `path` for appending (O_APPEND), creating it if needed. The file
  // is opened for reading too where permissions allow (WritableFile::read_at).
  virtual Result<std::unique_ptr<WritableFile>> new_appendable_file(const std::string& path) = 0;
  // Opens an existing regular file for appending, never creating it: kNotFound
  // if it is missing (a file another process removed stays removed), and no
  // symlink is followed at the last component. For fsync at the end of a run
  // and for repairing a metric file's tail.
  virtual Result<std::unique_ptr<WritableFile>> reopen_appendable_file(const std::string& path) = 0;
  virtual Result<std::unique_ptr<SequentialFile>> new_sequential_file(const std::string& path) = 0;

  // Reads a whole regular file. Fails with kInvalidArgument if it is larger
  // than `max_bytes`, so a hostile tree cannot exhaust memory, and (POSIX
  // Envs) if a file above 1 MiB has a hole (a sparse file: NULs that no
  // MLflow file holds; the message says "sparse file"), so its apparent size
  // is never read. Does not follow a symlink when `no_follow` (O_NOFOLLOW on
  // the last component).
  virtual Result<std::string> read_file(const std::string& path,
                                        std::uint64_t max_bytes = 64ull << 20,
                                        bool no_follow = false) = 0;

  // Atomically replaces `to` with `from` (rename(2)).
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  // Atomically gives `from` the name `to` unless `to` exists: then
  // kAlreadyExists and nothing changes (renameat2 RENAME_NOREPLACE; where the
  // file system lacks it, link(2) then unlink(2), which is atomic on NFS too).
  // For files only. Two writers creating one metric file both keep their lines.
  virtual Status rename_no_replace(const std::string& from, const std::string& to) = 0;
  // Creates one directory. kAlreadyExists if it exists (mkdir is atomic,
  // even on NFS, which get-or-create relies on).
  virtual Status create_dir(const std::string& path) = 0;
  // Creates a directory and its missing parents; OK if it exists.
  virtual Status create_dirs(const std::string& path) = 0;
  virtual Status remove_file(const std::string& path) = 0;
  // Removes an empty directory.
  virtual Status remove_dir(const std::string& path) = 0;
  // Removes a directory tree without following symlinks.
  virtual Status remove_tree(const std::string& path) = 0;
  // Entries of a directory, without "." and "..", in no particular order.
  virtual Result<std::vector<DirEntry>> list_dir(const std::string& path) = 0;
  // lstat(2) when !follow_symlinks. A missing path is OK with type kMissing.
  virtual Result<FileInfo> stat(const std::string& path, bool follow_symlinks = false) = 0;
  // fsync on a directory, making renames and creations in it durable.
  virtual Status sync_dir(const std::string& path) = 0;
  // Sets a file's modification time to now (a cheap sign of life).
  virtual Status touch(const std::string& path) = 0;
  // realpath(3): an absolute path without symlinks, "." or "..".
  virtual Result<std::string> real_path(const std::string& path) = 0;

  // Milliseconds since the epoch (wall clock).
  virtual std::int64_t now_ms() = 0;

  // Makes `to` a second name of the file `from` (link(2)); kAlreadyExists if
  // `to` exists, so a complete file appears under `to` exactly once even when
  // several processes or nodes race. The default is kNotSupported.
  virtual Status link(const std::string& from, const std::string& to);
  // Opens `path` (created if missing, never following a symlink) and takes
  // the same FileLock as WritableFile::lock; the lock keeps the file open.
  // With `wait`, blocks until it is free; without, fails at once with
  // kFailedPrecondition while another process or another FileLock of this
  // one holds it. The default is kNotSupported.
  virtual Result<std::unique_ptr<FileLock>> lock_file(const std::string& path, bool wait);
};

// Forwards every call to another Env; a test Env overrides only what it breaks.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}
  Env* target() const { return target_; }

  Result<std::unique_ptr<WritableFile>> new_writable_file(const std::string& p, bool excl) override {
    return target_->new_writable_file(p, excl);
  }
  Result<std::unique_ptr<WritableFile>> new_appendable_file(const std::string& p) override {
    return target_->new_appendable_file(p);
  }
  Result<std::unique_ptr<WritableFile>> reopen_appendable_file(const std::string& p) override {
    return target_->reopen_appendable_file(p);
  }
  Result<std::unique_ptr<SequentialFile>> new_sequential_file(const std::string& p) override {
    return target_->new_sequential_file(p);
  }
  Result<std::string> read_file(const std::string& p, std::uint64_t max, bool no_follow) override {
    return target_->read_file(p, max, no_follow);
  }
  Status rename(const std::string& f, const std::string& t) override { return target_->rename(f, t); }
  Status rename_no_replace(const std::string& f, const std::string& t) override {
    return target_->rename_no_replace(f, t);
  }
  Status create_dir(const std::string& p) override { return target_->create_dir(p); }
  Status create_dirs(const std::string& p) override { return target_->create_dirs(p); }
  Status remove_file(const std::string& p) override { return target_->remove_file(p); }
  Status remove_dir(const std::string& p) override { return target_->remove_dir(p); }
  Status remove_tree(const std::string& p) override { return target_->remove_tree(p); }
  Result<std::vector<DirEntry>> list_dir(const std::string& p) override { return target_->list_dir(p); }
  Result<FileInfo> stat(const std::string& p, bool follow) override { return target_->stat(p, follow); }
  Status sync_dir(const std::string& p) override { return target_->sync_dir(p); }
  Status touch(const std::string& p) override { return target_->touch(p); }
  Result<std::string> real_path(const std::string& p) override { return target_->real_path(p); }
  std::int64_t now_ms() override { return target_->now_ms(); }
  Status link(const std::string& f, const std::string& t) override { return target_->link(f, t); }
  Result<std::unique_ptr<FileLock>> lock_file(const std::string& p, bool wait) override {
    return target_->lock_file(p, wait);
  }
  Status add_root(const std::string& r) override { return target_->add_root(r); }
  // The target's unconfined Env, or this wrapper if the target has none of its own.
  Env* unconfined() override {
    Env* u = target_->unconfined();
    return u == target_ ? this : u;
  }

 private:
  Env* target_{};
};

}  // namespace mlruns
