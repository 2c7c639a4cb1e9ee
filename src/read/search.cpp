// search_runs: read what the query needs, filter, sort, page (spec §10.2).
//
// MLflow loads every run completely before filtering. We ask the Reader for
// the parts the filter and order use (meta.yaml plus, e.g., one metric file
// per run), and load what SearchQuery::fields asks for beyond that only for
// the runs of the returned page (Reader::complete_runs: nothing read twice).
#include <algorithm>
#include <string>
#include <utility>

#include "mlruns/search.h"

namespace mlruns {

namespace {

bool has_metric(const RunFields& f, const std::string& key) {
  return f.all_metrics || std::find(f.metrics.begin(), f.metrics.end(), key) != f.metrics.end();
}

// True if loading `have` gives everything `want` asks for.
bool covers(const RunFields& have, const RunFields& want) {
  if (want.params && !have.params) return false;
  if (want.tags && !have.tags) return false;
  if (want.inputs && !have.inputs) return false;
  if (want.all_metrics) return have.all_metrics;
  return std::all_of(want.metrics.begin(), want.metrics.end(),
                     [&](const std::string& k) { return has_metric(have, k); });
}

}  // namespace

Result<SearchPage> search_runs(const Reader& reader, const SearchQuery& query) {
  if (query.max_results == 0 || query.max_results > kMaxSearchResults)
    return fail(Status::invalid_argument("max_results " + std::to_string(query.max_results),
                                         "must be between 1 and 50000 (MLflow's limit, spec §10.2)"));
  auto clauses = parse_filter(query.filter);
  if (!clauses) return fail(clauses.error());
  std::vector<OrderKey> order;
  for (const std::string& o : query.order_by) {
    auto key = parse_order_by(o);
    if (!key) return fail(key.error());
    order.push_back(std::move(*key));
  }
  auto offset = parse_page_token(query.page_token);
  if (!offset) return fail(offset.error());

  RunFields needed = fields_needed(*clauses, order);
  bool one_pass = covers(needed, query.fields);
  auto runs = reader.runs(query.experiment_ids, query.view, needed);
  if (!runs) return fail(runs.error());

  if (!clauses->empty())
    runs->erase(std::remove_if(runs->begin(), runs->end(), [&](const Run& r) { return !matches(r, *clauses); }),
                runs->end());
  sort_runs(*runs, order);

  SearchPage page;
  const std::size_t begin = std::min(*offset, runs->size());
  const std::size_t end = std::min(runs->size(), begin + query.max_results);
  page.runs.assign(std::make_move_iterator(runs->begin() + static_cast<std::ptrdiff_t>(begin)),
                   std::make_move_iterator(runs->begin() + static_cast<std::ptrdiff_t>(end)));
  if (*offset + query.max_results < runs->size()) page.next_page_token = make_page_token(*offset + query.max_results);

  // The page's runs get the rest of query.fields; what the listing read
  // (meta.yaml, the filter's and order's metrics) is not read again.
  if (!one_pass) reader.complete_runs(page.runs, needed, query.fields);
  return page;
}

}  // namespace mlruns
