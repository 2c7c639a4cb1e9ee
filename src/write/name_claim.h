// Names that must be unique across processes and nodes (experiment names;
// registered model names next), on file systems where only mkdir and rename
// are atomic (NFS, Lustre). No lock files: a claim is a folder
//
//   <root>/.mlruns-names.trash/<kind>/<32 hex digits of the name's hash>[-<n>]/
//       name    the claimed name, byte for byte
//       owner   the id of what holds it (an experiment id)
//
// built in a private staging folder and renamed into place whole: rename onto
// an existing non-empty folder fails atomically, so of many processes exactly
// one claims a name. The folder's name ends in ".trash", which every MLflow
// reader skips at the root (spec §1.2: a root folder that is not a valid
// experiment id, such as one starting with '.', breaks MLflow's
// search_experiments, while names ending in ".trash" are skipped).
//
// A claim stays while its owner holds the name (an active or a deleted
// experiment: MLflow refuses a name a deleted experiment holds). A claim
// whose owner no longer holds the name (a killed creator, a rename or gc by
// MLflow or by hand) is stale once older than `grace_ms` (a creator between
// claim and publish, or a rename between claim and rewrite, is not stale):
// the next claimer moves it aside, checks that what it moved is what it
// judged stale, and claims again. Trees written by MLflow have no claims, so a
// claimer still looks for an existing holder of the name after claiming
// (NameClaims::claim's `holder` callback does both checks).
//
// Thread safety: reentrant; the Env must be thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlruns/env.h"
#include "mlruns/status.h"

namespace mlruns::detail {

// The root folder of every claim ("<root>/.mlruns-names.trash").
inline constexpr std::string_view kNameClaimsDir = ".mlruns-names.trash";

// A claim whose owner does not hold the name is stale after this long (a
// creator between claim and publish, a rename between claim and rewrite, are
// not stale).
inline constexpr std::int64_t kNameClaimGraceMs = 60 * 1000;

struct NameClaim {
  std::string dir;    // the claim folder
  std::string name;   // as read from it
  std::string owner;  // as read from it
  std::int64_t mtime_ms = 0;
};

class NameClaims {
 public:
  // `root`: the tree root; `kind`: a folder per kind of name ("experiments",
  // "registered-models"). Claims are built under temp names
  // (.mlruns-tmp-*) in the kind's folder and renamed into place.
  NameClaims(Env& env, std::string root, std::string kind);

  // Does `owner` hold `name` now? (The experiment exists, active or deleted,
  // with this name.)
  using HoldsFn = std::function<bool(std::string_view owner, std::string_view name)>;

  // Claims `name` for `owner`. kAlreadyExists (naming the holder's id) if a
  // live claim holds it; a stale claim (see above) is taken over. The caller
  // then checks for holders without a claim (MLflow-made) and calls release()
  // if it gives up.
  Status claim(std::string_view name, std::string_view owner, const HoldsFn& holds, std::int64_t grace_ms,
               std::int64_t now_ms);

  // Removes the claim of `name` if `owner` holds it (best effort: a leftover
  // becomes stale). OK if there is none.
  Status release(std::string_view name, std::string_view owner);

  // Every claim folder (for fsck: stale ones are findings).
  std::vector<NameClaim> list() const;

  // The claim of `name`, if any.
  std::optional<NameClaim> find(std::string_view name) const;

  const std::string& dir() const { return dir_; }

 private:
  std::optional<NameClaim> read(const std::string& dir) const;
  Env& env_;
  std::string root_;
  std::string dir_;  // <root>/.mlruns-names.trash/<kind>
};

// 32 hex digits of a 128-bit hash of `name` (two FNV-1a lanes, finalised):
// the same on every platform. Collisions cost a probe ("-1", "-2", ...).
std::string name_hash_hex(std::string_view name);

}  // namespace mlruns::detail
