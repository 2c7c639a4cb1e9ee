#include "env/sparse_copy.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string_view>

namespace mlruns::detail {
namespace {

// Appends `data` with its all-NUL 4 KiB blocks as holes: a chunk read across
// the start of a hole (or from a file system without SEEK_DATA) costs no
// disk blocks either. Runs of data blocks go out in one append, runs of NUL
// blocks in one append_hole (its fstat, ftruncate and lseek once a run, not
// once a block: metadata calls are dear on Lustre).
Status write_sparse(WritableFile& out, std::string_view data) {
  constexpr std::size_t kBlock = 4096;
  static const char kZeros[kBlock] = {};
  std::size_t run = 0;       // start of the pending run (data, or NUL blocks if in_hole)
  bool in_hole = false;
  for (std::size_t at = 0; at < data.size(); at += kBlock) {
    const std::size_t n = std::min(kBlock, data.size() - at);
    const bool zero = std::memcmp(data.data() + at, kZeros, n) == 0;
    if (zero == in_hole) continue;
    if (at > run) MLRUNS_RETURN_IF_ERROR(in_hole ? out.append_hole(at - run) : out.append(data.substr(run, at - run)));
    run = at;
    in_hole = zero;
  }
  if (run == data.size()) return Status::ok();
  return in_hole ? out.append_hole(data.size() - run) : out.append(data.substr(run));
}

Status grew(const std::string& from, std::uint64_t max_bytes) {
  return Status::io_error(from, "grew while being copied (expected " + std::to_string(max_bytes) + " bytes)");
}

}  // namespace

Result<std::uint64_t> copy_sparse(SequentialFile& in, WritableFile& out, const std::string& from,
                                  std::uint64_t max_bytes, const std::function<void(std::uint64_t)>& on_bytes) {
  thread_local std::unique_ptr<char[]> buffer;  // one per copying thread, not one per file
  if (!buffer) buffer = std::make_unique<char[]>(kCopyChunk);
  std::uint64_t copied = 0;
  for (;;) {
    auto hole = in.skip_hole();
    if (!hole) return fail(hole.error());
    if (*hole > 0) {
      copied += *hole;
      if (copied > max_bytes) return fail(grew(from, max_bytes));
      if (Status s = out.append_hole(*hole); !s) return fail(s);
      if (on_bytes) on_bytes(*hole);
    }
    auto chunk = in.read(kCopyChunk, buffer.get());
    if (!chunk) return fail(chunk.error());
    if (chunk->empty()) break;
    copied += chunk->size();
    if (copied > max_bytes) return fail(grew(from, max_bytes));
    if (Status s = write_sparse(out, *chunk); !s) return fail(s);
    if (on_bytes) on_bytes(chunk->size());
  }
  return copied;
}

Status copy_whole_checked(SequentialFile& in, WritableFile& out, const std::string& from, const std::string& to,
                          std::uint64_t expected, bool sync, const std::function<void(std::uint64_t)>& on_bytes) {
  auto copied = copy_sparse(in, out, from, expected, on_bytes);
  if (!copied) return copied.error();
  if (*copied != expected)
    return Status::io_error(from, "read " + std::to_string(*copied) + " bytes, expected " + std::to_string(expected));
  auto written = out.size();
  if (!written) return written.error();
  if (*written != expected)
    return Status::io_error(to, "has " + std::to_string(*written) + " bytes after copying, expected " +
                                    std::to_string(expected));
  if (sync) MLRUNS_RETURN_IF_ERROR(out.sync());
  return out.close();
}

}  // namespace mlruns::detail
