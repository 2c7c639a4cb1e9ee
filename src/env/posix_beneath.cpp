// Env::posix_beneath(root): the POSIX Env confined to a tree (env.h,
// docs/hpc.md "Security model"). Every path is split into a root it lies
// lexically below and the components under it; the folder holding the last
// component is opened relative to the root's descriptor without following any
// symbolic link (openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
// RESOLVE_NO_MAGICLINKS, or, where the kernel has no openat2, one
// openat(O_PATH | O_DIRECTORY | O_NOFOLLOW) per component), and the operation
// itself is the *at() call on that descriptor with the last component's name
// (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW). Nothing is checked first and used later:
// a link or FIFO swapped into a live tree makes the call fail, never follow.
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <deque>
#include <cstdlib>
#include <mutex>
#include <shared_mutex>

#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define MLRUNS_HAVE_OPENAT2_H 1
#endif

#include "env/atomic_file.h"
#include "env/posix_beneath.h"
#include "env/posix_files.h"
#include "env/tree_copy.h"
#include "mlruns/env.h"

namespace mlruns {
namespace detail {
namespace {

// false once the kernel said ENOSYS (or the environment asked for the walk).
std::atomic<bool> g_openat2{true};

bool openat2_wanted() {
  static const bool env_off = [] {
    const char* v = std::getenv("MLRUNS_NO_OPENAT2");
    return v && *v && *v != '0';
  }();
  return !env_off && g_openat2.load(std::memory_order_relaxed);
}

Status link_refused(const std::string& path) {
  return Status::invalid_argument(path,
                                  "is or passes through a symbolic link; not followed (no verb follows a link "
                                  "inside the tree, docs/hpc.md)");
}

Status outside(const std::string& path, const std::string& root) {
  return Status::failed_precondition(path, "is outside the tree '" + root +
                                               "'; refused (mlruns never touches anything outside the tree, docs/hpc.md)");
}

// The errno of an openat/openat2 below a root, as a Status naming `path`.
Status resolve_status(const std::string& path, int err) {
  if (err == ELOOP) return link_refused(path);
  if (err == EXDEV) return Status::failed_precondition(path, "leaves the tree; refused (docs/hpc.md)");
  return errno_status(path, err);
}

// An owned or borrowed descriptor.
struct Fd {
  int fd = -1;
  bool owned = false;
  Fd() = default;
  Fd(int f, bool o) : fd(f), owned(o) {}
  Fd(Fd&& o) noexcept : fd(o.fd), owned(o.owned) { o.owned = false; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd = o.fd;
      owned = o.owned;
      o.owned = false;
    }
    return *this;
  }
  ~Fd() { reset(); }
  void reset() {
    if (owned && fd >= 0) ::close(fd);
    fd = -1;
    owned = false;
  }
};

// One step of the walk: `name` (a single component) below `dir`, a real
// directory, as O_PATH. ELOOP for a symbolic link.
int open_component(int dir, const char* name) {
  int fd = retry_eintr([&] { return ::openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC); });
  if (fd >= 0) return fd;
  int err = errno;
  if (err == ENOTDIR) {  // O_PATH|O_NOFOLLOW on a link: ENOTDIR; say which it was
    struct stat st;
    if (::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) err = ELOOP;
  }
  errno = err;
  return -1;
}

constexpr int kNoOpenat2 = -2;

// `rel` (components joined by '/', no "." or "..") below `root_fd` in one
// openat2 that follows no link at any component, the last included: the
// descriptor, -1 with errno on failure, or kNoOpenat2 where the kernel has
// no openat2 (kernel < 5.6, or a seccomp filter) or MLRUNS_NO_OPENAT2 is set.
int openat2_beneath(int root_fd, const std::string& rel, int flags, mode_t mode) {
#if defined(SYS_openat2) && defined(MLRUNS_HAVE_OPENAT2_H)
  if (openat2_wanted()) {
    struct open_how how {};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    for (int attempt = 0; attempt < 16; ++attempt) {
      long fd = ::syscall(SYS_openat2, root_fd, rel.empty() ? "." : rel.c_str(), &how, sizeof how);
      if (fd >= 0) return static_cast<int>(fd);
      if (errno == EINTR || errno == EAGAIN) continue;  // EAGAIN: a rename raced the lookup
      if (errno == ENOSYS || errno == E2BIG || errno == EPERM) {
        g_openat2.store(false, std::memory_order_relaxed);
        return kNoOpenat2;
      }
      return -1;
    }
    return -1;  // errno: EAGAIN, renames kept racing
  }
#endif
  (void)root_fd, (void)rel, (void)flags, (void)mode;
  return kNoOpenat2;
}

// The folder `rel` (components joined by '/', no "." or "..") below `root_fd`
// without following any link; -1 with errno on failure.
int open_dir_beneath(int root_fd, const std::string& rel) {
  if (int fd = openat2_beneath(root_fd, rel, O_PATH | O_DIRECTORY, 0); fd != kNoOpenat2) return fd;
  int cur = root_fd;
  std::size_t pos = 0;
  std::string name;
  while (pos < rel.size()) {
    std::size_t slash = rel.find('/', pos);
    if (slash == std::string::npos) slash = rel.size();
    name.assign(rel, pos, slash - pos);
    int next = open_component(cur, name.c_str());
    int err = errno;
    if (cur != root_fd) ::close(cur);
    if (next < 0) {
      errno = err;
      return -1;
    }
    cur = next;
    pos = slash + 1;
  }
  if (cur == root_fd) return retry_eintr([&] { return ::fcntl(root_fd, F_DUPFD_CLOEXEC, 0); });
  return cur;
}

// How long breaking a hard link waits for an appender holding the file's
// lock (as line_tail.h's kAppendLockTimeoutMs).
constexpr std::int64_t kUnshareLockTimeoutMs = 10000;

struct Root {
  std::string path;       // as given, without a trailing '/'
  int fd = -1;            // O_PATH|O_DIRECTORY, opened on first use
  bool no_follow = false;  // added roots: their last component must not be a link
};

std::string strip_slashes(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

class PosixBeneathEnv final : public Env {
 public:
  explicit PosixBeneathEnv(const std::string& root) { roots_.push_back(Root{strip_slashes(root), -1, false}); }
  ~PosixBeneathEnv() override {
    for (Root& r : roots_)
      if (r.fd >= 0) ::close(r.fd);
  }

  Status add_root(const std::string& root) override {
    std::string p = strip_slashes(root);
    if (p.empty() || p.front() != '/') return Status::invalid_argument("root '" + p + "'", "must be an absolute path");
    std::unique_lock lock(mu_);
    for (const Root& r : roots_)
      if (r.path == p) return Status::ok();
    roots_.push_back(Root{p, -1, true});
    return Status::ok();
  }

  Env* unconfined() override { return Env::posix(); }

  // ---- files ----

  Result<std::unique_ptr<WritableFile>> new_writable_file(const std::string& path, bool exclusive) override {
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : 0);
    struct stat st;
    auto fd = open_file(path, flags, true, &st);
    if (!fd) return fail(fd.error());
    if (!exclusive && st.st_nlink > 1) {
      // O_TRUNC would empty every name of the file: give `path` a new one.
      ::close(*fd);
      if (Status s = remove_file(path); !s.is_ok() && s.code() != Code::kNotFound) return fail(s);
      fd = open_file(path, flags | O_EXCL);
      if (!fd) return fail(fd.error());
    } else if (!exclusive && retry_eintr([&] { return ::ftruncate(*fd, 0); }) < 0) {
      Status s = errno_status(path, errno);
      ::close(*fd);
      return fail(s);
    }
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, *fd));
  }

  Result<std::unique_ptr<WritableFile>> new_appendable_file(const std::string& path) override {
    return open_append(path, O_CREAT);
  }

  Result<std::unique_ptr<WritableFile>> reopen_appendable_file(const std::string& path) override {
    return open_append(path, 0);
  }

  Result<std::unique_ptr<SequentialFile>> new_sequential_file(const std::string& path) override {
    auto fd = open_file(path, O_RDONLY | O_CLOEXEC);
    if (!fd) return fail(fd.error());
    return std::unique_ptr<SequentialFile>(new PosixSequentialFile(path, *fd));
  }

  Result<std::string> read_file(const std::string& path, std::uint64_t max_bytes, bool) override {
    // read_whole_fd's own fstat refuses what is not a regular file.
    auto fd = open_file(path, O_RDONLY | O_CLOEXEC, /*check_regular=*/false);
    if (!fd) return fail(fd.error());
    return read_whole_fd(*fd, path, max_bytes);
  }

  // ---- names ----

  Status rename(const std::string& from, const std::string& to) override {
    auto a = locate(from);
    if (!a) return a.error();
    auto b = locate(to);
    if (!b) return b.error();
    if (retry_eintr([&] { return ::renameat(a->dir.fd, a->leaf.c_str(), b->dir.fd, b->leaf.c_str()); }) < 0)
      return errno_status(from + " -> " + to, errno);
    return Status::ok();
  }

  Status rename_no_replace(const std::string& from, const std::string& to) override {
    auto a = locate(from);
    if (!a) return a.error();
    auto b = locate(to);
    if (!b) return b.error();
    if (::renameat2(a->dir.fd, a->leaf.c_str(), b->dir.fd, b->leaf.c_str(), RENAME_NOREPLACE) == 0)
      return Status::ok();
    int err = errno;
    if (err != EINVAL && err != ENOSYS && err != EOPNOTSUPP) return errno_status(from + " -> " + to, err);
    // No RENAME_NOREPLACE here (NFS, older kernels): link(2) is atomic and never replaces.
    if (retry_eintr([&] { return ::linkat(a->dir.fd, a->leaf.c_str(), b->dir.fd, b->leaf.c_str(), 0); }) < 0)
      return errno_status(from + " -> " + to, errno);
    (void)::unlinkat(a->dir.fd, a->leaf.c_str(), 0);
    return Status::ok();
  }

  Status link(const std::string& from, const std::string& to) override {
    auto a = locate(from);
    if (!a) return a.error();
    auto b = locate(to);
    if (!b) return b.error();
    // No AT_SYMLINK_FOLLOW: a link at `from` is linked as the link, never followed.
    if (retry_eintr([&] { return ::linkat(a->dir.fd, a->leaf.c_str(), b->dir.fd, b->leaf.c_str(), 0); }) < 0)
      return errno_status(to, errno);
    return Status::ok();
  }

  Result<std::unique_ptr<FileLock>> lock_file(const std::string& path, bool wait) override {
    auto fd = open_file(path, O_RDWR | O_CREAT | O_CLOEXEC);
    if (!fd) return fail(fd.error());
    return lock_fd(*fd, path, wait ? -1 : 0, /*owns=*/true);
  }

  Status create_dir(const std::string& path) override {
    if (is_root_path(path)) return Env::posix()->create_dir(path);  // the user's own path
    auto at = locate(path);
    if (!at) return at.error();
    if (::mkdirat(at->dir.fd, at->leaf.c_str(), 0755) < 0) return errno_status(path, errno);
    return Status::ok();
  }

  Status create_dirs(const std::string& path) override {
    auto parts = split(path);
    if (!parts) return parts.error();
    Root& root = parts->root;
    // The root itself may be missing: it is the user's path, made as given.
    {
      auto fd = root_fd(root);
      if (!fd) {
        if (fd.error().code() != Code::kNotFound) return fd.error();
        MLRUNS_RETURN_IF_ERROR(Env::posix()->create_dirs(root.path));
      }
    }
    auto rfd = root_fd(root);
    if (!rfd) return rfd.error();
    int cur = *rfd;
    for (const std::string& name : parts->components) {
      int next = open_component(cur, name.c_str());
      if (next < 0 && errno == ENOENT) {
        if (::mkdirat(cur, name.c_str(), 0755) < 0 && errno != EEXIST) {
          int err = errno;
          if (cur != *rfd) ::close(cur);
          return errno_status(path, err);
        }
        next = open_component(cur, name.c_str());
      }
      int err = errno;
      if (cur != *rfd) ::close(cur);
      if (next < 0) return resolve_status(path, err);
      cur = next;
    }
    if (cur != *rfd) ::close(cur);
    return Status::ok();
  }

  Status remove_file(const std::string& path) override {
    auto at = locate(path);
    if (!at) return at.error();
    if (::unlinkat(at->dir.fd, at->leaf.c_str(), 0) < 0) return errno_status(path, errno);
    return Status::ok();
  }

  Status remove_dir(const std::string& path) override {
    auto at = locate(path);
    if (!at) return at.error();
    if (::unlinkat(at->dir.fd, at->leaf.c_str(), AT_REMOVEDIR) < 0) return errno_status(path, errno);
    return Status::ok();
  }

  Status remove_tree(const std::string& path) override {
    auto at = locate(path);
    if (!at) return at.error();
    return remove_tree_at(at->dir.fd, at->leaf, path);
  }

  Result<std::vector<DirEntry>> list_dir(const std::string& path) override {
    auto fd = open_dir(path, O_RDONLY);
    if (!fd) return fail(fd.error());
    return list_dir_fd(*fd, path);
  }

  Result<FileInfo> stat(const std::string& path, bool) override {
    auto at = locate(path);
    if (!at) {
      // A missing folder on the way: the path is missing, as lstat says.
      if (at.error().code() == Code::kNotFound || at.error().os_error() == ENOTDIR) return FileInfo{};
      return fail(at.error());
    }
    struct stat st;
    if (::fstatat(at->dir.fd, at->leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT || errno == ENOTDIR) return FileInfo{};
      return fail(errno_status(path, errno));
    }
    return info_of(st);
  }

  Status sync_dir(const std::string& path) override {
    auto fd = open_dir(path, O_RDONLY);
    if (!fd) return fd.error();
    int r = retry_eintr([&] { return ::fsync(*fd); });
    int err = errno;
    ::close(*fd);
    // Some file systems refuse fsync on a directory; the rename is as durable as they allow.
    if (r < 0 && err != EINVAL && err != EBADF) return errno_status(path, err);
    return Status::ok();
  }

  Status touch(const std::string& path) override {
    auto at = locate(path);
    if (!at) return at.error();
    // An mtime is shared by every name of a file: never set it through a hard link.
    struct stat st;
    if (::fstatat(at->dir.fd, at->leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode) &&
        st.st_nlink > 1)
      return Status::failed_precondition(path, "has " + std::to_string(st.st_nlink) +
                                                   " names (hard links); its mtime is not set through another name");
    if (::utimensat(at->dir.fd, at->leaf.c_str(), nullptr, AT_SYMLINK_NOFOLLOW) < 0) return errno_status(path, errno);
    return Status::ok();
  }

  Result<std::string> real_path(const std::string& path) override {
    auto parts = split(path);
    if (!parts) return fail(parts.error());
    auto real_root = Env::posix()->real_path(parts->root.path);
    if (!real_root) return fail(real_root.error());
    if (parts->components.empty()) return *real_root;
    // Below the root nothing is a link (proved by opening it), so the real
    // path is the real root plus the components.
    auto st = stat(path, false);
    if (!st) return fail(st.error());
    if (st->type == FileType::kMissing) return fail(Status::not_found(path, "no such file or directory"));
    if (st->type == FileType::kSymlink) return fail(link_refused(path));
    std::string out = *real_root == "/" ? "" : *real_root;
    for (const std::string& c : parts->components) out += "/" + c;
    return out;
  }

  std::int64_t now_ms() override { return Env::posix()->now_ms(); }

  // For detail::open_dir_fd (tree_copy.h): a folder below a root, no link followed.
  Result<int> open_directory(const std::string& path) { return open_dir(path, O_RDONLY); }

 private:
  struct Parts {
    Root& root;
    std::vector<std::string> components;
  };
  struct At {
    Fd dir;            // the folder holding `leaf`
    std::string leaf;  // one component, or "." for the root itself
  };

  // The root `path` lies below (the longest that matches) and its components
  // there. Refuses paths outside every root and ".." components.
  Result<Parts> split(const std::string& path) {
    Root* best = nullptr;
    {
      std::shared_lock lock(mu_);
      for (Root& r : roots_) {
        const std::string& p = r.path;
        bool under = path.compare(0, p.size(), p) == 0 &&
                     (path.size() == p.size() || path[p.size()] == '/' || p == "/");
        if (under && (!best || p.size() > best->path.size())) best = &r;
      }
    }
    if (!best) return fail(outside(path, roots_.front().path));
    Parts out{*best, {}};
    std::string_view rest = std::string_view(path).substr(std::min(path.size(), best->path.size()));
    std::size_t pos = 0;
    while (pos <= rest.size()) {
      std::size_t slash = rest.find('/', pos);
      if (slash == std::string_view::npos) slash = rest.size();
      std::string_view c = rest.substr(pos, slash - pos);
      if (c == "..")
        return fail(Status::invalid_argument(path, "has a '..' component; refused (it could leave the tree)"));
      if (!c.empty() && c != ".") out.components.emplace_back(c);
      pos = slash + 1;
    }
    return out;
  }

  bool is_root_path(const std::string& path) {
    auto parts = split(path);
    return parts && parts->components.empty();
  }

  // The root's descriptor, opened (following the user's links) on first use.
  Result<int> root_fd(Root& root) {
    {
      std::shared_lock lock(mu_);
      if (root.fd >= 0) return root.fd;
    }
    int flags = O_PATH | O_DIRECTORY | O_CLOEXEC | (root.no_follow ? O_NOFOLLOW : 0);
    int fd = retry_eintr([&] { return ::open(root.path.c_str(), flags); });
    if (fd < 0) return fail(root.no_follow && errno == ENOTDIR ? link_refused(root.path) : errno_status(root.path, errno));
    std::unique_lock lock(mu_);
    if (root.fd >= 0) {
      ::close(fd);
      return root.fd;
    }
    root.fd = fd;
    return fd;
  }

  // The folder holding the path's last component, opened beneath its root.
  Result<At> locate(const std::string& path) {
    auto parts = split(path);
    if (!parts) return fail(parts.error());
    auto rfd = root_fd(parts->root);
    if (!rfd) return fail(rfd.error());
    std::vector<std::string>& c = parts->components;
    if (c.empty()) return At{Fd(*rfd, false), "."};
    if (c.size() == 1) return At{Fd(*rfd, false), c.back()};
    std::string parent;
    for (std::size_t i = 0; i + 1 < c.size(); ++i) {
      if (i) parent += '/';
      parent += c[i];
    }
    int fd = open_dir_beneath(*rfd, parent);
    if (fd < 0) return fail(resolve_status(path, errno));
    return At{Fd(fd, true), c.back()};
  }

  // `path` itself in one openat2 beneath its root (no link at any component,
  // the last included): one system call where locate() and an openat on the
  // parent took three (open the parent, open the file, close the parent),
  // with the same guarantee. kNoOpenat2 where the kernel has none.
  // Failures other than kNoOpenat2 come back as a Status (resolve_status;
  // ELOOP: a link; ENXIO: a FIFO opened for writing).
  Result<int> open_whole(const std::string& path, int flags) {
    auto parts = split(path);
    if (!parts) return fail(parts.error());
    auto rfd = root_fd(parts->root);
    if (!rfd) return fail(rfd.error());
    std::string rel;
    for (const std::string& c : parts->components) {
      if (!rel.empty()) rel += '/';
      rel += c;
    }
    int fd = openat2_beneath(*rfd, rel, flags, 0644);
    if (fd != -1) return fd;
    if (errno == ENXIO) return fail(Status::invalid_argument(path, "not a regular file (a FIFO); refused"));
    return fail(resolve_status(path, errno));
  }

  // A regular file: O_NOFOLLOW on the last component, O_NONBLOCK so that a
  // FIFO never blocks the open, then fstat: anything but a regular file is
  // refused (and a write-opened one is never written).
  Result<int> open_file(const std::string& path, int flags, bool check_regular = true, struct stat* seen = nullptr) {
    auto whole = open_whole(path, flags | O_NOFOLLOW | O_NONBLOCK);
    if (!whole) return fail(whole.error());
    int fd = *whole;
    if (fd == kNoOpenat2) {
      auto at = locate(path);
      if (!at) return fail(at.error());
      fd = retry_eintr(
          [&] { return ::openat(at->dir.fd, at->leaf.c_str(), flags | O_NOFOLLOW | O_NONBLOCK, 0644); });
    }
    if (fd < 0) {
      if (errno == ELOOP) return fail(link_refused(path));
      if (errno == ENXIO) return fail(Status::invalid_argument(path, "not a regular file (a FIFO); refused"));
      return fail(resolve_status(path, errno));
    }
    struct stat st;
    if (check_regular && (::fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
      ::close(fd);
      return fail(Status::invalid_argument(path, "not a regular file; refused"));
    }
    if (seen) *seen = st;
    // O_NONBLOCK stays: it has no effect on a regular file.
    return fd;
  }

  // O_APPEND, read-write so that the tail can be checked (read_at); where
  // only writing is permitted, write-only. As the plain Env's open_append.
  // A file with hard links is unshared first (env.h, new_appendable_file):
  // the fstat open_file does anyway gives st_nlink.
  Result<std::unique_ptr<WritableFile>> open_append(const std::string& path, int extra) {
    int base = O_APPEND | O_CLOEXEC | extra;
    for (int attempt = 0;; ++attempt) {
      struct stat st;
      auto fd = open_file(path, O_RDWR | base, true, &st);
      bool readable = static_cast<bool>(fd);
      if (!fd && fd.error().os_error() == EACCES) fd = open_file(path, O_WRONLY | base, true, &st);
      if (!fd) return fail(fd.error());
      if (st.st_nlink <= 1) return std::unique_ptr<WritableFile>(new PosixWritableFile(path, *fd, readable));
      auto own = unshare(path, *fd, st, readable);
      ::close(*fd);
      if (!own) return fail(own.error());
      if (*own >= 0) return std::unique_ptr<WritableFile>(new PosixWritableFile(path, *own, true));
      // Another process unshared or replaced it meanwhile: open the new file.
      if (attempt == 3)
        return fail(Status::io_error(path, "replaced again and again while its hard link was being broken"));
    }
  }

  // Gives `path` (open as `fd`, `st` its fstat, st_nlink > 1) a file of its
  // own with the same bytes and mode, under the old file's lock so that no
  // appender is half-way: a temp file one folder up (inside metrics/,
  // params/ or tags/ MLflow would read it as a key, spec §11), fsynced, then
  // renamed over `path`. Returns its descriptor (O_RDWR | O_APPEND), or -1
  // when `path` no longer names `fd`'s file (someone else was first).
  Result<int> unshare(const std::string& path, int fd, const struct stat& st, bool readable) {
    const std::string shown = std::to_string(st.st_nlink) + " names (hard links)";
    if (!readable)
      return fail(Status::failed_precondition(path, "has " + shown + " and cannot be read to be copied; not "
                                                    "modified through another name (docs/hpc.md)"));
    auto lock = lock_fd(fd, path, kUnshareLockTimeoutMs, /*owns=*/false);
    if (!lock && lock.error().code() != Code::kNotSupported) return fail(lock.error());
    auto at = locate(path);
    if (!at) return fail(at.error());
    struct stat now;
    if (::fstatat(at->dir.fd, at->leaf.c_str(), &now, AT_SYMLINK_NOFOLLOW) < 0 || now.st_ino != st.st_ino ||
        now.st_dev != st.st_dev)
      return -1;
    auto parts = split(path);
    if (!parts) return fail(parts.error());
    std::string folder = parent_dir(path);
    std::string tmp = join(parts->components.size() >= 3 ? parent_dir(folder) : folder, unique_temp_name(".unshared"));
    auto out = open_file(tmp, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC);
    if (!out) return fail(out.error().with_context("breaking the hard link of " + path));
    Status s = copy_fd(fd, *out, path);
    if (s.is_ok() && ::fchmod(*out, st.st_mode & 07777) < 0) s = errno_status(tmp, errno);
    if (s.is_ok() && retry_eintr([&] { return ::fsync(*out); }) < 0) s = errno_status(tmp, errno);
    if (s.is_ok()) s = rename(tmp, path);
    if (s.is_ok()) s = sync_dir(folder);
    if (!s.is_ok()) {
      ::close(*out);
      (void)remove_file(tmp);
      return fail(s.with_context("breaking the hard link of " + path));
    }
    return *out;
  }

  // Copies all of `from` (from offset 0) to the end of `to`.
  static Status copy_fd(int from, int to, const std::string& path) {
    std::vector<char> buf(1 << 16);
    for (off_t off = 0;;) {
      ssize_t n = retry_eintr([&] { return ::pread(from, buf.data(), buf.size(), off); });
      if (n < 0) return errno_status(path, errno);
      if (n == 0) return Status::ok();
      for (ssize_t w = 0; w < n;) {
        ssize_t m = retry_eintr([&] { return ::write(to, buf.data() + w, static_cast<std::size_t>(n - w)); });
        if (m < 0) return errno_status(path, errno);
        w += m;
      }
      off += n;
    }
  }

  // A directory, opened readable, never through a link.
  Result<int> open_dir(const std::string& path, int flags) {
    auto whole = open_whole(path, flags | O_DIRECTORY | O_NOFOLLOW);
    if (!whole || *whole >= 0) return whole;
    auto at = locate(path);
    if (!at) return fail(at.error());
    int fd = retry_eintr([&] {
      return ::openat(at->dir.fd, at->leaf.c_str(), flags | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    });
    if (fd < 0) return fail(resolve_status(path, errno == ENOTDIR && is_link(at->dir.fd, at->leaf) ? ELOOP : errno));
    return fd;
  }

  static bool is_link(int dir, const std::string& leaf) {
    struct stat st;
    return ::fstatat(dir, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
  }

  std::shared_mutex mu_;  // roots_ and their descriptors
  std::deque<Root> roots_;
};

}  // namespace

// Removes `leaf` below the open folder `parent` (docs: env.h). Holds one
// descriptor at a time: it goes down by openat(O_NOFOLLOW) and back up by
// "..", checking that ".." is the folder it came from (device and inode), so
// no nesting depth is too deep and a folder moved meanwhile stops the removal
// instead of leading it elsewhere. Names of the folders still to visit are
// kept per level; nothing builds a path longer than one name.
Status remove_tree_at(int parent, const std::string& leaf, const std::string& path) {
  struct stat st;
  if (::fstatat(parent, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? Status::ok() : errno_status(path, errno);
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(parent, leaf.c_str(), 0) < 0 && errno != ENOENT) return errno_status(path, errno);
    return Status::ok();
  }
  const dev_t dev = st.st_dev;
  struct Frame {
    std::string name;
    ino_t ino;
    std::vector<std::string> pending;  // sub-folders still to remove
  };
  Status first;
  auto note = [&](Status s) {
    if (first.is_ok()) first = std::move(s);
  };
  auto where = [&](std::size_t depth, const std::string& name) {
    return path + " (" + std::to_string(depth) + " levels down: '" + name + "')";
  };
  // Removes every non-folder in `fd` and returns its sub-folders.
  auto scan = [&](int fd, std::size_t depth, std::vector<std::string>& dirs) {
    int dfd = retry_eintr([&] { return ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
    if (dfd < 0) return note(errno_status(where(depth, "."), errno));
    auto entries = list_dir_fd(dfd, path);
    if (!entries) return note(entries.error());
    for (const DirEntry& e : *entries) {
      if (e.type == FileType::kDirectory) {
        dirs.push_back(e.name);
      } else if (::unlinkat(fd, e.name.c_str(), 0) < 0 && errno != ENOENT) {
        if (errno == EISDIR) dirs.push_back(e.name);  // d_type said otherwise; it is a folder now
        else note(errno_status(where(depth, e.name), errno));
      }
    }
  };
  int cur = retry_eintr([&] { return ::openat(parent, leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC); });
  if (cur < 0) return errno_status(path, errno);
  struct stat cst;
  if (::fstat(cur, &cst) < 0) {
    int err = errno;
    ::close(cur);
    return errno_status(path, err);
  }
  std::vector<Frame> stack;
  stack.push_back(Frame{leaf, cst.st_ino, {}});
  scan(cur, 0, stack.back().pending);
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (!top.pending.empty()) {
      std::string name = std::move(top.pending.back());
      top.pending.pop_back();
      int child = retry_eintr([&] { return ::openat(cur, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC); });
      if (child < 0) {
        if (errno == ENOENT) continue;
        if (errno == ELOOP || errno == ENOTDIR) {  // replaced by a link or a file meanwhile: unlink that
          if (::unlinkat(cur, name.c_str(), 0) < 0 && errno != ENOENT) note(errno_status(where(stack.size(), name), errno));
          continue;
        }
        note(errno_status(where(stack.size(), name), errno));
        continue;
      }
      struct stat sst;
      if (::fstat(child, &sst) < 0 || sst.st_dev != dev) {
        note(Status::failed_precondition(where(stack.size(), name),
                                         "another file system is mounted there; not crossed, not removed"));
        ::close(child);
        continue;
      }
      ::close(cur);
      cur = child;
      stack.push_back(Frame{std::move(name), sst.st_ino, {}});
      scan(cur, stack.size() - 1, stack.back().pending);
      continue;
    }
    // Every child is gone: up one level, then remove this folder.
    std::string name = std::move(top.name);
    stack.pop_back();
    if (stack.empty()) {
      ::close(cur);
      if (::unlinkat(parent, leaf.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT) note(errno_status(path, errno));
      break;
    }
    int up = retry_eintr([&] { return ::openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
    struct stat ust;
    if (up < 0 || ::fstat(up, &ust) < 0 || ust.st_dev != dev || ust.st_ino != stack.back().ino) {
      if (up >= 0) ::close(up);
      ::close(cur);
      note(Status::failed_precondition(where(stack.size(), name), "moved while being removed; stopped"));
      return first;
    }
    ::close(cur);
    cur = up;
    if (::unlinkat(cur, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT) note(errno_status(where(stack.size(), name), errno));
  }
  return first;
}

Result<int> open_dir_fd(Env& env, const std::string& path) {
  if (auto* beneath = dynamic_cast<PosixBeneathEnv*>(&env)) return beneath->open_directory(path);
  if (&env == Env::posix()) {
    int fd = retry_eintr([&] { return ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC); });
    if (fd < 0) return fail(errno_status(path, errno));
    return fd;
  }
  return fail(Status::not_supported(path, "this Env gives no directory descriptors"));
}

void set_openat2_enabled(bool on) { g_openat2.store(on, std::memory_order_relaxed); }
bool openat2_enabled() { return openat2_wanted(); }

}  // namespace detail

std::unique_ptr<Env> Env::posix_beneath(const std::string& root) {
  return std::make_unique<detail::PosixBeneathEnv>(root);
}

}  // namespace mlruns
