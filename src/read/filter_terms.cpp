// The terms of MLflow's search language (filter_parser.h) that the parser,
// the evaluator (search_eval.cpp) and ranking share: LIKE matching, attribute
// names and their aliases, operators, entity prefixes, error columns.
#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "read/filter_parser.h"

namespace mlruns {
namespace detail {

std::size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;  // stray byte: one "character"
}

namespace {

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool like_match(std::string_view text, std::string_view pattern, bool ignore_case) {
  // Greedy wildcard matching with one backtrack point: the last '%' seen.
  std::size_t t = 0, p = 0;
  std::size_t star_p = std::string_view::npos, star_t = 0;
  auto same = [&](char a, char b) { return ignore_case ? ascii_lower(a) == ascii_lower(b) : a == b; };
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '%') {
      star_p = p++;
      star_t = t;
    } else if (p < pattern.size() && pattern[p] == '_') {
      t += std::min(utf8_length(static_cast<unsigned char>(text[t])), text.size() - t);
      ++p;
    } else if (p < pattern.size() && same(pattern[p], text[t])) {
      ++p;
      ++t;
    } else if (star_p != std::string_view::npos) {
      // Let the last '%' swallow one more character and retry.
      p = star_p + 1;
      star_t += std::min(utf8_length(static_cast<unsigned char>(text[star_t])), text.size() - star_t);
      t = star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

std::optional<std::string> canonical_attribute(std::string_view name) {
  static constexpr std::array<std::string_view, 8> kNames = {
      "run_id", "run_name", "status", "start_time", "end_time", "user_id", "artifact_uri",
      "lifecycle_stage"};
  for (std::string_view n : kNames)
    if (n == name) return std::string(n);
  if (name == "created" || name == "Created") return std::string("start_time");
  if (name == "run name" || name == "Run name" || name == "Run Name") return std::string("run_name");
  return std::nullopt;
}

bool is_numeric_attribute(std::string_view canonical_name) {
  return canonical_name == "start_time" || canonical_name == "end_time";
}

std::optional<Op> op_from_string(std::string_view op) {
  static constexpr std::array<std::pair<std::string_view, Op>, 10> kOps = {{
      {"=", Op::kEq}, {"!=", Op::kNe}, {"<", Op::kLt}, {"<=", Op::kLe}, {">", Op::kGt},
      {">=", Op::kGe}, {"LIKE", Op::kLike}, {"ILIKE", Op::kILike}, {"IN", Op::kIn},
      {"NOT IN", Op::kNotIn}}};
  for (const auto& [name, value] : kOps)
    if (name == op) return value;
  return std::nullopt;
}

std::string_view to_string(Op op) {
  switch (op) {
    case Op::kEq: return "=";
    case Op::kNe: return "!=";
    case Op::kLt: return "<";
    case Op::kLe: return "<=";
    case Op::kGt: return ">";
    case Op::kGe: return ">=";
    case Op::kLike: return "LIKE";
    case Op::kILike: return "ILIKE";
    case Op::kIn: return "IN";
    case Op::kNotIn: return "NOT IN";
  }
  return "=";
}

std::string_view entity_prefix(Clause::Entity entity) {
  switch (entity) {
    case Clause::Entity::kMetric: return "metrics";
    case Clause::Entity::kParam: return "params";
    case Clause::Entity::kTag: return "tags";
    case Clause::Entity::kAttribute: return "attributes";
    case Clause::Entity::kDataset: return "datasets";
  }
  return "attributes";
}

std::size_t column_of(std::string_view text, std::size_t offset) {
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++column;
  return column;
}

}  // namespace detail
}  // namespace mlruns
