// A lock between threads, processes and nodes sharing one file system, for
// short read-modify-write sections such as appending to a run's
// mlflow.log-model.history tag or updating a registered model's meta.yaml.
//
// The lock is a file created with O_EXCL (atomic on local file systems, NFS
// v3 and later, Lustre and GPFS). No flock/fcntl: Lustre mounted with
// localflock would lock per node only. A lock whose holder was killed is
// broken once its file has not been touched for `stale_after_ms` (sections
// last milliseconds); two breakers can race only on a lock that is already
// stale. The holder's pid, host and time are in the file, for people.
#pragma once

#include <cstdint>
#include <string>

#include "mlruns/env.h"
#include "mlruns/status.h"

namespace mlruns::detail {

struct FileLockOptions {
  std::int64_t stale_after_ms = 30'000;
  std::int64_t timeout_ms = 120'000;  // then kIOError naming the lock file
};

class FileLock {
 public:
  // Waits (1 ms, doubling to 50 ms, jittered) until the lock is ours.
  static Result<FileLock> acquire(Env& env, std::string path, const FileLockOptions& options = {});

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();  // releases

  // Removes the lock file; later calls do nothing.
  Status release();

 private:
  FileLock(Env* env, std::string path) : env_(env), path_(std::move(path)) {}
  Env* env_ = nullptr;
  std::string path_;  // empty once released
};

}  // namespace mlruns::detail
