// The POSIX Env: the only file in mlruns that calls the operating system's
// file API. Every call retries EINTR (Slurm and MPI deliver signals freely).
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <boost/filesystem.hpp>

#include "mlruns/env.h"

namespace mlruns {
namespace {

template <typename F>
auto retry_eintr(F f) {
  decltype(f()) r;
  do {
    r = f();
  } while (r < 0 && errno == EINTR);
  return r;
}

Status errno_status(const std::string& path, int err) {
  if (err == ENOENT) return Status::not_found(path, "no such file or directory");
  if (err == EEXIST) return Status::already_exists(path, "file exists");
  return Status::from_errno(path, err);
}

FileType type_of(mode_t mode) {
  if (S_ISREG(mode)) return FileType::kRegular;
  if (S_ISDIR(mode)) return FileType::kDirectory;
  if (S_ISLNK(mode)) return FileType::kSymlink;
  return FileType::kOther;
}

class PosixWritableFile final : public WritableFile {
 public:
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

  Status lock(std::int64_t timeout_ms) override { return set_lock(F_WRLCK, timeout_ms); }
  Status unlock() override { return set_lock(F_UNLCK, 0); }

  Status close() override {
    if (fd_ < 0) return Status::ok();
    int fd = fd_;
    fd_ = -1;
    // close(2) must not be retried on EINTR: the descriptor is already gone.
    if (::close(fd) < 0 && errno != EINTR) return errno_status(path_, errno);
    return Status::ok();
  }

 private:
  // An open-file-description lock on the whole file (F_OFD_SETLK): owned by
  // this descriptor, not by the process, so two descriptors of one process
  // exclude each other too, and the kernel drops it when the holder dies.
  // Polled (1 ms doubling to 50 ms) up to the deadline rather than blocking
  // in F_OFD_SETLKW: a holder stopped with SIGSTOP must not hang a flush.
  Status set_lock(short type, std::int64_t timeout_ms) {
    if (fd_ < 0) return Status::failed_precondition(path_, "file is closed");
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 0;  // the whole file, however far it grows
    fl.l_pid = 0;  // required by F_OFD_*
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::chrono::microseconds pause(1000);
    for (;;) {
      if (::fcntl(fd_, F_OFD_SETLK, &fl) == 0) return Status::ok();
      int err = errno;
      if (err == EINTR) continue;
      if (err == ENOLCK || err == EINVAL || err == EOPNOTSUPP || err == ENOSYS)
        return Status::not_supported(path_, std::string("no file locks here: ") + std::strerror(err));
      if (err != EAGAIN && err != EACCES) return errno_status(path_, err);
      if (std::chrono::steady_clock::now() >= deadline)
        return Status::io_error(path_, "locked by another writer for " + std::to_string(timeout_ms) + " ms");
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(50000));
    }
  }

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
    return std::string_view(scratch, static_cast<std::size_t>(r));
  }

 private:
  std::string path_;
  int fd_;
};

class PosixEnv final : public Env {
  // O_APPEND, read-write so that the tail can be checked (read_at); where
  // only writing is permitted, write-only.
  Result<std::unique_ptr<WritableFile>> open_append(const std::string& path, int extra) {
    int base = O_APPEND | O_CLOEXEC | extra;
    int fd = retry_eintr([&] { return ::open(path.c_str(), O_RDWR | base, 0644); });
    bool readable = fd >= 0;
    if (fd < 0 && errno == EACCES) fd = retry_eintr([&] { return ::open(path.c_str(), O_WRONLY | base, 0644); });
    if (fd < 0) return fail(errno_status(path, errno));
    if (extra & O_NONBLOCK) {
      struct stat st;
      if (::fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return fail(Status::invalid_argument(path, "not a regular file"));
      }
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    }
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd, readable));
  }

 public:
  Result<std::unique_ptr<WritableFile>> new_writable_file(const std::string& path,
                                                          bool exclusive) override {
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC);
    int fd = retry_eintr([&] { return ::open(path.c_str(), flags, 0644); });
    if (fd < 0) return fail(errno_status(path, errno));
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd));
  }

  Result<std::unique_ptr<WritableFile>> new_appendable_file(const std::string& path) override {
    return open_append(path, O_CREAT);
  }

  Result<std::unique_ptr<WritableFile>> reopen_appendable_file(const std::string& path) override {
    // O_NONBLOCK and the fstat in open_append: a FIFO planted under the name is refused, not waited on.
    auto f = open_append(path, O_NOFOLLOW | O_NONBLOCK);
    if (!f && f.error().os_error() == ELOOP) return fail(Status::invalid_argument(path, "is a symbolic link"));
    return f;
  }

  Result<std::unique_ptr<SequentialFile>> new_sequential_file(const std::string& path) override {
    int fd = retry_eintr([&] { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC); });
    if (fd < 0) return fail(errno_status(path, errno));
    return std::unique_ptr<SequentialFile>(new PosixSequentialFile(path, fd));
  }

  Result<std::string> read_file(const std::string& path, std::uint64_t max_bytes,
                                bool no_follow) override {
    // O_NONBLOCK: opening a FIFO planted in a tree must not hang the reader
    // (the fstat check below then refuses it); no effect on regular files.
    int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (no_follow ? O_NOFOLLOW : 0);
    int fd = retry_eintr([&] { return ::open(path.c_str(), flags); });
    if (fd < 0) {
      if (errno == ELOOP) return fail(Status::invalid_argument(path, "is a symbolic link"));
      return fail(errno_status(path, errno));
    }
    struct stat st;
    if (::fstat(fd, &st) < 0) {
      int err = errno;
      ::close(fd);
      return fail(errno_status(path, err));
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      return fail(Status::invalid_argument(path, "not a regular file"));
    }
    if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
      ::close(fd);
      return fail(Status::invalid_argument(
          path, "file of " + std::to_string(st.st_size) + " bytes exceeds the limit of " +
                    std::to_string(max_bytes)));
    }
    std::string out;
    out.resize(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    for (;;) {
      if (got == out.size()) {
        // The size fstat gave is the snapshot we read: a file appended to
        // meanwhile (a metric file of a live run) ends at a line read later.
        // This saves the end-of-file read, 2 of the ~11 calls per run when
        // ranking. Files that report size 0 (procfs-like) are read to EOF.
        if (st.st_size > 0) break;
        if (out.size() >= max_bytes) break;  // stop at the limit
        out.resize(std::min<std::uint64_t>(max_bytes, out.size() + 4096));
      }
      ssize_t n = retry_eintr([&] { return ::read(fd, out.data() + got, out.size() - got); });
      if (n < 0) {
        int err = errno;
        ::close(fd);
        return fail(errno_status(path, err));
      }
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    out.resize(got);
    return out;
  }

  Status rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) < 0) return errno_status(from + " -> " + to, errno);
    return Status::ok();
  }

  Status rename_no_replace(const std::string& from, const std::string& to) override {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return Status::ok();
    int err = errno;
    if (err != EINVAL && err != ENOSYS && err != EOPNOTSUPP) return errno_status(from + " -> " + to, err);
    // No RENAME_NOREPLACE here (NFS, older kernels): link(2) is atomic and never replaces.
    if (::link(from.c_str(), to.c_str()) < 0) return errno_status(from + " -> " + to, errno);
    (void)::unlink(from.c_str());
    return Status::ok();
  }

  Status create_dir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0755) < 0) return errno_status(path, errno);
    return Status::ok();
  }

  Status create_dirs(const std::string& path) override {
    boost::system::error_code ec;
    boost::filesystem::create_directories(path, ec);
    if (ec) return Status::io_error(path, ec.message());
    return Status::ok();
  }

  Status remove_file(const std::string& path) override {
    if (::unlink(path.c_str()) < 0) return errno_status(path, errno);
    return Status::ok();
  }

  Status remove_dir(const std::string& path) override {
    if (::rmdir(path.c_str()) < 0) return errno_status(path, errno);
    return Status::ok();
  }

  Status remove_tree(const std::string& path) override {
    boost::system::error_code ec;
    boost::filesystem::remove_all(path, ec);  // does not follow symlinks
    if (ec) return Status::io_error(path, ec.message());
    return Status::ok();
  }

  Result<std::vector<DirEntry>> list_dir(const std::string& path) override {
    DIR* dir = ::opendir(path.c_str());
    if (!dir) return fail(errno_status(path, errno));
    std::vector<DirEntry> out;
    while (struct dirent* e = ::readdir(dir)) {
      std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      DirEntry entry{std::string(name), FileType::kOther};
      switch (e->d_type) {
        case DT_REG: entry.type = FileType::kRegular; break;
        case DT_DIR: entry.type = FileType::kDirectory; break;
        case DT_LNK: entry.type = FileType::kSymlink; break;
        case DT_UNKNOWN: {  // some file systems (older XFS, some NFS) do not fill d_type
          struct stat st;
          if (::fstatat(::dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            entry.type = type_of(st.st_mode);
          break;
        }
        default: break;
      }
      out.push_back(std::move(entry));
    }
    ::closedir(dir);
    return out;
  }

  Result<FileInfo> stat(const std::string& path, bool follow_symlinks) override {
    struct stat st;
    int r = follow_symlinks ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st);
    if (r < 0) {
      if (errno == ENOENT || errno == ENOTDIR) return FileInfo{};
      return fail(errno_status(path, errno));
    }
    FileInfo info;
    info.type = type_of(st.st_mode);
    info.size = static_cast<std::uint64_t>(st.st_size);
    info.mtime_ms = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
    return info;
  }

  Status sync_dir(const std::string& path) override {
    int fd = retry_eintr([&] { return ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
    if (fd < 0) return errno_status(path, errno);
    int r = retry_eintr([&] { return ::fsync(fd); });
    int err = errno;
    ::close(fd);
    // Some file systems refuse fsync on a directory; the rename is as durable as they allow.
    if (r < 0 && err != EINVAL && err != EBADF) return errno_status(path, err);
    return Status::ok();
  }

  Status touch(const std::string& path) override {
    if (::utimensat(AT_FDCWD, path.c_str(), nullptr, 0) < 0) return errno_status(path, errno);
    return Status::ok();
  }

  Result<std::string> real_path(const std::string& path) override {
    char buf[PATH_MAX];
    if (!::realpath(path.c_str(), buf)) return fail(errno_status(path, errno));
    return std::string(buf);
  }

  std::int64_t now_ms() override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
};

}  // namespace

// Defaults for files that are not POSIX files (test wrappers, other Envs).
Result<std::string_view> WritableFile::read_at(std::uint64_t, std::size_t, char*) {
  return fail(Status::not_supported("WritableFile::read_at", "not implemented by this file"));
}
Status WritableFile::lock(std::int64_t) {
  return Status::not_supported("WritableFile::lock", "not implemented by this file");
}
Status WritableFile::unlock() { return Status::ok(); }

Env* Env::posix() {
  static PosixEnv* env = new PosixEnv;  // never destroyed: usable from atexit handlers
  return env;
}

}  // namespace mlruns
