// Atomic, optionally durable file replacement (spec §11): the data goes to a
// temp file in `temp_dir` (same file system as the target), is fsynced if
// asked, then renamed over the target; the temp file is removed on failure,
// so a reader sees the old file or the new one, never a torn one.
#pragma once

#include <string>
#include <string_view>

#include "mlruns/env.h"
#include "mlruns/status.h"

namespace mlruns::detail {

// Prefix of every temp file and staging folder mlruns writes (here and
// store.cpp): never MLflow data, left behind only by a killed writer.
// layout.h re-exports it for the readers and tools that skip such names.
inline constexpr std::string_view kTempPrefix = ".mlruns-tmp-";

// A name for a temp file or folder that no other thread, process or node
// picks: ".mlruns-tmp-<pid>-<counter>-<random>" plus `suffix`.
std::string unique_temp_name(std::string_view suffix = {});

struct AtomicWriteOptions {
  bool sync = false;      // fsync the file before the rename and its folder after
  std::string temp_dir;   // empty: the target's own folder
  bool no_replace = false;  // kAlreadyExists (nothing written) if the target exists
};

// REQUIRES: the target's folder exists; temp_dir is on the same file system.
Status write_file_atomic(Env& env, const std::string& path, std::string_view data,
                         const AtomicWriteOptions& options = {});

// Writes a new file in place (O_EXCL), for folders no reader can see yet
// (a staging folder that is renamed into the tree when complete).
Status write_new_file(Env& env, const std::string& path, std::string_view data, bool sync);

// Whether a regular file `rel` ('/'-separated names) can live under folder
// `root`: kMissing (nothing there yet) or kRegular (a file is there). When a
// folder on the way is a file, or the name itself is a folder, kAlreadyExists
// naming the path and `what` (e.g. "param 'a'"): key "a" next to "a/b" (spec
// §2.4), an artifact file where a folder is. A symbolic link on the way or at
// the name, or a FIFO/socket/device at the name: kInvalidArgument ("is a
// symbolic link; not followed", the Reader's words; docs/hpc.md).
Result<FileType> file_slot(Env& env, const std::string& root, std::string_view rel, std::string_view what);

// The folder part of a path ("/a/b/c" -> "/a/b").
std::string parent_dir(std::string_view path);

// a + "/" + b, without doubling a trailing '/' of `a`.
std::string join(std::string_view a, std::string_view b);

}  // namespace mlruns::detail
