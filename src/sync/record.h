// The local record of a sync (docs/sync.md#the-record): what one server has
// acknowledged, per run, kept in the tree where no MLflow reader looks:
//
//   <root>/.mlruns-sync.trash/tree-id                  the tree's random UUID
//   <root>/.mlruns-sync.trash/<server key>/server      the server's URL (no credentials)
//   <root>/.mlruns-sync.trash/<server key>/runs/<run id>.json   RunRecord
//   <root>/.mlruns-sync.trash/<server key>/runs/<run id>.lock   held while a sync works on the run
//
// A root folder whose name ends in ".trash" is skipped by every MLflow
// reader (spec §1.2), by mlruns' Reader and by fsck. Record files are
// replaced atomically (temp + rename), after the server acknowledged what
// they say; before a metric batch goes out, its ranges are written as
// `pending`, so a sync killed between the server's commit and the record's
// update verifies those points against the server instead of sending them
// twice.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "mlruns/env.h"
#include "mlruns/status.h"

namespace mlruns::detail {

inline constexpr std::string_view kSyncDir = ".mlruns-sync.trash";
// The run tag that names a run's origin: "<tree id>/<local run id>".
inline constexpr std::string_view kSyncSourceTag = "mlruns.sync.source";

// 64-bit FNV-1a as 16 hex digits: the record's hashes of values sent.
std::string hash_hex(std::string_view data);

// What the server has of one metric file.
struct MetricAck {
  std::uint64_t offset = 0;     // bytes of whole lines acknowledged (or found on the server)
  std::uint64_t size_seen = 0;  // the file's size when last looked at
};

// Bytes [from, to) of a metric file sent in a batch not yet acknowledged.
struct PendingRange {
  std::uint64_t from = 0;
  std::uint64_t to = 0;
};

struct ArtifactAck {
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
};

struct RunRecord {
  std::string server_run_id;
  std::string server_experiment_id;
  std::string server_artifact_uri;
  bool create_attempted = false;  // a CreateRun went out before server_run_id was known
  bool server_deleted = false;    // the server's run was last left deleted
  // Fingerprints (hash of names, sizes, times) of meta.yaml + params/ +
  // tags/ + inputs/, and of the artifacts, when all of it was sent; empty
  // when not (or when a file was too fresh to trust its time).
  std::string meta_fp;
  std::string art_fp;
  std::string local_artifact_dir;  // where the artifacts were found
  std::string info_hash;           // status, end time and name sent
  std::string skipped_fp;          // meta_fp of a deleted run left out (not looked at again until it changes)
  std::map<std::string, std::string> params;  // key -> hash of the value sent
  std::map<std::string, std::string> tags;
  std::set<std::string> inputs;  // dataset inputs sent (name, digest, tags)
  std::map<std::string, MetricAck> metrics;
  std::map<std::string, PendingRange> pending;
  std::map<std::string, ArtifactAck> artifacts;  // relative path -> what was sent
  std::map<std::string, std::string> conflicts;  // param key -> server value, as last seen
};

std::string to_json(const RunRecord& record);
// kCorruption for text that is not a record (then the record counts as lost).
Result<RunRecord> parse_run_record(std::string_view json);

// The records of one tree for one server.
class RecordStore {
 public:
  // `server_url` without credentials; its normalized form picks the folder.
  RecordStore(Env& env, std::string root, std::string_view server_url);

  // Creates the folders and the `server` file (not in a dry run).
  Status prepare();
  const std::string& dir() const { return dir_; }

  // nullopt: no record, or one that cannot be parsed (it is rebuilt).
  std::optional<RunRecord> load(std::string_view run_id) const;
  Status save(std::string_view run_id, const RunRecord& record) const;
  // Held while a sync works on the run; blocks while another sync holds it.
  Result<std::unique_ptr<FileLock>> lock(std::string_view run_id) const;

 private:
  Env& env_;
  std::string root_;
  std::string dir_;  // <root>/.mlruns-sync.trash/<server key>
  std::string server_url_;
};

// The tree's id: read from <root>/.mlruns-sync.trash/tree-id, or (with
// `create`) made once: a random UUID written to a temp file and linked into
// place, so that two first syncs racing agree on one id. nullopt without
// `create` when there is none yet.
Result<std::optional<std::string>> tree_id(Env& env, const std::string& root, bool create);

}  // namespace mlruns::detail
