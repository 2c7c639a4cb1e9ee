// The POSIX file objects and errno mapping shared by the two POSIX Envs:
// Env::posix() (posix_env.cpp, paths as given) and Env::posix_beneath()
// (posix_beneath.cpp, confined to a tree). Internal to env/.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
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

  Status sync() override {
    if (retry_eintr([&] { return ::fsync(fd_); }) < 0) return errno_status(path_, errno);
    return Status::ok();
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
};

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixSequentialFile() override { ::close(fd_); }

  Result<std::string_view> read(std::size_t n, char* scratch) override {
    ssize_t r = retry_eintr([&] { return ::read(fd_, scratch, n); });
    if (r < 0) return fail(errno_status(path_, errno));
    return std::string_view(scratch, static_cast<std::size_t>(r));
  }

  Status skip(std::uint64_t n) override {
    if (::lseek(fd_, static_cast<off_t>(n), SEEK_CUR) < 0) return errno_status(path_, errno);
    return Status::ok();
  }

 private:
  std::string path_;
  int fd_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override { ::close(fd_); }  // closing the description releases the lock

 private:
  int fd_;
};

// An exclusive OFD lock (fcntl F_OFD_SETLK[W]) on an open descriptor, which
// the FileLock owns from then on (closed here on failure).
inline Result<std::unique_ptr<FileLock>> lock_fd(int fd, const std::string& path, bool wait) {
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  int r = retry_eintr([&] { return ::fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl); });
  if (r < 0) {
    int err = errno;
    ::close(fd);
    if (err == EAGAIN || err == EACCES) return fail(Status::failed_precondition(path, "locked by another process"));
    if (err == ENOLCK || err == ENOSYS || err == EOPNOTSUPP || err == EINVAL)
      return fail(Status::not_supported(path, "the file system has no file locks (NFS mounted nolock, Lustre "
                                              "without -o flock): " + std::string(std::strerror(err))));
    return fail(errno_status(path, err));
  }
  return std::unique_ptr<FileLock>(new PosixFileLock(fd));
}


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
