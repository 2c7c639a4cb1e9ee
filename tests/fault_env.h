// FaultEnv: an Env for tests that makes chosen file-system operations fail.
//
//   mlruns::test::FaultEnv env;                     // wraps Env::posix()
//   int rule = env.add_rule({.ops = FaultEnv::kAppend, .path_contains = "/metrics/",
//                            .error = ENOSPC});
//   ... every append to a metric file now fails with ENOSPC ...
//   env.remove_rule(rule);                          // the disk was cleaned up
//   REQUIRE(env.injected(FaultEnv::kAppend) > 0);
//
// A rule matches an operation kind (a bit mask of Op), a path substring
// (both paths of a rename are tested) and fires after `after_calls` matching
// calls went through, or once `after_bytes` bytes were appended through it,
// then once or every time. Errors are real errno values wrapped the way the
// POSIX Env wraps them (Status::from_errno(path, err)), so messages name
// the path.
//
// Short writes: with `short_write`, a failing append first hands a prefix of
// its data to the real file and then fails, which is what a disk filling up
// in the middle of write(2) looks like. An `after_bytes` budget does the same
// at the exact byte where the budget runs out.
//
// Half-done removal: with `partial_remove`, a failing remove_tree first
// deletes the folder's sub-folders (keeping its top-level files, such as a
// run's meta.yaml), as an rmtree that hits EIO half-way does.
//
// EINTR: the POSIX Env retries EINTR itself (and posix_env_test checks that
// with real signals). An EINTR injected here therefore models an Env that
// passes an interrupted call up instead of retrying it. Above the Env the
// library must treat it like any other transient I/O error: report it, never
// leave a torn file, keep buffered points for the next flush.
//
// Power loss: the env records how much of each file it wrote was fsynced and
// which files were created or renamed since their folder was last fsynced.
// drop_unsynced_data() then does what a machine crash may do to the page
// cache (as leveldb's fault_injection_test does): cuts files back to their
// synced size, removes files whose creation was never made durable, and puts
// back the previous content of a file replaced by a rename that was not.
//
// Thread safety: all methods may be called from many threads.
#pragma once

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlruns/env.h"

namespace mlruns::test {

class FaultEnv : public EnvWrapper {
 public:
  // Operation kinds, combinable as a bit mask.
  enum Op : unsigned {
    kAppend = 1u << 0,     // WritableFile::append
    kTruncate = 1u << 1,   // WritableFile::truncate
    kOpenWrite = 1u << 2,  // new_writable_file, new_appendable_file
    kOpenRead = 1u << 3,   // new_sequential_file
    kRead = 1u << 4,       // read_file, SequentialFile::read
    kRename = 1u << 5,
    kSync = 1u << 6,       // WritableFile::sync
    kSyncDir = 1u << 7,
    kCreateDir = 1u << 8,  // create_dir, create_dirs
    kRemove = 1u << 9,     // remove_file, remove_dir, remove_tree
    kList = 1u << 10,      // list_dir
    kStat = 1u << 11,
    kTouch = 1u << 12,
    kAllWrites = kAppend | kTruncate | kOpenWrite | kRename | kSync | kSyncDir | kCreateDir |
                 kRemove | kTouch,
    kAll = (1u << 13) - 1,
    // Not in kAll: WritableFile::lock and Env::lock_file (ENOLCK makes them
    // kNotSupported, as a file system without locks does) and
    // WritableFile::read_at.
    kLock = 1u << 13,
    kReadAt = 1u << 14,
  };
  static constexpr int kOpCount = 15;

  struct Rule {
    unsigned ops = kAll;
    std::string path_contains{};  // empty: every path
    int error = ENOSPC;
    std::uint64_t after_calls = 0;  // matching calls let through before the first failure
    std::uint64_t after_bytes = 0;  // appends only: bytes let through before failing (0: off)
    bool once = false;              // fire once, then the rule is spent
    bool short_write = false;       // appends only: write a prefix, then fail
    std::size_t short_write_bytes = 0;  // prefix length; 0: half of the data (at least 1)
    // remove_tree only: deletes the folder's sub-folders but keeps its
    // top-level files, then fails (an rmtree that died half-way).
    bool partial_remove = false;
  };

  explicit FaultEnv(Env* target = Env::posix()) : EnvWrapper(target) {}

  // Returns a handle for remove_rule().
  int add_rule(Rule rule) {
    std::lock_guard lock(mu_);
    rules_.push_back(Active{next_id_, std::move(rule), 0, 0, false});
    return next_id_++;
  }
  void remove_rule(int id) {
    std::lock_guard lock(mu_);
    std::erase_if(rules_, [id](const Active& a) { return a.id == id; });
  }
  void clear_rules() {
    std::lock_guard lock(mu_);
    rules_.clear();
  }

  std::uint64_t injected() const {
    std::lock_guard lock(mu_);
    std::uint64_t n = 0;
    for (auto c : injected_) n += c;
    return n;
  }
  // Injections for the operation kinds in `ops`.
  std::uint64_t injected(unsigned ops) const {
    std::lock_guard lock(mu_);
    std::uint64_t n = 0;
    for (int i = 0; i < kOpCount; ++i)
      if (ops & (1u << i)) n += injected_[i];
    return n;
  }
  // Every path a fault was injected on, in order.
  std::vector<std::string> injected_paths() const {
    std::lock_guard lock(mu_);
    return injected_paths_;
  }
  // Calls seen per kind (faulted or not), to check a test exercised a path.
  std::uint64_t calls(unsigned ops) const {
    std::lock_guard lock(mu_);
    std::uint64_t n = 0;
    for (int i = 0; i < kOpCount; ++i)
      if (ops & (1u << i)) n += calls_[i];
    return n;
  }

  // ---- power-loss simulation ----
  // Forgets what was synced so far: call after setting up a tree whose state
  // is taken as durable.
  void mark_all_durable() {
    std::lock_guard lock(mu_);
    files_.clear();
  }
  // Reverts everything not made durable, as a machine crash may. Returns the
  // number of files changed. REQUIRES: no writer is running.
  int drop_unsynced_data() {
    std::lock_guard lock(mu_);
    namespace fs = std::filesystem;
    int changed = 0;
    for (auto& [path, f] : files_) {
      std::error_code ec;
      if (!f.durable_entry) {
        if (f.previous) {
          write_whole(path, *f.previous);
        } else {
          fs::remove(path, ec);
        }
        ++changed;
        continue;
      }
      auto size = fs::file_size(path, ec);
      if (!ec && size > f.synced_size) {
        fs::resize_file(path, f.synced_size, ec);
        ++changed;
      }
    }
    files_.clear();
    return changed;
  }

  // ---- Env ----
  Result<std::unique_ptr<WritableFile>> new_writable_file(const std::string& p, bool excl) override {
    if (auto s = check(kOpenWrite, p); !s.is_ok()) return fail(s);
    auto before = target()->stat(p, false);
    bool existed = before && before->type != FileType::kMissing;
    auto r = target()->new_writable_file(p, excl);
    if (!r) return r;
    {
      std::lock_guard lock(mu_);
      FileState& f = files_[p];
      if (!f.tracked) {
        // An existing name stays (same inode), but its truncated content is
        // not durable: a crash now leaves it empty, as in MLflow (spec §11).
        f.tracked = true;
        f.durable_entry = existed;
      }
      f.synced_size = 0;
    }
    return std::unique_ptr<WritableFile>(new File(this, p, std::move(*r)));
  }
  Result<std::unique_ptr<WritableFile>> new_appendable_file(const std::string& p) override {
    if (auto s = check(kOpenWrite, p); !s.is_ok()) return fail(s);
    auto before = target()->stat(p, false);
    bool existed = before && before->type != FileType::kMissing;
    return track_appendable(p, target()->new_appendable_file(p), existed, existed ? before->size : 0);
  }
  Result<std::unique_ptr<WritableFile>> reopen_appendable_file(const std::string& p) override {
    if (auto s = check(kOpenWrite, p); !s.is_ok()) return fail(s);
    auto r = target()->reopen_appendable_file(p);
    auto size = r ? (*r)->size() : Result<std::uint64_t>(0);
    return track_appendable(p, std::move(r), true, size ? *size : 0);
  }
  // An opened file keeps what it held before as durable (it predates us).
  Result<std::unique_ptr<WritableFile>> track_appendable(const std::string& p, Result<std::unique_ptr<WritableFile>> r,
                                                         bool existed, std::uint64_t size) {
    if (!r) return r;
    {
      std::lock_guard lock(mu_);
      FileState& f = files_[p];
      if (!f.tracked) {
        f.tracked = true;
        f.durable_entry = existed;
        f.synced_size = size;
      }
    }
    return std::unique_ptr<WritableFile>(new File(this, p, std::move(*r)));
  }
  Result<std::unique_ptr<SequentialFile>> new_sequential_file(const std::string& p) override {
    if (auto s = check(kOpenRead, p); !s.is_ok()) return fail(s);
    auto r = target()->new_sequential_file(p);
    if (!r) return r;
    return std::unique_ptr<SequentialFile>(new SeqFile(this, p, std::move(*r)));
  }
  Result<std::string> read_file(const std::string& p, std::uint64_t max, bool no_follow) override {
    if (auto s = check(kRead, p); !s.is_ok()) return fail(s);
    return target()->read_file(p, max, no_follow);
  }
  Status rename(const std::string& from, const std::string& to) override {
    return rename_impl(from, to, false);
  }
  Status rename_no_replace(const std::string& from, const std::string& to) override {
    return rename_impl(from, to, true);
  }
  Status rename_impl(const std::string& from, const std::string& to, bool no_replace) {
    if (auto s = check(kRename, from, to); !s.is_ok()) return s;
    std::optional<std::string> current = snapshot(to);
    Status s = no_replace ? target()->rename_no_replace(from, to) : target()->rename(from, to);
    if (!s.is_ok()) return s;
    std::lock_guard lock(mu_);
    FileState moved;
    moved.tracked = true;
    moved.synced_size = UINT64_MAX;  // content that predates us counts as durable
    if (auto it = files_.find(from); it != files_.end()) {
      moved = it->second;
      files_.erase(it);
    }
    // What a crash would show under the name `to` before this rename.
    std::optional<std::string> old = current;
    if (auto it = files_.find(to); it != files_.end()) {
      const FileState& d = it->second;
      if (!d.durable_entry) {
        old = d.previous;
      } else if (old && d.synced_size < old->size()) {
        old->resize(d.synced_size);
      }
    }
    // The new name is not durable until its folder is synced: a crash before
    // that shows the old content, never a mix.
    moved.durable_entry = false;
    moved.previous = std::move(old);
    files_[to] = std::move(moved);
    return s;
  }
  Status create_dir(const std::string& p) override {
    if (auto s = check(kCreateDir, p); !s.is_ok()) return s;
    return target()->create_dir(p);
  }
  Status create_dirs(const std::string& p) override {
    if (auto s = check(kCreateDir, p); !s.is_ok()) return s;
    return target()->create_dirs(p);
  }
  Status remove_file(const std::string& p) override {
    if (auto s = check(kRemove, p); !s.is_ok()) return s;
    Status s = target()->remove_file(p);
    if (s.is_ok()) {
      std::lock_guard lock(mu_);
      files_.erase(p);
    }
    return s;
  }
  Status remove_dir(const std::string& p) override {
    if (auto s = check(kRemove, p); !s.is_ok()) return s;
    return target()->remove_dir(p);
  }
  Status remove_tree(const std::string& p) override {
    bool partial = false;
    if (auto s = check(kRemove, p, {}, 0, nullptr, &partial); !s.is_ok()) {
      if (partial) {
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(p, ec))
          if (!e.is_symlink() && e.is_directory()) std::filesystem::remove_all(e.path(), ec);
      }
      return s;
    }
    return target()->remove_tree(p);
  }
  Result<std::vector<DirEntry>> list_dir(const std::string& p) override {
    if (auto s = check(kList, p); !s.is_ok()) return fail(s);
    return target()->list_dir(p);
  }
  Result<FileInfo> stat(const std::string& p, bool follow) override {
    if (auto s = check(kStat, p); !s.is_ok()) return fail(s);
    return target()->stat(p, follow);
  }
  Status sync_dir(const std::string& p) override {
    if (auto s = check(kSyncDir, p); !s.is_ok()) return s;
    Status s = target()->sync_dir(p);
    if (s.is_ok()) {
      std::lock_guard lock(mu_);
      std::string prefix = p;
      while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
      prefix += '/';
      for (auto& [path, f] : files_) {
        if (path.compare(0, prefix.size(), prefix) == 0 &&
            path.find('/', prefix.size()) == std::string::npos) {
          f.durable_entry = true;
          f.previous.reset();
        }
      }
    }
    return s;
  }
  Result<std::unique_ptr<FileLock>> lock_file(const std::string& p, bool wait) override {
    if (Status s = check_lock(p); !s.is_ok()) return fail(s);
    return target()->lock_file(p, wait);
  }
  // kLock's fault for both ways of locking: ENOLCK is how a file system
  // without locks answers (posix_files.h lock_fd).
  Status check_lock(const std::string& p) {
    Status s = check(kLock, p);
    if (!s.is_ok() && s.os_error() == ENOLCK) return Status::not_supported(s.message(), "no file locks here");
    return s;
  }
  Status touch(const std::string& p) override {
    if (auto s = check(kTouch, p); !s.is_ok()) return s;
    return target()->touch(p);
  }

 private:
  struct Active {
    int id;
    Rule rule;
    std::uint64_t calls_seen;
    std::uint64_t bytes_seen;
    bool spent;
  };
  struct FileState {
    bool tracked = false;
    bool durable_entry = true;        // the directory entry survives a crash
    std::uint64_t synced_size = 0;    // bytes that survive a crash
    std::optional<std::string> previous;  // content to restore if the entry is not durable
  };

  static int op_index(Op op) {
    for (int i = 0; i < kOpCount; ++i)
      if (op == (1u << i)) return i;
    return 0;
  }

  // Decides whether a call fails. For appends, `allowed` receives how many
  // bytes of `size` to write before failing (size if the call is not faulted).
  Status check(Op op, const std::string& path, const std::string& path2 = {},
               std::size_t size = 0, std::size_t* allowed = nullptr, bool* partial = nullptr) {
    std::lock_guard lock(mu_);
    ++calls_[op_index(op)];
    if (allowed) *allowed = size;
    for (Active& a : rules_) {
      const Rule& r = a.rule;
      if (a.spent || !(r.ops & op)) continue;
      if (!r.path_contains.empty() && path.find(r.path_contains) == std::string::npos &&
          (path2.empty() || path2.find(r.path_contains) == std::string::npos))
        continue;
      ++a.calls_seen;
      if (a.calls_seen <= r.after_calls) continue;
      std::size_t prefix = 0;
      if (op == kAppend && r.after_bytes > 0) {
        std::uint64_t left = r.after_bytes > a.bytes_seen ? r.after_bytes - a.bytes_seen : 0;
        if (left >= size) {
          a.bytes_seen += size;
          continue;  // still within the budget
        }
        prefix = static_cast<std::size_t>(left);
        a.bytes_seen += left;
      } else if (op == kAppend && r.short_write && size > 0) {
        prefix = r.short_write_bytes ? std::min(r.short_write_bytes, size - 1)
                                     : std::max<std::size_t>(1, size / 2);
        if (size == 1) prefix = 0;
      }
      if (allowed) *allowed = prefix;
      if (partial) *partial = r.partial_remove;
      if (r.once) a.spent = true;
      ++injected_[op_index(op)];
      injected_paths_.push_back(path);
      std::string where = path2.empty() ? path : path + " -> " + path2;
      return Status::from_errno(where + " (injected)", r.error);
    }
    return Status::ok();
  }

  std::optional<std::string> snapshot(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static void write_whole(const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
  }

  void on_synced(const std::string& path, std::uint64_t size) {
    std::lock_guard lock(mu_);
    auto it = files_.find(path);
    if (it != files_.end()) it->second.synced_size = size;
  }

  class File final : public WritableFile {
   public:
    File(FaultEnv* env, std::string path, std::unique_ptr<WritableFile> base)
        : env_(env), path_(std::move(path)), base_(std::move(base)) {}
    Status append(std::string_view data) override {
      std::size_t allowed = data.size();
      Status s = env_->check(kAppend, path_, {}, data.size(), &allowed);
      if (!s.is_ok()) {
        if (allowed > 0) (void)base_->append(data.substr(0, allowed));
        return s;
      }
      return base_->append(data);
    }
    Status truncate(std::uint64_t size) override {
      if (auto s = env_->check(kTruncate, path_); !s.is_ok()) return s;
      return base_->truncate(size);
    }
    Result<std::uint64_t> size() override { return base_->size(); }
    Status sync() override {
      if (auto s = env_->check(kSync, path_); !s.is_ok()) return s;
      Status s = base_->sync();
      if (s.is_ok()) {
        auto n = base_->size();
        if (n) env_->on_synced(path_, *n);
      }
      return s;
    }
    Status close() override { return base_->close(); }
    Result<std::string_view> read_at(std::uint64_t offset, std::size_t n, char* scratch) override {
      if (auto s = env_->check(kReadAt, path_); !s.is_ok()) return fail(s);
      return base_->read_at(offset, n, scratch);
    }
    Result<std::unique_ptr<FileLock>> lock(std::int64_t timeout_ms) override {
      if (Status s = env_->check_lock(path_); !s.is_ok()) return fail(s);
      return base_->lock(timeout_ms);
    }

   private:
    FaultEnv* env_;
    std::string path_;
    std::unique_ptr<WritableFile> base_;
  };

  class SeqFile final : public SequentialFile {
   public:
    SeqFile(FaultEnv* env, std::string path, std::unique_ptr<SequentialFile> base)
        : env_(env), path_(std::move(path)), base_(std::move(base)) {}
    Result<std::string_view> read(std::size_t n, char* scratch) override {
      if (auto s = env_->check(kRead, path_); !s.is_ok()) return fail(s);
      return base_->read(n, scratch);
    }
    Result<std::uint64_t> skip_hole() override { return base_->skip_hole(); }

   private:
    FaultEnv* env_;
    std::string path_;
    std::unique_ptr<SequentialFile> base_;
  };

  mutable std::mutex mu_;
  std::vector<Active> rules_;
  int next_id_ = 1;
  std::uint64_t injected_[kOpCount] = {};
  std::uint64_t calls_[kOpCount] = {};
  std::vector<std::string> injected_paths_;
  std::map<std::string, FileState> files_;
};

}  // namespace mlruns::test
