// The POSIX file objects and errno mapping shared by the two POSIX Envs:
// Env::posix() (posix_env.cpp, paths as given) and Env::posix_beneath()
// (posix_beneath.cpp, confined to a tree). Internal to env/.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mlruns/env.h"

namespace mlruns::detail {

template <typename F>
inline auto retry_eintr(F f) {
  decltype(f()) r;
  do {
    r = f();
  } while (r < 0 && errno == EINTR);
  return r;
}

inline Status errno_status(const std::string& path, int err) {
  if (err == ENOENT) return Status::not_found(path, "no such file or directory");
  if (err == EEXIST) return Status::already_exists(path, "file exists");
  return Status::from_errno(path, err);
}

inline FileType type_of(mode_t mode) {
  if (S_ISREG(mode)) return FileType::kRegular;
  if (S_ISDIR(mode)) return FileType::kDirectory;
  if (S_ISLNK(mode)) return FileType::kSymlink;
  return FileType::kOther;
}

// An exclusive open-file-description lock on the whole file (fcntl
// F_OFD_SETLK, l_len 0: however far it grows). It belongs to the open file
// description, not to the process, so two descriptors of one process exclude
// each other too, and the kernel drops it when the holder dies (SIGKILL
// included); NFS passes it to the server's lock manager. An owning lock
// closes `fd` when destroyed (Env::lock_file); a borrowing one unlocks it
// (WritableFile::lock; it must not outlive the file).
class PosixFileLock final : public FileLock {
 public:
  PosixFileLock(int fd, bool owns) : fd_(fd), owns_(owns) {}
  ~PosixFileLock() override {
    if (owns_) {
      ::close(fd_);  // closing the description releases the lock
      return;
    }
    struct flock fl {};
    fl.l_type = F_UNLCK;
    fl.l_whence = SEEK_SET;
    (void)retry_eintr([&] { return ::fcntl(fd_, F_OFD_SETLK, &fl); });
  }

 private:
  int fd_;
  bool owns_;
};

// The one way both POSIX Envs lock (env.h: WritableFile::lock and
// Env::lock_file). `timeout_ms` < 0 blocks (F_OFD_SETLKW) until the lock is
// free; otherwise polls (1 ms doubling to 50 ms) up to the deadline, so that
// a holder stopped with SIGSTOP cannot hang a flush. Busy after the wait:
// kFailedPrecondition; a file system without locks (ENOLCK, EINVAL,
// EOPNOTSUPP, ENOSYS): kNotSupported. With `owns`, `fd` belongs to the lock
// from then on (closed here on failure).
inline Result<std::unique_ptr<FileLock>> lock_fd(int fd, const std::string& path, std::int64_t timeout_ms,
                                                 bool owns) {
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 0;
  fl.l_pid = 0;  // required by F_OFD_*
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max<std::int64_t>(timeout_ms, 0));
  std::chrono::microseconds pause(1000);
  for (;;) {
    int r = retry_eintr([&] { return ::fcntl(fd, timeout_ms < 0 ? F_OFD_SETLKW : F_OFD_SETLK, &fl); });
    if (r == 0) return std::unique_ptr<FileLock>(new PosixFileLock(fd, owns));
    int err = errno;
    Status s;
    if (err == ENOLCK || err == EINVAL || err == EOPNOTSUPP || err == ENOSYS)
      s = Status::not_supported(path, std::string("no file locks here: ") + std::strerror(err));
    else if (err != EAGAIN && err != EACCES)
      s = errno_status(path, err);
    else if (std::chrono::steady_clock::now() >= deadline)
      s = Status::failed_precondition(path, timeout_ms > 0 ? "locked by another writer for " +
                                                                 std::to_string(timeout_ms) + " ms"
                                                           : std::string("locked by another process"));
    if (!s.is_ok()) {
      if (owns) ::close(fd);
      return fail(s);
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(50000));
  }
}

class PosixWritableFile final : public WritableFile {
 public:
  // `readable`: opened O_RDWR, so read_at works (appendable files).
  PosixWritableFile(std::string path, int fd, bool readable = false)
      : path_(std::move(path)), fd_(fd), readable_(readable) {}
  ~PosixWritableFile() override { (void)close(); }

  Status append(std::string_view data) override {
    if (fd_ < 0) return Status::failed_precondition(path_, "file is closed");
    while (!data.empty()) {
      ssize_t n = retry_eintr([&] { return ::write(fd_, data.data(), data.size()); });
      if (n < 0) return errno_status(path_, errno);
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return Status::ok();
  }

  Status truncate(std::uint64_t size) override {
    if (retry_eintr([&] { return ::ftruncate(fd_, static_cast<off_t>(size)); }) < 0)
      return errno_status(path_, errno);
    return Status::ok();
  }

  Result<std::uint64_t> size() override {
    struct stat st;
    if (::fstat(fd_, &st) < 0) return fail(errno_status(path_, errno));
    return static_cast<std::uint64_t>(st.st_size);
  }

  // The file grows by ftruncate (no blocks), the offset moves to its new end
  // (O_APPEND files write there anyway).
  Status append_hole(std::uint64_t n) override {
    if (fd_ < 0) return Status::failed_precondition(path_, "file is closed");
    auto now = size();
    if (!now) return now.error();
    const auto end = static_cast<off_t>(*now + n);
    if (retry_eintr([&] { return ::ftruncate(fd_, end); }) < 0) return errno_status(path_, errno);
    if (::lseek(fd_, end, SEEK_SET) < 0) return errno_status(path_, errno);
    return Status::ok();
  }

  Status sync() override {
    if (retry_eintr([&] { return ::fsync(fd_); }) < 0) return errno_status(path_, errno);
    return Status::ok();
  }

  Result<std::string_view> read_at(std::uint64_t offset, std::size_t n, char* scratch) override {
    if (fd_ < 0) return fail(Status::failed_precondition(path_, "file is closed"));
    if (!readable_) return fail(Status::not_supported(path_, "opened write-only"));
    ssize_t r = retry_eintr([&] { return ::pread(fd_, scratch, n, static_cast<off_t>(offset)); });
    if (r < 0) return fail(errno_status(path_, errno));
    return std::string_view(scratch, static_cast<std::size_t>(r));
  }

  Result<std::unique_ptr<FileLock>> lock(std::int64_t timeout_ms) override {
    if (fd_ < 0) return fail(Status::failed_precondition(path_, "file is closed"));
    return lock_fd(fd_, path_, timeout_ms, /*owns=*/false);
  }

  Status close() override {
    if (fd_ < 0) return Status::ok();
    int fd = fd_;
    fd_ = -1;
    // close(2) must not be retried on EINTR: the descriptor is already gone.
    if (::close(fd) < 0 && errno != EINTR) return errno_status(path_, errno);
    return Status::ok();
  }

 private:
  std::string path_;
  int fd_;
  bool readable_;
};

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixSequentialFile() override { ::close(fd_); }

  Result<std::string_view> read(std::size_t n, char* scratch) override {
    ssize_t r = retry_eintr([&] { return ::read(fd_, scratch, n); });
    if (r < 0) return fail(errno_status(path_, errno));
    pos_ += r;
    return std::string_view(scratch, static_cast<std::size_t>(r));
  }

  Status skip(std::uint64_t n) override {
    off_t at = ::lseek(fd_, static_cast<off_t>(n), SEEK_CUR);
    if (at < 0) return errno_status(path_, errno);
    pos_ = at;
    return Status::ok();
  }

  // lseek(SEEK_DATA) from the read position (posix_env.cpp).
  Result<std::uint64_t> skip_hole() override;

 private:
  std::string path_;
  int fd_;
  off_t pos_ = 0;  // the read position, kept here to save an lseek per call
};

// Whole-file reads of files above this size check for holes (read_whole_fd).
constexpr off_t kHoleCheckBytes = 1 << 20;

inline FileInfo info_of(const struct stat& st) {
  FileInfo info;
  info.type = type_of(st.st_mode);
  info.size = static_cast<std::uint64_t>(st.st_size);
  info.mtime_ms = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  info.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return info;
}

// Reads a whole regular file from an open descriptor (closed here): refuses
// what is not a regular file (a FIFO opened with O_NONBLOCK never blocks) and
// files above `max_bytes`; reads the size fstat gave (see read_file).
Result<std::string> read_whole_fd(int fd, const std::string& path, std::uint64_t max_bytes);

// fdopendir + readdir of an open directory descriptor (closed here), without
// "." and ".."; d_type filled in with fstatat where the file system leaves it.
Result<std::vector<DirEntry>> list_dir_fd(int fd, const std::string& path);

// Removes `leaf` (a name in the folder open as `parent`) and everything
// below it by descriptors: never follows a link (a link is unlinked), never
// crosses into another file system, no limit on depth. `path` names it in
// errors. The first error is returned; removal goes on past it.
Status remove_tree_at(int parent, const std::string& leaf, const std::string& path);

}  // namespace mlruns::detail
