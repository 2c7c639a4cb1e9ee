// Exit codes of the mlruns CLI, one per failure class so that shell scripts
// can tell "no such run" from "bad argument" from "disk full". Listed in
// `mlruns --help` (kExitCodesHelp) and docs/cli.md; keep the three in step.
#pragma once

#include "mlruns/status.h"

namespace mlruns::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;             // unexpected internal error
inline constexpr int kExitUsage = 2;               // bad command line (unknown option, missing argument)
inline constexpr int kExitInvalidArgument = 3;     // a value breaks a rule (bad key, bad filter, bad K=V)
inline constexpr int kExitNotFound = 4;            // no such experiment, run, metric or artifact; no candidate run
inline constexpr int kExitAlreadyExists = 5;       // name taken, param logged with another value, target exists
inline constexpr int kExitFailedPrecondition = 6;  // e.g. writing to a deleted run
inline constexpr int kExitCorruption = 7;          // the tree holds something unreadable
inline constexpr int kExitIOError = 8;             // the operating system refused (disk full, permission)
inline constexpr int kExitNotSupported = 9;        // e.g. an http:// tracking URI
inline constexpr int kExitPartial = 10;            // sync: done, but some runs failed, conflicted or were left for later

inline constexpr const char* kExitCodesHelp =
    "Exit codes:\n"
    "  0  success\n"
    "  1  unexpected internal error\n"
    "  2  bad command line (unknown option, missing argument)\n"
    "  3  invalid argument (bad key, bad filter, malformed K=V)\n"
    "  4  not found (experiment, run, metric, artifact, no candidate run)\n"
    "  5  already exists (name taken, param changed, download target exists)\n"
    "  6  failed precondition (e.g. run or experiment deleted)\n"
    "  7  corrupt tree\n"
    "  8  I/O error\n"
    "  9  not supported (e.g. http:// tracking URI)\n"
    " 10  partial success (sync: some runs failed or have conflicts)\n"
    "\n"
    "The tracking URI is --tracking-uri, else MLFLOW_TRACKING_URI, else ./mlruns.\n"
    "See docs/cli.md for every verb with examples.";

inline int exit_code_for(Code code) {
  switch (code) {
    case Code::kOk: return kExitOk;
    case Code::kInvalidArgument: return kExitInvalidArgument;
    case Code::kNotFound: return kExitNotFound;
    case Code::kAlreadyExists: return kExitAlreadyExists;
    case Code::kFailedPrecondition: return kExitFailedPrecondition;
    case Code::kCorruption: return kExitCorruption;
    case Code::kIOError: return kExitIOError;
    case Code::kNotSupported: return kExitNotSupported;
  }
  return kExitFailure;
}

}  // namespace mlruns::cli
