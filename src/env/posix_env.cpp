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

#include "env/posix_files.h"
#include "mlruns/env.h"

namespace mlruns {
namespace {

using namespace detail;

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
    return read_whole_fd(fd, path, max_bytes);
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
    // By descriptors (remove_tree_at): no depth is too deep, no link followed.
    std::string_view p = path;
    while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
    std::size_t slash = p.rfind('/');
    std::string parent = slash == std::string_view::npos ? "." : slash == 0 ? "/" : std::string(p.substr(0, slash));
    std::string leaf(slash == std::string_view::npos ? p : p.substr(slash + 1));
    int fd = retry_eintr([&] { return ::open(parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC); });
    if (fd < 0) return errno == ENOENT ? Status::ok() : errno_status(parent, errno);
    Status s = remove_tree_at(fd, leaf, path);
    ::close(fd);
    return s;
  }

  Result<std::vector<DirEntry>> list_dir(const std::string& path) override {
    int fd = retry_eintr([&] { return ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
    if (fd < 0) return fail(errno_status(path, errno));
    return list_dir_fd(fd, path);
  }

  Result<FileInfo> stat(const std::string& path, bool follow_symlinks) override {
    struct stat st;
    int r = follow_symlinks ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st);
    if (r < 0) {
      if (errno == ENOENT || errno == ENOTDIR) return FileInfo{};
      return fail(errno_status(path, errno));
    }
    return info_of(st);
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

  Status link(const std::string& from, const std::string& to) override {
    if (retry_eintr([&] { return ::link(from.c_str(), to.c_str()); }) < 0) return errno_status(to, errno);
    return Status::ok();
  }

  Result<std::unique_ptr<FileLock>> lock_file(const std::string& path, bool wait) override {
    int fd = retry_eintr([&] { return ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644); });
    if (fd < 0) return fail(errno_status(path, errno));
    return lock_fd(fd, path, wait ? -1 : 0, /*owns=*/true);
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
Status WritableFile::append_hole(std::uint64_t n) {
  static const std::string kZeros(1 << 16, '\0');
  while (n > 0) {
    const std::size_t part = static_cast<std::size_t>(std::min<std::uint64_t>(n, kZeros.size()));
    MLRUNS_RETURN_IF_ERROR(append(std::string_view(kZeros).substr(0, part)));
    n -= part;
  }
  return Status::ok();
}

Result<std::string_view> WritableFile::read_at(std::uint64_t, std::size_t, char*) {
  return fail(Status::not_supported("WritableFile::read_at", "not implemented by this file"));
}
Result<std::unique_ptr<FileLock>> WritableFile::lock(std::int64_t) {
  return fail(Status::not_supported("WritableFile::lock", "not implemented by this file"));
}

namespace detail {

Result<std::string> read_whole_fd(int fd, const std::string& path, std::uint64_t max_bytes) {
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
        path, "file of " + std::to_string(st.st_size) + " bytes exceeds the limit of " + std::to_string(max_bytes)));
  }
  // A hole (sparse file) would be read as NULs, as many as its apparent
  // size: refuse it instead, for one lseek. Smaller files cost their size at
  // most, so they are read as they are (no extra call per file when ranking).
  if (st.st_size > kHoleCheckBytes) {
    off_t hole = ::lseek(fd, 0, SEEK_HOLE);
    if (hole >= 0 && hole < st.st_size) {
      ::close(fd);
      return fail(Status::invalid_argument(
          path, "sparse file: a hole (NULs, which no MLflow file holds) at byte " + std::to_string(hole) + " of " +
                    std::to_string(st.st_size) + "; not read"));
    }
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

Result<std::vector<DirEntry>> list_dir_fd(int fd, const std::string& path) {
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    int err = errno;
    ::close(fd);
    return fail(errno_status(path, err));
  }
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
        if (::fstatat(::dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) entry.type = type_of(st.st_mode);
        break;
      }
      default: break;
    }
    out.push_back(std::move(entry));
  }
  ::closedir(dir);  // closes fd
  return out;
}

}  // namespace detail

Env* Env::posix() {
  static PosixEnv* env = new PosixEnv;  // never destroyed: usable from atexit handlers
  return env;
}

Status SequentialFile::skip(std::uint64_t n) {
  char buf[8192];
  while (n > 0) {
    auto r = read(static_cast<std::size_t>(std::min<std::uint64_t>(n, sizeof buf)), buf);
    if (!r) return r.error();
    if (r->empty()) return Status::io_error("skip", "end of file before the offset");
    n -= r->size();
  }
  return Status::ok();
}

Result<std::uint64_t> SequentialFile::skip_hole() { return std::uint64_t{0}; }

Result<std::uint64_t> PosixSequentialFile::skip_hole() {
  // Only the offset moves; no data is read. A file system without SEEK_DATA
  // (EINVAL) reports no holes, and its files are read as they are.
  off_t data = ::lseek(fd_, pos_, SEEK_DATA);
  if (data < 0) {
    if (errno != ENXIO) return std::uint64_t{0};
    // No data after pos_: a hole up to the end of the file, or pos_ is the end.
    off_t end = ::lseek(fd_, 0, SEEK_END);
    if (end < 0) return fail(errno_status(path_, errno));
    if (end <= pos_) {  // at the end (or the file shrank): stay where reads left off
      if (end < pos_ && ::lseek(fd_, pos_, SEEK_SET) < 0) return fail(errno_status(path_, errno));
      return std::uint64_t{0};
    }
    data = end;
  }
  const auto skipped = static_cast<std::uint64_t>(data - pos_);
  pos_ = data;
  return skipped;
}

Status Env::link(const std::string&, const std::string& to) {
  return Status::not_supported(to, "this Env cannot make hard links");
}

Result<std::unique_ptr<FileLock>> Env::lock_file(const std::string& path, bool) {
  return fail(Status::not_supported(path, "this Env cannot lock files"));
}

}  // namespace mlruns
