// search_runs: read what the query needs, filter, sort, page (spec §10.2).
//
// MLflow loads every run completely before filtering. We ask the Reader for
// the parts the filter and order use (meta.yaml plus, e.g., one metric file
// per run), and load what SearchQuery::fields asks for beyond that only for
// the runs of the returned page.
#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>

#include "mlruns/search.h"
#include "util/parallel.h"

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

// Moves the parts `want` asks for from `full` into `dst`.
void merge_fields(Run& dst, Run&& full, const RunFields& want) {
  if (want.params) dst.params = std::move(full.params);
  if (want.tags) dst.tags = std::move(full.tags);
  if (want.inputs) dst.dataset_inputs = std::move(full.dataset_inputs);
  if (want.all_metrics) {
    dst.metrics = std::move(full.metrics);
  } else {
    for (const std::string& k : want.metrics) {
      auto it = full.metrics.find(k);
      if (it != full.metrics.end()) dst.metrics[k] = std::move(it->second);
    }
  }
}

std::string run_key(const RunInfo& info) { return info.experiment_id + '/' + info.run_id; }

// Fills in query.fields for the runs of the page. When the page holds nearly
// every run listed (90% or more), one more listing pass costs about the same
// as finding each run again and reads no run twice over; otherwise the page's
// runs are loaded one by one, in parallel, and runs off the page are not read.
// (The listing loads only query.fields: what the filter and order needed is
// in the page's runs already, and a metric file read again would be parsed
// again.)
Status load_page_fields(const Reader& reader, const SearchQuery& query, std::size_t listed, std::vector<Run>& page) {
  if (page.size() * 10 >= listed * 9) {
    auto all = reader.runs(query.experiment_ids, query.view, query.fields);
    if (!all) return all.error();
    std::unordered_map<std::string, Run*> by_key;
    by_key.reserve(all->size());
    for (Run& r : *all) by_key.emplace(run_key(r.info), &r);
    for (Run& r : page) {
      auto it = by_key.find(run_key(r.info));
      if (it != by_key.end()) merge_fields(r, std::move(*it->second), query.fields);
    }
    return Status::ok();
  }
  unsigned workers = std::min<unsigned>(detail::worker_count(page.size()), std::max(1u, reader.options().threads));
  detail::parallel_for(page.size(), workers, [&](std::size_t i) {
    // A run removed since the listing keeps what was read of it.
    auto full = reader.run(page[i].info.run_id);
    if (full && full->info.experiment_id == page[i].info.experiment_id)
      merge_fields(page[i], std::move(*full), query.fields);
  });
  return Status::ok();
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
  const std::size_t listed = runs->size();

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

  if (!one_pass && !page.runs.empty()) {
    Status s = load_page_fields(reader, query, listed, page.runs);
    if (!s.is_ok()) return fail(s);
  }
  return page;
}

}  // namespace mlruns
