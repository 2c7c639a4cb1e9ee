// Internals of MLflow's search language (spec §10.2) shared by the parser
// (filter_parser.cpp), the evaluator (search_eval.cpp) and ranking; their
// definitions are in filter_terms.cpp.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "mlruns/search.h"

namespace mlruns::detail {

// SQL LIKE, anchored at both ends: '%' matches any run of characters
// (newlines included), '_' exactly one UTF-8 character, everything else
// itself. There is no escape character. `ignore_case` folds ASCII letters
// (ILIKE). MLflow turns the pattern into an unescaped regex instead; see
// docs/search.md for the differences.
bool like_match(std::string_view text, std::string_view pattern, bool ignore_case);

// The canonical name of a run attribute ("created" -> "start_time",
// "Run Name" -> "run_name", ...), or nullopt if `name` is not one.
std::optional<std::string> canonical_attribute(std::string_view name);
// start_time and end_time compare as numbers; the others as strings.
bool is_numeric_attribute(std::string_view canonical_name);

// Comparison operators in evaluation order of the grammar.
enum class Op { kEq, kNe, kLt, kLe, kGt, kGe, kLike, kILike, kIn, kNotIn };
// "=", "LIKE", "NOT IN" ... (as stored in Clause::op); nullopt if unknown.
std::optional<Op> op_from_string(std::string_view op);
std::string_view to_string(Op op);

// "metrics", "params", ... as used in messages and docs.
std::string_view entity_prefix(Clause::Entity entity);

// 1-based character (not byte) column of `offset` in `text`, for carets
// under a UTF-8 filter.
std::size_t column_of(std::string_view text, std::size_t offset);

// Bytes of the UTF-8 character that starts with `lead`; 1 for a stray byte.
std::size_t utf8_length(unsigned char lead);

}  // namespace mlruns::detail
