#include "write/system_tags.h"

#include "mlruns/liveness.h"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <string_view>

#include "env/atomic_file.h"
#include "format/layout.h"
#include "format/tracking_uri.h"
#include "mlruns/key.h"

namespace mlruns::detail {
namespace {

std::string env_var(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return std::string(s);
}

bool is_hex_sha(std::string_view s) {
  if (s.size() != 40 && s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::optional<std::string> read_small(Env& env, const std::string& path) {
  auto r = env.read_file(path, 1 << 20);
  if (!r) return std::nullopt;
  return *r;
}

std::string absolute_from(const std::string& base_dir, std::string_view p) {
  if (!p.empty() && p.front() == '/') return normalize_absolute_path(p);
  return normalize_absolute_path(join(base_dir, p));
}

// Resolves "ref: refs/heads/x" chains (at most 5 deep).
std::optional<std::string> resolve_ref(Env& env, const std::string& git_dir, const std::string& common_dir,
                                       std::string ref) {
  for (int depth = 0; depth < 5; ++depth) {
    if (ref.find("..") != std::string::npos || ref.empty() || ref.front() == '/') return std::nullopt;
    std::optional<std::string> text = read_small(env, join(git_dir, ref));
    if (!text && common_dir != git_dir) text = read_small(env, join(common_dir, ref));
    if (text) {
      std::string t = trim(*text);
      if (t.rfind("ref:", 0) == 0) {
        ref = trim(std::string_view(t).substr(4));
        continue;
      }
      if (is_hex_sha(t)) return t;
      return std::nullopt;
    }
    // packed-refs: "<sha> <ref>" lines, '#' comments, '^' peeled lines.
    auto packed = read_small(env, join(common_dir, "packed-refs"));
    if (!packed) return std::nullopt;
    std::string_view all = *packed;
    std::size_t i = 0;
    while (i < all.size()) {
      std::size_t j = all.find('\n', i);
      if (j == std::string_view::npos) j = all.size();
      std::string_view line = all.substr(i, j - i);
      i = j + 1;
      if (line.empty() || line.front() == '#' || line.front() == '^') continue;
      std::size_t sp = line.find(' ');
      if (sp == std::string_view::npos) continue;
      if (trim(line.substr(sp + 1)) == ref && is_hex_sha(line.substr(0, sp))) return std::string(line.substr(0, sp));
    }
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::string current_user() {
  for (const char* name : {"MLFLOW_TRACKING_USERNAME", "LOGNAME", "USER", "LNAME", "USERNAME"}) {
    std::string v = env_var(name);
    if (!v.empty() && is_valid_utf8(v)) return v;
  }
  struct passwd pw;
  struct passwd* result = nullptr;
  char buf[4096];
  if (::getpwuid_r(::getuid(), &pw, buf, sizeof buf, &result) == 0 && result && result->pw_name) {
    std::string v = result->pw_name;
    if (!v.empty() && is_valid_utf8(v)) return v;
  }
  return "unknown";
}

std::string program_path() {
  // The process's own argv, not data of any tree: plain POSIX, never through
  // the tree-confined Env (which refuses paths outside the tree).
  int fd = ::open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "<console>";
  std::string cmdline;
  char buf[4096];
  while (cmdline.find('\0') == std::string::npos && cmdline.size() < (1u << 20)) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    cmdline.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  // MLflow (tracking/context/default_context.py, _get_source_name): sys.argv[0]
  // as given, "<console>" when there is no argv.
  if (cmdline.empty()) return "<console>";
  std::string argv0 = cmdline.substr(0, cmdline.find('\0'));
  return is_valid_utf8(argv0) ? argv0 : "<console>";
}

std::optional<std::string> git_head_commit(Env& env, const std::string& start_dir) {
  if (start_dir.empty() || start_dir.front() != '/') return std::nullopt;
  std::string dir = normalize_absolute_path(start_dir);
  for (int depth = 0; depth < 256; ++depth) {
    std::string dot_git = join(dir, ".git");
    auto info = env.stat(dot_git, /*follow_symlinks=*/true);
    if (info && info->type != FileType::kMissing) {
      std::string git_dir;
      if (info->type == FileType::kDirectory) {
        git_dir = dot_git;
      } else if (info->type == FileType::kRegular) {
        auto text = read_small(env, dot_git);
        if (!text) return std::nullopt;
        std::string t = trim(*text);
        if (t.rfind("gitdir:", 0) != 0) return std::nullopt;
        git_dir = absolute_from(dir, trim(std::string_view(t).substr(7)));
      } else {
        return std::nullopt;
      }
      std::string common_dir = git_dir;
      if (auto common = read_small(env, join(git_dir, "commondir")))
        common_dir = absolute_from(git_dir, trim(*common));
      auto head = read_small(env, join(git_dir, "HEAD"));
      if (!head) return std::nullopt;
      std::string h = trim(*head);
      if (is_hex_sha(h)) return h;  // detached HEAD
      if (h.rfind("ref:", 0) != 0) return std::nullopt;
      return resolve_ref(env, git_dir, common_dir, trim(std::string_view(h).substr(4)));
    }
    if (dir == "/") break;
    dir = parent_dir(dir);
  }
  return std::nullopt;
}

std::map<std::string, std::string> system_tags(Env& env, const std::string& source_dir, int owner_pid, bool chain) {
  // What cannot change while the process lives is computed once.
  static std::mutex mu;
  static std::map<std::string, std::string> fixed;
  static std::optional<std::string> exe_commit;
  static bool done = false;
  std::map<std::string, std::string> tags;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!done) {
      fixed["mlflow.source.name"] = program_path();
      fixed["mlflow.source.type"] = "LOCAL";
      // MLflow's rule (git_context.py, git_utils.get_git_commit): the repository
      // holding the entry point's folder (sys.argv[0]), searching parent
      // folders; no fallback to the working folder. For a program that is the
      // executable's folder. (MLflow also drops the tag when that folder is
      // git-ignored; a build folder usually is, so mlruns does not.)
      // The executable and source_dir are the user's paths, outside the tree: unconfined.
      if (auto exe = env.unconfined()->real_path("/proc/self/exe")) exe_commit = git_head_commit(*env.unconfined(), parent_dir(*exe));
      char host[256] = {0};
      if (::gethostname(host, sizeof host - 1) == 0 && host[0] && is_valid_utf8(host)) fixed["mlruns.host"] = host;
      done = true;
    }
    tags = fixed;
    std::optional<std::string> commit = exe_commit;
    if (!source_dir.empty()) {
      auto dir = env.unconfined()->real_path(source_dir);
      commit = dir ? git_head_commit(*env.unconfined(), *dir) : std::nullopt;
    }
    if (commit) tags["mlflow.source.git.commit"] = *commit;
  }
  // Per call, not cached: a child made by fork() is another process (liveness.h).
  if (owner_pid >= 0) {
    int pid = owner_pid == 0 ? static_cast<int>(::getpid()) : owner_pid;
    tags[kTagPid] = std::to_string(pid);
    if (std::string start = process_start_token(owner_pid); !start.empty()) tags[kTagPidStart] = start;
    if (std::string owners = chain && owner_pid > 0 ? owner_chain(owner_pid) : ""; !owners.empty())
      tags[kTagOwnerChain] = owners;
  }
  tags["mlflow.user"] = current_user();
  auto add_env = [&](const char* var, const char* tag) {
    std::string v = env_var(var);
    if (!v.empty() && is_valid_utf8(v) && v.size() < 256) tags[tag] = v;
  };
  add_env("SLURM_JOB_ID", "mlruns.slurm.job_id");
  add_env("SLURM_ARRAY_JOB_ID", "mlruns.slurm.array_job_id");
  add_env("SLURM_ARRAY_TASK_ID", "mlruns.slurm.array_task_id");
  add_env("SLURM_STEP_ID", "mlruns.slurm.step_id");
  add_env("SLURM_PROCID", "mlruns.slurm.procid");  // task rank within the step
  add_env("SLURM_CLUSTER_NAME", "mlruns.slurm.cluster");
  std::string rank = env_var("OMPI_COMM_WORLD_RANK");
  if (rank.empty()) rank = env_var("PMI_RANK");
  if (rank.empty()) rank = env_var("PMIX_RANK");
  if (!rank.empty() && rank.size() < 32 && is_valid_utf8(rank)) tags["mlruns.mpi.rank"] = rank;
  return tags;
}

}  // namespace mlruns::detail
