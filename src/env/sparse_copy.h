// Copying a file's bytes with its holes kept as holes: what a download
// (read/download.cpp) and log_artifact(s)/log_model (write/artifact_copy.cpp)
// both do, so a sparse 4 GiB file holding one byte of data costs one block
// at its destination, not 4 GiB (issue 15).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "mlruns/env.h"
#include "mlruns/status.h"

namespace mlruns::detail {

// Bytes read per call when copying a file.
inline constexpr std::size_t kCopyChunk = 1 << 20;

// Appends what `in` holds from its read position to its end to `out`.
// Holes of `in` (SequentialFile::skip_hole: lseek SEEK_DATA; where the file
// system or Env cannot tell, none) become holes of `out`
// (WritableFile::append_hole: ftruncate past the end; the default writes
// NULs), and so does every all-NUL 4 KiB block that is read (as cp --sparse
// does), which is the fallback where SEEK_DATA reports no holes.
// `on_bytes(n)` is called after each n bytes (data or hole) have gone out.
// Errors: those of the files; kIOError naming `from` when more than
// `max_bytes` bytes come out of `in` (a source that grows while it is being
// copied). Returns the number of bytes copied.
Result<std::uint64_t> copy_sparse(SequentialFile& in, WritableFile& out, const std::string& from,
                                  std::uint64_t max_bytes,
                                  const std::function<void(std::uint64_t)>& on_bytes = {});

// copy_sparse of a whole file that must hold exactly `expected` bytes (a
// download's file, sized when it was listed or opened), then the size of
// `out` checked, `out` synced when `sync`, and closed. Errors: those of the
// files; kIOError naming `from` or `to` when a size differs.
Status copy_whole_checked(SequentialFile& in, WritableFile& out, const std::string& from, const std::string& to,
                          std::uint64_t expected, bool sync, const std::function<void(std::uint64_t)>& on_bytes = {});

}  // namespace mlruns::detail
