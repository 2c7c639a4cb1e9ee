// yaml-cpp behind the guards a hostile tree needs: a size cap and a nesting
// cap (yaml-cpp recurses once per level of brackets or indentation), so that
// no MLmodel or registry meta.yaml can exhaust the stack or memory. Never
// throws. Thread safety: pure.
#pragma once

#include <string_view>

#include <yaml-cpp/yaml.h>

#include "mlruns/status.h"

namespace mlruns::detail {

// kCorruption, naming `what` (a path or "MLmodel"), for: more than
// `max_bytes`, more than 256 opening brackets, lines indented by more than
// 256 columns, or text yaml-cpp cannot parse.
Result<YAML::Node> load_yaml_guarded(std::string_view text, std::string_view what,
                                     std::size_t max_bytes = 1 << 20);

}  // namespace mlruns::detail
