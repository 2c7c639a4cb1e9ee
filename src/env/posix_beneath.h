// Internals of Env::posix_beneath (posix_beneath.cpp) that tests reach: the
// choice between openat2 and the openat walk it falls back to.
#pragma once

namespace mlruns::detail {

// Turns openat2 off (the component-by-component openat(O_NOFOLLOW) walk is
// used, as on kernels older than 5.6) or on again, process-wide. The
// environment variable MLRUNS_NO_OPENAT2=1 turns it off for good.
void set_openat2_enabled(bool on);
// True while openat2 is used (false after ENOSYS).
bool openat2_enabled();

}  // namespace mlruns::detail
