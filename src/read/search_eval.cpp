// Evaluating parsed filters, MLflow's run order and page tokens (spec §10.2).
// Nothing here touches the file system: these work on loaded Runs.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <numeric>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "mlruns/search.h"
#include "read/filter_parser.h"
#include "util/printable.h"

namespace mlruns {

namespace {

using detail::Op;
using Entity = Clause::Entity;

constexpr std::string_view kDatasetContextTag = "mlflow.data.context";

template <typename T>
bool compare(const T& lhs, Op op, const T& rhs) {
  switch (op) {
    case Op::kEq: return lhs == rhs;
    case Op::kNe: return lhs != rhs;
    case Op::kLt: return lhs < rhs;
    case Op::kLe: return lhs <= rhs;
    case Op::kGt: return lhs > rhs;
    case Op::kGe: return lhs >= rhs;
    default: return false;
  }
}

bool compare_string(std::string_view lhs, Op op, const Clause& c) {
  switch (op) {
    case Op::kEq: return lhs == c.value;
    case Op::kNe: return lhs != c.value;
    case Op::kLike: return detail::like_match(lhs, c.value, false);
    case Op::kILike: return detail::like_match(lhs, c.value, true);
    case Op::kIn: return std::find(c.values.begin(), c.values.end(), lhs) != c.values.end();
    case Op::kNotIn: return std::find(c.values.begin(), c.values.end(), lhs) == c.values.end();
    default: return false;  // the parser refuses < > on strings
  }
}

// A string attribute's value; nullopt for numeric or unknown names.
std::optional<std::string_view> string_attribute(const RunInfo& info, std::string_view key) {
  if (key == "run_id") return std::string_view(info.run_id);
  if (key == "run_name") return std::string_view(info.run_name);
  if (key == "status") return to_string(info.status);
  if (key == "user_id") return std::string_view(info.user_id);
  if (key == "artifact_uri") return std::string_view(info.artifact_uri);
  if (key == "lifecycle_stage") return to_string(info.lifecycle_stage);
  return std::nullopt;
}

std::optional<std::int64_t> numeric_attribute(const RunInfo& info, std::string_view key) {
  if (key == "start_time") return info.start_time;
  if (key == "end_time") return info.end_time;
  return std::nullopt;
}

bool clause_matches(const Run& run, const Clause& c) {
  auto op = detail::op_from_string(c.op);
  if (!op) return false;
  switch (c.entity) {
    case Entity::kMetric: {
      auto it = run.metrics.find(c.key);
      if (it == run.metrics.end()) return false;
      // IEEE comparisons, as Python's: NaN matches only !=.
      return compare(it->second.value, *op, c.number);
    }
    case Entity::kParam: {
      auto it = run.params.find(c.key);
      return it != run.params.end() && compare_string(it->second, *op, c);
    }
    case Entity::kTag: {
      auto it = run.tags.find(c.key);
      return it != run.tags.end() && compare_string(it->second, *op, c);
    }
    case Entity::kAttribute: {
      if (detail::is_numeric_attribute(c.key)) {
        auto v = numeric_attribute(run.info, c.key);
        return v && compare(static_cast<double>(*v), *op, c.number);
      }
      auto v = string_attribute(run.info, c.key);
      return v && compare_string(*v, *op, c);
    }
    case Entity::kDataset:
      // MLflow's SearchUtils: the run matches if ANY of its dataset inputs
      // does; context is the input tag mlflow.data.context, and inputs
      // without it are not compared. No inputs: no match, even for != and NOT IN.
      for (const DatasetInput& in : run.dataset_inputs) {
        if (c.key == "context") {
          auto it = in.tags.find(std::string(kDatasetContextTag));
          if (it != in.tags.end() && compare_string(it->second, *op, c)) return true;
        } else if (c.key == "name" || c.key == "digest") {
          const std::string& v = c.key == "name" ? in.dataset.name : in.dataset.digest;
          if (compare_string(v, *op, c)) return true;
        }
      }
      return false;
  }
  return false;
}

// One order key's value for one run, ready to compare.
struct SortValue {
  enum Class : std::uint8_t { kReal = 0, kNaN = 1, kMissing = 2 } cls = kMissing;
  double number = 0;
  std::string_view text;
  bool is_text = false;
};

SortValue sort_value(const Run& run, const OrderKey& key) {
  SortValue v;
  auto set_text = [&](std::string_view s) {
    v.cls = SortValue::kReal;
    v.text = s;
    v.is_text = true;
  };
  switch (key.entity) {
    case Entity::kMetric: {
      auto it = run.metrics.find(key.key);
      if (it != run.metrics.end()) {
        v.number = it->second.value;
        v.cls = std::isnan(v.number) ? SortValue::kNaN : SortValue::kReal;
      }
      break;
    }
    case Entity::kParam: {
      auto it = run.params.find(key.key);
      if (it != run.params.end()) set_text(it->second);
      break;
    }
    case Entity::kTag: {
      auto it = run.tags.find(key.key);
      if (it != run.tags.end()) set_text(it->second);
      break;
    }
    case Entity::kAttribute: {
      if (detail::is_numeric_attribute(key.key)) {
        if (auto n = numeric_attribute(run.info, key.key)) {
          v.cls = SortValue::kReal;
          v.number = static_cast<double>(*n);
        }
      } else if (auto s = string_attribute(run.info, key.key)) {
        set_text(*s);
      }
      break;
    }
    case Entity::kDataset:
      break;
  }
  return v;
}

// <0, 0, >0 like strcmp. Real values first, then NaN, then missing, in both
// directions (MLflow's SearchUtils._get_value_for_sort).
int compare_values(const SortValue& a, const SortValue& b, bool ascending) {
  if (a.cls != b.cls) return a.cls < b.cls ? -1 : 1;
  if (a.cls != SortValue::kReal) return 0;
  int c = 0;
  if (a.is_text) {
    c = a.text.compare(b.text);
    c = c < 0 ? -1 : (c > 0 ? 1 : 0);
  } else {
    c = a.number < b.number ? -1 : (b.number < a.number ? 1 : 0);
  }
  return ascending ? c : -c;
}

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::string_view in) {
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kBase64[(n >> s) & 63];
  }
  if (std::size_t rest = in.size() - i) {
    unsigned n = static_cast<unsigned char>(in[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += rest == 2 ? kBase64[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    const char* p = c ? std::strchr(kBase64, c) : nullptr;
    if (!p) return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(p - kBase64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if (bits >= 6) return std::nullopt;  // a lone trailing character
  return out;
}

}  // namespace

bool matches(const Run& run, const std::vector<Clause>& clauses) {
  for (const Clause& c : clauses)
    if (!clause_matches(run, c)) return false;
  return true;
}

void sort_runs(std::vector<Run>& runs, const std::vector<OrderKey>& order) {
  // Sort indices over precomputed keys: map lookups once per run, not per comparison.
  const std::size_t n = runs.size(), k = order.size();
  std::vector<SortValue> values(n * k);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < k; ++j) values[i * k + j] = sort_value(runs[i], order[j]);
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
    for (std::size_t j = 0; j < k; ++j) {
      int c = compare_values(values[a * k + j], values[b * k + j], order[j].ascending);
      if (c != 0) return c < 0;
    }
    // Base order: start_time DESC, then run_id ASC.
    const RunInfo& x = runs[a].info;
    const RunInfo& y = runs[b].info;
    if (x.start_time != y.start_time) return x.start_time > y.start_time;
    return x.run_id < y.run_id;
  });
  std::vector<Run> sorted;
  sorted.reserve(n);
  for (std::size_t i : idx) sorted.push_back(std::move(runs[i]));
  runs = std::move(sorted);
}

RunFields fields_needed(const std::vector<Clause>& filter, const std::vector<OrderKey>& order) {
  RunFields f = RunFields::info_only();
  std::set<std::string> metrics;
  auto need = [&](Entity e, const std::string& key) {
    if (e == Entity::kParam) f.params = true;
    if (e == Entity::kTag) f.tags = true;
    if (e == Entity::kMetric) metrics.insert(key);
    if (e == Entity::kDataset) f.inputs = true;
  };
  for (const Clause& c : filter) need(c.entity, c.key);
  for (const OrderKey& o : order) need(o.entity, o.key);
  f.metrics.assign(metrics.begin(), metrics.end());
  return f;
}

std::string make_page_token(std::size_t offset) {
  // Byte for byte what Python's json.dumps({"offset": N}) gives, then base64.
  return base64_encode("{\"offset\": " + std::to_string(offset) + "}");
}

Result<std::size_t> parse_page_token(std::string_view token) {
  if (token.empty()) return 0;
  auto bad = [&](std::string_view why) {
    return fail(Status::invalid_argument("page token '" + detail::printable_prefix(token, 60) + "'",
                                         std::string(why) + " (pass the next_page_token of a previous search)"));
  };
  auto decoded = base64_decode(token);
  if (!decoded) return bad("not base64");
  nlohmann::json j = nlohmann::json::parse(*decoded, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("offset"))
    return bad("not the JSON {\"offset\": N} that MLflow's tokens hold");
  const nlohmann::json& off = j["offset"];
  if (off.is_number_unsigned()) return off.get<std::size_t>();
  if (off.is_string()) {
    // MLflow accepts anything int() accepts; take plain decimal strings.
    const std::string& s = off.get_ref<const std::string&>();
    std::size_t value = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), value);
    if (r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty()) return value;
  }
  return bad("the offset must be a non-negative integer");
}

}  // namespace mlruns
