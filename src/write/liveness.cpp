// Liveness (liveness.h). /proc is read through the Env like every other
// file; kill(pid, 0) and gethostname are not file-system calls.
#include "mlruns/liveness.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <charconv>
#include <optional>
#include <string_view>

#include "format/layout.h"
#include "mlruns/env.h"

namespace mlruns {
namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return std::string(s);
}

// Field `want` (>= 3) of /proc/<pid>/stat: 4 ppid, 6 session, 7 tty_nr,
// 22 starttime (clock ticks after boot). The command name (field 2) may hold
// spaces and ')', so count from the last ')'.
std::string stat_field(const std::string& stat, int want) {
  std::size_t close = stat.rfind(')');
  if (close == std::string::npos) return {};
  std::string_view rest(stat);
  rest.remove_prefix(close + 1);
  int field = 2;
  std::size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && rest[i] == ' ') ++i;
    std::size_t j = i;
    while (j < rest.size() && rest[j] != ' ') ++j;
    if (j > i) {
      ++field;
      if (field == want) return std::string(rest.substr(i, j - i));
    }
    i = j;
  }
  return {};
}

std::string start_ticks(const std::string& stat) { return stat_field(stat, 22); }

std::string boot_id() {
  auto boot = Env::posix()->read_file("/proc/sys/kernel/random/boot_id", 1 << 10);
  return boot ? trim(*boot) : std::string();
}

std::optional<std::string> read_stat(int pid) {
  auto stat = Env::posix()->read_file("/proc/" + std::to_string(pid) + "/stat", 1 << 16);
  if (!stat) return std::nullopt;
  return *stat;
}

int to_int(std::string_view s) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() ? v : -1;
}

// Alive: the pid exists and started at `ticks`.
bool alive_since(int pid, std::string_view ticks) {
  if (pid <= 0) return false;
  auto stat = read_stat(pid);
  return stat && start_ticks(*stat) == ticks;
}

void newest_mtime(Env& env, const std::string& dir, int depth, std::int64_t& newest) {
  if (depth > 16) return;
  auto entries = env.list_dir(dir);
  if (!entries) return;
  for (const DirEntry& e : *entries) {
    std::string path = detail::join(dir, e.name);
    if (e.type == FileType::kDirectory) {
      newest_mtime(env, path, depth + 1, newest);
    } else if (e.type == FileType::kRegular) {
      if (auto info = env.stat(path, false); info && info->mtime_ms > newest) newest = info->mtime_ms;
    }
  }
}

}  // namespace

std::string current_host() {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) return {};
  return host;
}

std::string process_start_token(int pid) {
  Env& env = *Env::posix();
  std::string proc = pid == 0 ? "/proc/self/stat" : "/proc/" + std::to_string(pid) + "/stat";
  auto stat = env.read_file(proc, 1 << 16);
  if (!stat) return {};
  std::string ticks = start_ticks(*stat);
  if (ticks.empty()) return {};
  return boot_id() + ":" + ticks;
}

std::string owner_chain(int pid) {
  std::string chain;
  for (int depth = 0; pid > 1 && depth < 16; ++depth) {
    auto stat = read_stat(pid);
    if (!stat) break;
    const std::string ticks = start_ticks(*stat);
    const int parent = to_int(stat_field(*stat, 4));
    const bool leader = to_int(stat_field(*stat, 6)) == pid;
    const bool terminal = stat_field(*stat, 7) != "0";
    if (ticks.empty()) break;
    chain += (leader && terminal && depth > 0 ? " w" : " o") + std::to_string(pid) + "@" + ticks;
    if (leader) break;
    pid = parent;
  }
  return chain.empty() ? chain : boot_id() + chain;
}

ProcessState process_state(const std::map<std::string, std::string>& tags) {
  auto host = tags.find(kTagHost);
  auto pid_tag = tags.find(kTagPid);
  if (host == tags.end() || pid_tag == tags.end()) return ProcessState::kUnknown;
  if (host->second != current_host()) return ProcessState::kUnknown;
  if (auto chain = tags.find(kTagOwnerChain); chain != tags.end() && !chain->second.empty()) {
    std::string_view rest = chain->second;
    std::size_t space = rest.find(' ');
    if (space != std::string_view::npos && rest.substr(0, space) == boot_id()) {
      bool owner = false, watched = false, parsed = false;
      for (rest.remove_prefix(space + 1); !rest.empty();) {
        std::size_t end = std::min(rest.find(' '), rest.size());
        std::string_view item = rest.substr(0, end);
        rest.remove_prefix(std::min(end + 1, rest.size()));
        std::size_t at = item.find('@');
        if (item.size() < 4 || (item[0] != 'o' && item[0] != 'w') || at == std::string_view::npos) continue;
        parsed = true;
        if (!alive_since(to_int(item.substr(1, at - 1)), item.substr(at + 1))) continue;
        (item[0] == 'o' ? owner : watched) = true;
      }
      if (parsed) return owner ? ProcessState::kAlive : watched ? ProcessState::kUnknown : ProcessState::kGone;
    } else if (space != std::string_view::npos) {
      return ProcessState::kGone;  // recorded before the node's last boot
    }
  }
  int pid = 0;
  const std::string& p = pid_tag->second;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), pid);
  if (ec != std::errc() || end != p.data() + p.size() || pid <= 0) return ProcessState::kUnknown;
  if (::kill(pid, 0) < 0 && errno == ESRCH) return ProcessState::kGone;
  auto start = tags.find(kTagPidStart);
  if (start == tags.end() || start->second.empty()) return ProcessState::kAlive;  // best we can say
  std::string now = process_start_token(pid);
  if (now.empty()) return ProcessState::kGone;  // vanished between kill() and /proc
  return now == start->second ? ProcessState::kAlive : ProcessState::kGone;
}

Result<std::int64_t> last_sign_of_life(Env& env, const std::string& run_dir) {
  std::string meta = detail::join(run_dir, detail::kMetaFile);
  auto info = env.stat(meta, false);
  if (!info) return fail(info.error());
  std::int64_t newest = info->type == FileType::kRegular ? info->mtime_ms : 0;
  for (const char* sub : {"metrics", "params", "tags"})
    newest_mtime(env, detail::join(run_dir, sub), 0, newest);
  if (newest == 0) return fail(Status::not_found(run_dir, "no meta.yaml, metric, param or tag file"));
  return newest;
}

}  // namespace mlruns
