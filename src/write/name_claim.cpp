#include "write/name_claim.h"

#include <algorithm>
#include <cerrno>

#include "env/atomic_file.h"
#include "util/printable.h"

namespace mlruns::detail {

namespace {

constexpr int kMaxProbes = 64;  // hash collisions tolerated per name

std::uint64_t mix64(std::uint64_t h) {
  h += 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

}  // namespace

std::string name_hash_hex(std::string_view name) {
  std::uint64_t a = 1469598103934665603ull, b = 0x84222325cbf29ce4ull;
  for (unsigned char c : name) {
    a = (a ^ c) * 1099511628211ull;
    b = (b ^ (c + 0x5bu)) * 0x100000001b3ull;
  }
  a = mix64(a ^ name.size());
  b = mix64(b + a);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (std::uint64_t v : {a, b})
    for (int i = 60; i >= 0; i -= 4) out += hex[(v >> i) & 0xf];
  return out;
}

NameClaims::NameClaims(Env& env, std::string root, std::string kind)
    : env_(env), root_(std::move(root)), dir_(join(join(root_, kNameClaimsDir), kind)) {}

std::optional<NameClaim> NameClaims::read(const std::string& dir) const {
  auto info = env_.stat(dir);
  if (!info || info->type != FileType::kDirectory) return std::nullopt;
  auto name = env_.read_file(join(dir, "name"), 1 << 16, true);
  auto owner = env_.read_file(join(dir, "owner"), 1 << 10, true);
  if (!name || !owner) return std::nullopt;
  return NameClaim{dir, *name, *owner, info->mtime_ms};
}

std::optional<NameClaim> NameClaims::find(std::string_view name) const {
  std::string base = join(dir_, name_hash_hex(name));
  for (int probe = 0; probe < kMaxProbes; ++probe) {
    std::string dir = probe == 0 ? base : base + "-" + std::to_string(probe);
    auto info = env_.stat(dir);
    if (!info || info->type == FileType::kMissing) return std::nullopt;
    auto c = read(dir);
    if (c && c->name == name) return c;
  }
  return std::nullopt;
}

std::vector<NameClaim> NameClaims::list() const {
  std::vector<NameClaim> out;
  auto entries = env_.list_dir(dir_);
  if (!entries) return out;
  for (const DirEntry& e : *entries) {
    if (e.type != FileType::kDirectory || e.name.rfind(kTempPrefix, 0) == 0) continue;
    std::string dir = join(dir_, e.name);
    if (auto c = read(dir)) out.push_back(std::move(*c));
    else out.push_back(NameClaim{dir, {}, {}, 0});  // unreadable: reported by fsck
  }
  std::sort(out.begin(), out.end(), [](const NameClaim& x, const NameClaim& y) { return x.dir < y.dir; });
  return out;
}

Status NameClaims::claim(std::string_view name, std::string_view owner, const HoldsFn& holds, std::int64_t grace_ms, std::int64_t now_ms) {
  const std::string base = join(dir_, name_hash_hex(name));
  const std::string shown = "name '" + escape_control(name) + "'";
  // An error names the name claimed, not the claim's internal path (which says why, after it).
  auto failed = [&](const Status& s) { return s.with_context(shown + ": could not be claimed"); };  // code, errno kept
  for (int probe = 0, takeovers = 0, vanished = 0; probe < kMaxProbes;) {
    std::string target = probe == 0 ? base : base + "-" + std::to_string(probe);
    // Build the claim whole, then one rename publishes it.
    std::string staged = join(dir_, unique_temp_name(".claim"));
    Status s = env_.create_dirs(dir_);
    if (s.is_ok()) s = env_.create_dir(staged);
    if (s.is_ok()) s = write_new_file(env_, join(staged, "name"), name, false);
    if (s.is_ok()) s = write_new_file(env_, join(staged, "owner"), owner, false);
    if (s.is_ok()) s = env_.rename(staged, target);
    if (s.is_ok()) return Status::ok();
    (void)env_.remove_tree(staged);
    if (s.code() == Code::kNotFound && ++vanished <= 3) continue;  // the claims folder moved meanwhile: again
    if (s.code() != Code::kAlreadyExists && s.os_error() != ENOTEMPTY && s.os_error() != EEXIST) return failed(s);
    auto held = read(target);
    if (!held) {
      // Being built by another claimer, or damaged: a damaged one older than
      // the grace period is moved aside; a young one counts as taken.
      auto info = env_.stat(target);
      if (info && info->type == FileType::kDirectory && now_ms - info->mtime_ms < grace_ms)
        return Status::already_exists(shown, "is being claimed by another process");
    } else if (held->name != name) {
      ++probe;  // a hash collision: the next slot
      continue;
    } else if (held->owner == owner) {
      return Status::ok();  // already ours (a restore of the experiment that holds it)
    } else if (holds(held->owner, name)) {
      return Status::already_exists(shown, "is held by experiment " + held->owner);
    } else if (now_ms - held->mtime_ms < grace_ms) {
      // Its owner is being created (or renamed) right now.
      return Status::already_exists(shown, "is being claimed by experiment " + held->owner);
    }
    // Stale: move it aside (one process wins this rename), check that what
    // moved is what was judged stale, then claim again.
    if (++takeovers > 8) return Status::io_error(shown, "claim keeps changing; giving up");
    std::string aside = join(dir_, unique_temp_name(".stale-claim"));
    if (!env_.rename(target, aside).is_ok()) continue;  // someone else took it over
    auto moved = read(aside);
    bool same = moved && held && moved->owner == held->owner && moved->name == held->name;
    if (!same && moved && holds(moved->owner, moved->name)) {
      // A live claim slipped in between: put it back (if that fails, its
      // owner still holds the name, and claimers look for holders).
      (void)env_.rename(aside, target);
      return Status::already_exists(shown, "is held by experiment " + moved->owner);
    }
    (void)env_.remove_tree(aside);
  }
  return Status::io_error(shown, "no free claim slot after " + std::to_string(kMaxProbes) + " hash collisions");
}

Status NameClaims::release(std::string_view name, std::string_view owner) {
  auto c = find(name);
  if (!c || c->owner != owner) return Status::ok();
  // Out of sight first (one rename), so no claimer reads half a claim.
  std::string aside = join(dir_, unique_temp_name(".released"));
  Status s = env_.rename(c->dir, aside);
  if (!s.is_ok()) return s.code() == Code::kNotFound ? Status::ok() : s;
  return env_.remove_tree(aside);
}

}  // namespace mlruns::detail
