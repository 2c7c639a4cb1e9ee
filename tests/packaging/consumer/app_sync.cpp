// Consumer of the installed mlruns::sync: a dry run of the tree the C++
// consumer wrote (no server is needed for a dry run); prints the runs it
// would create.
#include <iostream>

#include <mlruns/reader.h>
#include <mlruns/sync.h>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto reader = mlruns::Reader::open(argv[1]);
  if (!reader) return 1;
  mlruns::SyncOptions opt;
  opt.server.url = "http://user:secret@127.0.0.1:9";
  opt.dry_run = true;
  auto result = mlruns::sync_tree(*reader, opt);
  if (!result) {
    std::cerr << result.error().to_string() << "\n";
    return 1;
  }
  std::cout << result->runs_created << " " << mlruns::redact_url(opt.server.url) << "\n";
  return result->runs_created > 0 ? 0 : 1;
}
