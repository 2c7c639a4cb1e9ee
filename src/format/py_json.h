// JSON text exactly as Python's json.dumps(value) writes it with its default
// arguments, as MLflow stores JSON in tags and in MLmodel signatures (spec
// §8.3): ", " between items and ": " after keys, no newlines, keys in the
// value's own order, ensure_ascii (every non-ASCII character as \uXXXX,
// astral ones as surrogate pairs), floats as repr(float) (1.0, 1e-05) and
// NaN, Infinity, -Infinity as Python writes them. Thread safety: pure.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace mlruns::detail {

using OrderedJson = nlohmann::ordered_json;

std::string py_json_dumps(const OrderedJson& value);

}  // namespace mlruns::detail
