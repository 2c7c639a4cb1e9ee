// Names that become paths: metric, param and tag keys, experiment and run ids,
// artifact paths. Every such name is checked here before it touches the disk,
// so a key like "../../etc/passwd" or "a\0b" never reaches the file system.
//
// The rules are MLflow's (spec §6.1, §6.4) plus a stricter portable default:
// NameRules::kPortable refuses what some MLflow reader rejects (':' breaks
// readers before 2.16, spec §14.6; non-ASCII is avoided as §13.1 advises).
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string_view>

#include "mlruns/status.h"

namespace mlruns {

enum class NameRules {
  kPortable,  // [A-Za-z0-9_./- ] only: readable by every MLflow from 1.30 to 3.x
  kMlflow,    // MLflow >= 2.16 on Linux: also ':' and non-ASCII UTF-8 letters
};

// Lengths are in characters (Unicode code points), as MLflow counts them
// with Python's len(): a key of 88 CJK characters (264 bytes) is fine.
inline constexpr std::size_t kMaxKeyLength = 250;          // spec §6.2
inline constexpr std::size_t kMaxParamValueLength = 6000;  // spec §6.2 (>= 2.8)
inline constexpr std::size_t kMaxTagValueLength = 8000;    // spec §6.2 (>= 2.17)
inline constexpr std::size_t kMaxExperimentNameLength = 500;
inline constexpr std::size_t kMaxRunNameLength = 250;
inline constexpr std::size_t kMaxArtifactPathLength = 4096;

// Checks a metric, param or tag key. `what` names it in the error, e.g.
// "param key". Errors read: "param key 'a:b': ':' is not allowed ... (spec §6.1)".
Status validate_key(std::string_view what, std::string_view key,
                    NameRules rules = NameRules::kPortable);
bool is_valid_key(std::string_view key, NameRules rules = NameRules::kPortable);
// A run or experiment tag key: the name rules of validate_key and no length
// limit in characters, as MLflow's set_tag and set_experiment_tag (file
// store, 2.10 and 3.8: FileStore.set_tag and set_experiment_tag call only
// _validate_tag_name; only log_batch applies the 250 of _validate_tag). Each
// '/'-separated part becomes a file or folder name: at most 255 bytes
// (NAME_MAX), else the key could not be written at all.
Status validate_tag_key(std::string_view what, std::string_view key, NameRules rules = NameRules::kPortable);
// What MLflow's readers check when they load a key from a tree: the name
// rules of validate_key, without the length limit, which only its writers
// apply (spec §6, §6.2). The reader and fsck use this: a 251-character tag
// key written by another client is read by MLflow 2.x and 3.x.
Status validate_key_name(std::string_view what, std::string_view key, NameRules rules = NameRules::kMlflow);

// Experiment id: ^[a-zA-Z0-9][\w-]{0,63}$ (ASCII), spec §6.4.
Status validate_experiment_id(std::string_view id);
// Run id: ^[a-zA-Z0-9][\w-]{0,255}$ (ASCII), spec §6.4.
Status validate_run_id(std::string_view id);
// Experiment name: non-empty, <= 500 characters, valid UTF-8, no control
// bytes, no "'" (MLflow >= 2.0 cannot look such a name up, spec §3.4).
Status validate_experiment_name(std::string_view name);
// A relative artifact path such as "checkpoint_000010/model.pt": no leading
// '/', no "." or ".." component, no empty component, no control bytes, valid
// UTF-8. The empty path means the artifact root.
Status validate_artifact_path(std::string_view path);
// The same artifact path with the spellings that name the same folder
// folded into one: "." components and repeated or trailing '/' go
// ("ckpts/best/" and "./ckpts//best" give "ckpts/best"; "." and "./" give
// "", the artifact root), as a shell's tab completion or a user types them.
// A leading '/' and ".." are kept (validate_artifact_path refuses them).
// Every verb and function taking an artifact path applies it first.
std::string normalize_artifact_path(std::string_view path);

// ---- Model Registry names (spec §9.4) ----
inline constexpr std::size_t kMaxRegisteredModelNameBytes = 255;  // a folder name (NAME_MAX)
inline constexpr std::size_t kMaxModelAliasLength = 255;          // MLflow's limit
inline constexpr std::size_t kMaxRegistryTagValueLength = 5000;   // MLflow 2.x's (3.x: 100,000)

// A registered model name, which is also the name of its folder
// <root>/models/<name>/: MLflow's rules (not empty, no '/', no '%' (3.x))
// plus what a folder and a models:/ URI need: valid UTF-8, at most 255
// bytes, no '\', no control characters, no leading '.', no leading or
// trailing white space. Errors read "registered model name 'a/b': ...".
Status validate_registered_model_name(std::string_view name);
// A model alias (<root>/models/<name>/aliases/<alias>): MLflow's rule
// ^[\w\-]*$ restricted to ASCII (letters, digits, '_', '-'), 1 to 255
// characters, not "latest" in any case and not v<digits> (MLflow reserves
// both: models:/NAME/latest, models:/NAME@v3).
Status validate_model_alias(std::string_view alias);

// True if `s` is well-formed UTF-8 (no overlongs, no surrogates).
bool is_valid_utf8(std::string_view s);

}  // namespace mlruns
