// search_runs with MLflow's filter language and ordering (spec §10.2).
//
//   mlruns::SearchQuery q{.experiment_ids = {exp},
//                         .filter = "metrics.episode_reward_mean > 100 and params.lr = '0.001'",
//                         .order_by = {"metrics.episode_reward_mean DESC"}};
//   auto page = mlruns::search_runs(reader, q);
//
// Only the files the query needs are read: a filter on one metric reads that
// metric's file per run, not all of them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mlruns/reader.h"
#include "mlruns/status.h"
#include "mlruns/types.h"

namespace mlruns {

struct SearchQuery {
  std::vector<std::string> experiment_ids{};
  std::string filter{};                 // MLflow filter string; empty matches all
  std::vector<std::string> order_by{};  // e.g. "metrics.loss ASC", "attributes.start_time DESC"
  ViewType view = ViewType::kActiveOnly;
  std::size_t max_results = 1000;     // at most 50000, as MLflow
  std::string page_token{};             // from a previous SearchPage
  // Which run parts to return in full; what the filter and order need is
  // always loaded for evaluation.
  RunFields fields = RunFields::everything();
};

struct SearchPage {
  std::vector<Run> runs{};
  std::string next_page_token{};  // empty on the last page
};

// MLflow's limit on max_results (spec §10.2).
inline constexpr std::size_t kMaxSearchResults = 50000;

// Filters, sorts (MLflow's order: missing and NaN last in both directions,
// ties by start_time DESC then run_id ASC) and pages. A syntax error is
// kInvalidArgument and names the position: "filter: at column 23: ...".
// max_results must be 1..kMaxSearchResults; a bad page token is
// kInvalidArgument. Reads only what the filter and order need for every run,
// and what `fields` asks for only for the runs of the returned page.
// The grammar and the rules are in docs/search.md.
Result<SearchPage> search_runs(const Reader& reader, const SearchQuery& query);

// MLflow's page token: base64 of the JSON {"offset": N}, the position of the
// page in the sorted result. Tokens from MLflow and mlruns interoperate.
std::string make_page_token(std::size_t offset);
Result<std::size_t> parse_page_token(std::string_view token);

// Parsed form of a filter, for callers that evaluate it themselves.
struct Clause {
  enum class Entity { kMetric, kParam, kTag, kAttribute, kDataset };
  Entity entity{};
  std::string key{};         // attribute names canonical: "start_time", "run_name" ...
  std::string op{};          // "=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN"
  std::string value{};       // string or number text
  std::vector<std::string> values{};  // for IN / NOT IN
  double number = 0;       // for numeric comparisons
};
Result<std::vector<Clause>> parse_filter(std::string_view filter);
// True if the run satisfies every clause (a missing key never matches; a
// datasets clause matches if any of run.dataset_inputs does, as in MLflow).
bool matches(const Run& run, const std::vector<Clause>& clauses);

struct OrderKey {
  Clause::Entity entity{};
  std::string key{};
  bool ascending = true;
};
Result<OrderKey> parse_order_by(std::string_view order_by);
// Sorts with MLflow's rules (see search_runs).
void sort_runs(std::vector<Run>& runs, const std::vector<OrderKey>& order);

// The run parts a filter and ordering need (used to read as little as possible).
RunFields fields_needed(const std::vector<Clause>& filter, const std::vector<OrderKey>& order);

}  // namespace mlruns
