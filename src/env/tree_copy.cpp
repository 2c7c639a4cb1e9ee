// Copying a folder tree by directory descriptors (docs: tree_copy.h).
#include "env/tree_copy.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include "env/posix_files.h"
#include "env/sparse_copy.h"
#include "util/parallel.h"

namespace mlruns::detail {
namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

struct Frame {
  std::string name;  // empty for the top folder
  dev_t src_dev;
  ino_t src_ino;
  dev_t dst_dev;
  ino_t dst_ino;
  std::size_t length;                // of the path below the top folder, '/'s included
  std::vector<std::string> pending;  // sub-folders still to visit
};

// The path of `name` in the folder at the top of `stack`, below `top`; past
// PATH_MAX characters (what no path call takes anyway) "<top> (N levels down:
// '<name>')", so naming costs O(1) per entry however deep the tree is.
std::string path_in(const std::string& top, const std::vector<Frame>& stack, const std::string& name) {
  if (stack.back().length + name.size() + top.size() > PATH_MAX)
    return top + " (" + std::to_string(stack.size() - 1) + " levels down: '" + name + "')";
  std::string p = top;
  for (std::size_t i = 1; i < stack.size(); ++i) p += "/" + stack[i].name;
  if (!name.empty()) p += "/" + name;
  return p;
}

// Walks the folder open as `src` (and, when `dst` >= 0, the folder of the
// same shape open as `dst`, which `visit` builds as it goes) depth first by
// descriptors: down by openat(O_NOFOLLOW), up by "..", checked against the
// device and inode seen on the way down. `visit(src_fd, dst_fd, stack)`
// handles one folder and fills stack.back().pending with the sub-folders to
// enter (made on the destination side already).
template <typename Visit>
Status walk(int src, int dst, const std::string& shown_src, const std::string& shown_dst, Visit&& visit) {
  Fd cs(retry_eintr([&] { return ::openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); }));
  if (cs.fd < 0) return errno_status(shown_src, errno);
  Fd cd;
  if (dst >= 0) {
    cd.reset(retry_eintr([&] { return ::openat(dst, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); }));
    if (cd.fd < 0) return errno_status(shown_dst, errno);
  }
  struct stat ss {}, ds {};
  if (::fstat(cs.fd, &ss) < 0) return errno_status(shown_src, errno);
  if (cd.fd >= 0 && ::fstat(cd.fd, &ds) < 0) return errno_status(shown_dst, errno);
  std::vector<Frame> stack;
  stack.push_back(Frame{"", ss.st_dev, ss.st_ino, ds.st_dev, ds.st_ino, 0, {}});
  MLRUNS_RETURN_IF_ERROR(visit(cs.fd, cd.fd, stack));
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (!top.pending.empty()) {
      std::string name = std::move(top.pending.back());
      top.pending.pop_back();
      Fd ns(retry_eintr([&] { return ::openat(cs.fd, name.c_str(), kDirFlags); }));
      if (ns.fd < 0) return errno_status(path_in(shown_src, stack, name), errno);
      Fd nd;
      if (cd.fd >= 0) {
        nd.reset(retry_eintr([&] { return ::openat(cd.fd, name.c_str(), kDirFlags); }));
        if (nd.fd < 0) return errno_status(path_in(shown_dst, stack, name), errno);
      }
      if (::fstat(ns.fd, &ss) < 0) return errno_status(path_in(shown_src, stack, name), errno);
      if (nd.fd >= 0 && ::fstat(nd.fd, &ds) < 0) return errno_status(path_in(shown_dst, stack, name), errno);
      std::swap(cs.fd, ns.fd);
      std::swap(cd.fd, nd.fd);
      const std::size_t length = stack.back().length + 1 + name.size();
      stack.push_back(Frame{std::move(name), ss.st_dev, ss.st_ino, ds.st_dev, ds.st_ino, length, {}});
      MLRUNS_RETURN_IF_ERROR(visit(cs.fd, cd.fd, stack));
      continue;
    }
    std::string name = std::move(top.name);
    stack.pop_back();
    if (stack.empty()) break;
    // Up one level, to the very folder we came down from.
    const Frame& parent = stack.back();
    Fd us(retry_eintr([&] { return ::openat(cs.fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC); }));
    if (us.fd < 0 || ::fstat(us.fd, &ss) < 0 || ss.st_dev != parent.src_dev || ss.st_ino != parent.src_ino)
      return Status::failed_precondition(path_in(shown_src, stack, name), "moved while being copied; stopped");
    Fd ud;
    if (cd.fd >= 0) {
      ud.reset(retry_eintr([&] { return ::openat(cd.fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC); }));
      if (ud.fd < 0 || ::fstat(ud.fd, &ds) < 0 || ds.st_dev != parent.dst_dev || ds.st_ino != parent.dst_ino)
        return Status::failed_precondition(path_in(shown_dst, stack, name), "moved while being written; stopped");
    }
    std::swap(cs.fd, us.fd);
    std::swap(cd.fd, ud.fd);
  }
  return Status::ok();
}

// The entries of the folder open as `fd` (not closed here).
Result<std::vector<DirEntry>> entries_of(int fd, const std::string& path) {
  int lfd = retry_eintr([&] { return ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (lfd < 0) return fail(errno_status(path, errno));
  auto entries = list_dir_fd(lfd, path);
  if (entries)
    std::sort(entries->begin(), entries->end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return entries;
}

}  // namespace

Result<std::uint64_t> measure_tree_fd(int src, const std::string& shown) {
  std::uint64_t total = 0;
  Status s = walk(src, -1, shown, shown, [&](int sfd, int, std::vector<Frame>& stack) -> Status {
    auto entries = entries_of(sfd, path_in(shown, stack, ""));
    if (!entries) return entries.error();
    for (const DirEntry& e : *entries) {
      if (e.type == FileType::kDirectory) {
        stack.back().pending.push_back(e.name);
      } else if (e.type == FileType::kRegular) {
        struct stat st;
        if (::fstatat(sfd, e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
          total += static_cast<std::uint64_t>(st.st_size);
      }
    }
    return Status::ok();
  });
  if (!s) return fail(s);
  return total;
}

Result<TreeCopyCounts> copy_tree_fd(int src, int dst, const std::string& shown_src, const std::string& shown_dst,
                                    const TreeCopyOptions& options) {
  std::atomic<std::uint64_t> files{0}, bytes{0};
  auto warn = [&](const std::string& path, const std::string& message) {
    if (options.warn) options.warn(path, message);
  };
  // One regular file `name`; Status::ok() also when it was skipped.
  auto copy_one = [&](int sfd, int dfd, const std::string& name, const std::string& from,
                      const std::string& to) -> Status {
    int in = retry_eintr([&] { return ::openat(sfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC); });
    if (in < 0) {
      if (errno == ELOOP) {  // a link swapped in since the listing
        warn(from, "symbolic link; not followed, not downloaded");
        return Status::ok();
      }
      return errno_status(from, errno);
    }
    PosixSequentialFile reader(from, in);  // owns `in`
    struct stat st;
    if (::fstat(in, &st) < 0) return errno_status(from, errno);
    if (!S_ISREG(st.st_mode)) {  // a FIFO or device swapped in: opened without blocking, not read
      warn(from, "not a regular file; not downloaded");
      return Status::ok();
    }
    const auto expected = static_cast<std::uint64_t>(st.st_size);
    int out = retry_eintr(
        [&] { return ::openat(dfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666); });
    if (out < 0) return errno_status(to, errno);
    PosixWritableFile writer(to, out);  // owns `out`
    MLRUNS_RETURN_IF_ERROR(copy_whole_checked(reader, writer, from, to, expected, options.sync, options.on_bytes));
    ++files;
    bytes += expected;
    return Status::ok();
  };
  Status s = walk(src, dst, shown_src, shown_dst, [&](int sfd, int dfd, std::vector<Frame>& stack) -> Status {
    auto entries = entries_of(sfd, path_in(shown_src, stack, ""));
    if (!entries) return entries.error();
    std::vector<std::string> regular;
    for (const DirEntry& e : *entries) {
      if (e.type == FileType::kSymlink) {
        warn(path_in(shown_src, stack, e.name), "symbolic link; not followed, not downloaded");
      } else if (e.type == FileType::kDirectory) {
        if (::mkdirat(dfd, e.name.c_str(), 0777) < 0) return errno_status(path_in(shown_dst, stack, e.name), errno);
        stack.back().pending.push_back(e.name);
      } else if (e.type == FileType::kRegular) {
        regular.push_back(e.name);
      } else {
        warn(path_in(shown_src, stack, e.name), "not a regular file; not downloaded");
      }
    }
    // Visited in name order (pending is taken from its back).
    std::reverse(stack.back().pending.begin(), stack.back().pending.end());
    std::vector<Status> failed(regular.size());
    parallel_for(regular.size(), std::min(std::max<std::size_t>(options.threads, 1), regular.size()),
                 [&](std::size_t i) {
                   failed[i] = copy_one(sfd, dfd, regular[i], path_in(shown_src, stack, regular[i]),
                                        path_in(shown_dst, stack, regular[i]));
                 });
    for (Status& f : failed)
      if (!f) return f;
    // Entries made here are durable before the final rename publishes them.
    if (options.sync && retry_eintr([&] { return ::fsync(dfd); }) < 0)
      return errno_status(path_in(shown_dst, stack, ""), errno);
    return Status::ok();
  });
  if (!s) return fail(s);
  return TreeCopyCounts{files.load(), bytes.load()};
}

}  // namespace mlruns::detail
