#include "env/file_lock.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "env/atomic_file.h"

namespace mlruns::detail {
namespace {

std::string holder_text(Env& env) {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return "pid " + std::to_string(::getpid()) + " host " + host + " time " + std::to_string(env.now_ms()) + "\n";
}

std::int64_t steady_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

Result<FileLock> FileLock::acquire(Env& env, std::string path, const FileLockOptions& options) {
  thread_local std::minstd_rand rng(std::random_device{}());
  const std::int64_t start = steady_now_ms();
  std::int64_t wait_us = 1000;
  for (;;) {
    auto file = env.new_writable_file(path, /*exclusive=*/true);
    if (file) {
      Status s = (*file)->append(holder_text(env));
      Status c = (*file)->close();
      (void)s;
      (void)c;  // the content is for people; the file's existence is the lock
      return FileLock(&env, std::move(path));
    }
    if (file.error().code() != Code::kAlreadyExists) return fail(file.error().with_context("taking lock"));
    auto info = env.stat(path, false);
    if (info && info->type == FileType::kRegular && env.now_ms() - info->mtime_ms > options.stale_after_ms) {
      // Its holder is gone: move it aside (only one breaker succeeds) and retry.
      std::string aside = join(parent_dir(path), unique_temp_name(".stale-lock"));
      if (env.rename(path, aside).is_ok()) (void)env.remove_file(aside);
      continue;
    }
    if (steady_now_ms() - start > options.timeout_ms)
      return fail(Status::io_error(path, "lock held by another writer for more than " +
                                             std::to_string(options.timeout_ms / 1000) + " s"));
    std::uniform_int_distribution<std::int64_t> jitter(wait_us / 2, wait_us);
    std::this_thread::sleep_for(std::chrono::microseconds(jitter(rng)));
    wait_us = std::min<std::int64_t>(wait_us * 2, 50'000);
  }
}

FileLock::FileLock(FileLock&& other) noexcept : env_(other.env_), path_(std::move(other.path_)) {
  other.path_.clear();
}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    (void)release();
    env_ = other.env_;
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

FileLock::~FileLock() { (void)release(); }

Status FileLock::release() {
  if (path_.empty()) return Status::ok();
  Status s = env_->remove_file(path_);
  path_.clear();
  return s;
}

}  // namespace mlruns::detail
