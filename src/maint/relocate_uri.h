// Where an artifact URI should point once its tree has moved (spec §8.1,
// §8.2): shared by relocate and by fsck's "artifact URI points elsewhere".
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mlruns {
class Env;
}

namespace mlruns::detail {

struct RelocateTarget {
  std::string new_root;     // absolute path of the tree now, no trailing '/'
  std::string from_prefix;  // old absolute path of the tree, or empty
};

// "/a/b/" -> "/a/b" (a lone "/" stays).
std::string strip_trailing_slashes(std::string s);

// The relocated form of `old_value` (file: URI, absolute or 1.x relative
// path) for an item whose MLflow-built path ends in `tail` ("<exp>",
// "<exp>/<run>/artifacts"), keeping its form; nullopt if it must stay as it
// is (already right, remote, custom location not under from_prefix), with
// `why` saying why (empty when already right). `outside_from`, if given, is
// set to whether the value is a local path that is not under from_prefix.
std::optional<std::string> relocated_uri(std::string_view old_value, const std::string& tail,
                                         const RelocateTarget& target, std::string& why,
                                         bool* outside_from = nullptr);

// For a URI that does not end in a fixed tail (Model Registry `source` and
// `storage_location`, spec §9.4): the in-tree part of its path,
// "<exp>/<run>/artifacts[/...]" or "<exp>/models/<model>/artifacts[/...]",
// taking the leftmost such sequence whose experiment folder (in `root` or
// root/.trash) and run or logged-model folder exist in the tree as real
// directories. Pass it to relocated_uri as the tail. nullopt, with `why`, for
// remote URIs and paths into no item of this tree.
std::optional<std::string> in_tree_tail(Env& env, const std::string& root, std::string_view uri, std::string& why);

}  // namespace mlruns::detail
