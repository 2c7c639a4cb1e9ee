// The sentinel of the hostile-tree tests (issue 15 item 1, docs/hpc.md
// "Security model"): a folder outside the tree whose every byte, name, mode
// and mtime is recorded before a verb runs and compared after it, and trees
// whose links, loops and FIFOs point at it from every level.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "mlruns/store.h"
#include "test_util.h"

namespace mlruns::testing {

// What lstat and a read say about every entry below a folder, by relative
// path; links are recorded by their target, never followed.
inline std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  std::vector<fs::path> todo{dir};
  while (!todo.empty()) {
    fs::path d = todo.back();
    todo.pop_back();
    for (const auto& e : fs::directory_iterator(d)) {
      struct stat st;
      REQUIRE(::lstat(e.path().c_str(), &st) == 0);
      std::string rel = fs::relative(e.path(), dir).string();
      std::string v = "mode=" + std::to_string(st.st_mode) + " mtime=" + std::to_string(st.st_mtim.tv_sec) + "." +
                      std::to_string(st.st_mtim.tv_nsec) + " size=" + std::to_string(st.st_size);
      if (S_ISLNK(st.st_mode)) v += " -> " + fs::read_symlink(e.path()).string();
      else if (S_ISREG(st.st_mode)) v += " data=" + read_file(e.path());
      else if (S_ISDIR(st.st_mode)) todo.push_back(e.path());
      out[rel] = v;
    }
  }
  struct stat st;
  REQUIRE(::lstat(dir.c_str(), &st) == 0);
  out["."] = "mode=" + std::to_string(st.st_mode) + " mtime=" + std::to_string(st.st_mtim.tv_sec) + "." +
             std::to_string(st.st_mtim.tv_nsec);
  return out;
}

// A sentinel folder that looks like a tree: experiments (one in a .trash),
// deleted runs that gc would collect, metric files a log would append to,
// meta.yaml files fsck --repair would edit and relocate would rewrite.
inline const std::string kSentinelExp = "424242";
inline const std::string kSentinelRun = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e";

inline std::string sentinel_run_meta(const std::string& exp, const std::string& run, const std::string& stage) {
  return "artifact_uri: file:///old/place/" + exp + "/" + run + "/artifacts\nend_time: null\nentry_point_name: ''\n"
         "experiment_id: '" + exp + "'\nlifecycle_stage: " + stage + "\nrun_id: " + run + "\nrun_name: sentinel\n"
         "run_uuid: " + run + "\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: 1000\n"
         "status: 1\ntags: []\nuser_id: x\n" + (stage == "deleted" ? "deleted_time: 1000\n" : "");
}

inline void make_sentinel(const fs::path& s) {
  for (const std::string& base : {std::string(), std::string(".trash/")}) {
    fs::path e = s / (base + kSentinelExp);
    write_file(e / "meta.yaml", "artifact_location: file:///old/place/" + kSentinelExp +
                                    "\ncreation_time: 1000\nexperiment_id: '" + kSentinelExp +
                                    "'\nlast_update_time: 1000\nlifecycle_stage: deleted\nname: sentinel-exp\n");
    fs::path r = e / kSentinelRun;
    write_file(r / "meta.yaml", sentinel_run_meta(kSentinelExp, kSentinelRun, "deleted"));
    write_file(r / "metrics" / "loss", "1000 1.0 0\n1000 0.5 1\n");
    write_file(r / "params" / "p", "1");
    write_file(r / "tags" / "mlflow.runName", "sentinel");
    write_file(r / "artifacts" / "model.bin", "weights");
  }
  write_file(s / "loss", "1000 1.0 0\n");
  write_file(s / "secret.txt", "do not touch\n");
  write_file(s / "meta.yaml", sentinel_run_meta(kSentinelExp, kSentinelRun, "deleted"));
  write_file(s / "deep" / "a" / "b" / "file", "x");
  fs::create_directories(s / ".trash");
  ::chmod((s / "secret.txt").c_str(), 0600);
}

}  // namespace mlruns::testing
