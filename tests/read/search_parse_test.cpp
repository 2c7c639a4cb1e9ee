// Parsing MLflow's filter and order_by language (spec §10.2).
#include <catch2/catch.hpp>

#include <string>

#include "read/filter_parser.h"
#include "mlruns/search.h"

using namespace mlruns;
using Entity = Clause::Entity;

namespace {

Clause parse_one(const std::string& filter) {
  auto r = parse_filter(filter);
  INFO(filter << " -> " << (r ? std::string("ok") : r.error().to_string()));
  REQUIRE(r);
  REQUIRE(r->size() == 1);
  return r->front();
}

// The error message of a filter that must fail.
std::string error_of(const std::string& filter) {
  auto r = parse_filter(filter);
  INFO(filter);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Code::kInvalidArgument);
  return r.error().message();
}

}  // namespace

TEST_CASE("an empty or blank filter has no clauses (spec §10.2)", "[search][parse]") {
  CHECK(parse_filter("")->empty());
  CHECK(parse_filter("   \t ")->empty());
}

TEST_CASE("every entity prefix and alias of spec §10.2 is understood", "[search][parse]") {
  struct Case {
    const char* filter;
    Entity entity;
    const char* key;
  };
  const Case cases[] = {
      {"metrics.loss < 1", Entity::kMetric, "loss"},
      {"metric.loss < 1", Entity::kMetric, "loss"},
      {"params.lr = '0.1'", Entity::kParam, "lr"},
      {"param.lr = '0.1'", Entity::kParam, "lr"},
      {"parameter.lr = '0.1'", Entity::kParam, "lr"},
      {"parameters.lr = '0.1'", Entity::kParam, "lr"},
      {"tags.team = 'rl'", Entity::kTag, "team"},
      {"tag.team = 'rl'", Entity::kTag, "team"},
      {"attributes.status = 'FINISHED'", Entity::kAttribute, "status"},
      {"attribute.status = 'FINISHED'", Entity::kAttribute, "status"},
      {"attr.status = 'FINISHED'", Entity::kAttribute, "status"},
      {"run.status = 'FINISHED'", Entity::kAttribute, "status"},
      {"status = 'FINISHED'", Entity::kAttribute, "status"},
      {"datasets.name = 'iris'", Entity::kDataset, "name"},
      {"dataset.digest = 'abc'", Entity::kDataset, "digest"},
      {"`metrics`.loss < 1", Entity::kMetric, "loss"},
  };
  for (const Case& c : cases) {
    Clause clause = parse_one(c.filter);
    CHECK(clause.entity == c.entity);
    CHECK(clause.key == c.key);
  }
}

TEST_CASE("attribute aliases map to canonical names (spec §10.2)", "[search][parse]") {
  CHECK(parse_one("created > 5").key == "start_time");
  CHECK(parse_one("attributes.Created > 5").key == "start_time");
  CHECK(parse_one("attributes.`run name` = 'x'").key == "run_name");
  CHECK(parse_one("`Run name` = 'x'").key == "run_name");
  CHECK(parse_one("\"Run Name\" = 'x'").key == "run_name");
  for (const char* a : {"run_id", "run_name", "status", "start_time", "end_time", "user_id", "artifact_uri",
                        "lifecycle_stage"}) {
    bool numeric = std::string(a).find("time") != std::string::npos;
    CHECK(parse_one(std::string("attributes.") + a + (numeric ? " > 1" : " = 'x'")).key == a);
  }
}

TEST_CASE("keys may be back-quoted or double-quoted and hold spaces, dots, slashes", "[search][parse]") {
  CHECK(parse_one("metrics.`my metric` > 0.5").key == "my metric");
  CHECK(parse_one("params.\"lr\" = '0.01'").key == "lr");
  CHECK(parse_one("metrics.\"a b.c\" > 0").key == "a b.c");
  CHECK(parse_one("metrics.val/acc > 0").key == "val/acc");
  CHECK(parse_one("metrics.info/learner/default_policy/entropy < 3").key == "info/learner/default_policy/entropy");
  CHECK(parse_one("tags.mlflow.runName = 'x'").key == "mlflow.runName");
  CHECK(parse_one("params.batch-size = '64'").key == "batch-size");
  CHECK(parse_one("metrics.`it``s` > 0").key == "it`s");
}

TEST_CASE("every operator parses, words in any case", "[search][parse]") {
  CHECK(parse_one("metrics.x = 1").op == "=");
  CHECK(parse_one("metrics.x != 1").op == "!=");
  CHECK(parse_one("metrics.x < 1").op == "<");
  CHECK(parse_one("metrics.x <= 1").op == "<=");
  CHECK(parse_one("metrics.x > 1").op == ">");
  CHECK(parse_one("metrics.x >= 1").op == ">=");
  CHECK(parse_one("metrics.x>=1").op == ">=");
  CHECK(parse_one("params.x LIKE 'a%'").op == "LIKE");
  CHECK(parse_one("params.x like 'a%'").op == "LIKE");
  CHECK(parse_one("params.x ILike 'a%'").op == "ILIKE");
  Clause in = parse_one("attributes.run_id in ('a', \"b\",'c')");
  CHECK(in.op == "IN");
  CHECK(in.values == std::vector<std::string>{"a", "b", "c"});
  Clause not_in = parse_one("run_id NOT   IN ('a')");
  CHECK(not_in.op == "NOT IN");
  CHECK(not_in.values == std::vector<std::string>{"a"});
  CHECK(parse_one("datasets.context not in ('train')").op == "NOT IN");
}

TEST_CASE("clauses join with AND in any case", "[search][parse]") {
  auto r = parse_filter("metrics.episode_reward_mean > 100 and params.lr = '0.001' AND tags.x != \"y\" aNd status = 'FINISHED'");
  REQUIRE(r);
  REQUIRE(r->size() == 4);
  CHECK((*r)[0].number == 100);
  CHECK((*r)[1].value == "0.001");
  CHECK((*r)[2].value == "y");
  CHECK((*r)[3].value == "FINISHED");
  // Line breaks count as spaces.
  CHECK(parse_filter("metrics.a > 1\nAND\tmetrics.b < 2")->size() == 2);
}

TEST_CASE("numbers: negatives, decimals, exponents", "[search][parse]") {
  CHECK(parse_one("metrics.x > -1").number == -1);
  CHECK(parse_one("metrics.x > -0.25").number == -0.25);
  CHECK(parse_one("metrics.x > 1e3").number == 1000);
  CHECK(parse_one("metrics.x > 2.5E-2").number == 0.025);
  CHECK(parse_one("metrics.x > 1e+2").number == 100);
  CHECK(parse_one("metrics.x > .5").number == 0.5);
  CHECK(parse_one("metrics.x > 5.").number == 5);
  CHECK(parse_one("metrics.x > +3").number == 3);
  CHECK(parse_one("attributes.start_time >= 1704067200000").number == 1704067200000.0);
  CHECK(parse_one("metrics.x > -1").value == "-1");
}

TEST_CASE("string values: single or double quotes, doubled quote escapes", "[search][parse]") {
  CHECK(parse_one("params.a = 'x y'").value == "x y");
  CHECK(parse_one("params.a = \"x y\"").value == "x y");
  CHECK(parse_one("params.a = 'it''s'").value == "it's");
  CHECK(parse_one("params.a = 'it\\'s'").value == "it's");
  CHECK(parse_one("params.a = ''").value.empty());
  CHECK(parse_one("params.a = 'AND'").value == "AND");
  CHECK(parse_one("params.a = '\xc3\xa9t\xc3\xa9'").value == "\xc3\xa9t\xc3\xa9");
}

TEST_CASE("syntax errors name the 1-based column and the offending token", "[search][parse]") {
  CHECK(error_of("metrics.x foo 1") ==
        "filter: at column 11: expected a comparison operator after 'metrics.x', got 'foo'");
  CHECK(error_of("metrics.episode_reward_mean > 1 and params.lr = 0.001") ==
        "filter: at column 49: expected a quoted string after 'params.lr =', got '0.001' (write '0.001')");
  CHECK(error_of("metrics.x > 1 or metrics.y > 2") ==
        "filter: at column 15: OR is not supported: MLflow filters join comparisons with AND only");
  CHECK(error_of("metrics.x > 1 metrics.y > 2") ==
        "filter: at column 15: expected AND or the end of the filter, got 'metrics.y'");
  CHECK(error_of("metrics.x > 1 AND") == "filter: at column 18: expected a comparison after AND, got the end of the filter");
  CHECK(error_of("metrics.x >") == "filter: at column 12: expected a value after 'metrics.x >', got the end of the text");
  CHECK(error_of("params.a = 'abc") == "filter: at column 12: unterminated quoted string starting with '");
  CHECK(error_of("metrics.`abc > 1") == "filter: at column 9: unterminated backquoted key starting with `");
  CHECK(error_of("metrics.x > 1.2.3") == "filter: at column 13: malformed number '1.2.3' after 'metrics.x >'");
  CHECK(error_of("metrics. > 1") == "filter: at column 9: expected a key after 'metrics.', got a space");
  CHECK(error_of("run_id NOT ('a')") == "filter: at column 12: expected IN after NOT, got '('");
  CHECK(error_of("(metrics.x > 1)").find("at column 1: expected a key") != std::string::npos);
  CHECK(error_of("metrics.x == 1").find("at column 11: expected a comparison operator") != std::string::npos);
  CHECK(error_of("metrics.x <> 1").find("at column 11") != std::string::npos);
}

TEST_CASE("error columns count characters, not bytes", "[search][parse]") {
  // "é" is two bytes: the caret must still sit under "foo".
  CHECK(error_of("params.\"\xc3\xa9\" foo 'x'").find("at column 12:") != std::string::npos);
}

TEST_CASE("unknown entities and attributes are refused with the valid names", "[search][parse]") {
  CHECK(error_of("metricz.x > 1").find("at column 1: unknown entity 'metricz'") != std::string::npos);
  CHECK(error_of("Metrics.x > 1").find("unknown entity 'Metrics'") != std::string::npos);
  std::string e = error_of("attributes.experiment_id = '1'");
  CHECK(e.find("at column 12: unknown attribute 'experiment_id'") != std::string::npos);
  CHECK(e.find("run_name") != std::string::npos);
  CHECK(error_of("foo = 'x'").find("unknown attribute 'foo'") != std::string::npos);
  CHECK(error_of("datasets.size = 'x'").find("unknown dataset field 'size'") != std::string::npos);
  CHECK(error_of("lr-rate = 'x'").find("at column 1: unknown attribute 'lr-rate'") != std::string::npos);
}

TEST_CASE("comparisons MLflow rejects are refused (spec §10.2 table)", "[search][parse]") {
  CHECK(error_of("metrics.x LIKE '1%'") ==
        "filter: at column 11: operator LIKE cannot compare metrics.x (a number); use one of = != < <= > >=");
  CHECK(error_of("params.lr > '0.1'") ==
        "filter: at column 11: operator > cannot compare params.lr (a string); use one of = != LIKE ILIKE");
  CHECK(error_of("tags.x IN ('a')").find("operator IN cannot compare tags.x") != std::string::npos);
  CHECK(error_of("attributes.start_time LIKE '1%'").find("cannot compare") != std::string::npos);
  CHECK(error_of("attributes.status < 'a'").find("cannot compare") != std::string::npos);
  CHECK(error_of("status IN ('FINISHED')").find("IN is only supported for run_id") != std::string::npos);
  CHECK(error_of("metrics.x > 'abc'") == "filter: at column 13: expected a number after 'metrics.x >', got ''abc''");
  CHECK(error_of("start_time > 'abc'").find("expected a number") != std::string::npos);
  CHECK(error_of("run_id IN 'abc'").find("IN needs a parenthesized list") != std::string::npos);
  CHECK(error_of("run_id = ('a')").find("a list can only follow IN") != std::string::npos);
  CHECK(error_of("run_id IN ()").find("expected a quoted string in the list") != std::string::npos);
  CHECK(error_of("params.a = abc").find("expected a value after 'params.a =', got 'abc'") != std::string::npos);
}

TEST_CASE("order_by: entity.key with optional ASC or DESC (spec §10.2)", "[search][parse]") {
  auto k = parse_order_by("metrics.episode_reward_mean DESC");
  REQUIRE(k);
  CHECK(k->entity == Entity::kMetric);
  CHECK(k->key == "episode_reward_mean");
  CHECK_FALSE(k->ascending);
  k = parse_order_by("params.lr");
  REQUIRE(k);
  CHECK(k->ascending);
  CHECK(k->entity == Entity::kParam);
  k = parse_order_by("  attributes.start_time asc ");
  REQUIRE(k);
  CHECK(k->key == "start_time");
  CHECK(k->ascending);
  k = parse_order_by("created desc");
  REQUIRE(k);
  CHECK(k->key == "start_time");
  k = parse_order_by("metrics.`my metric` DESC");
  REQUIRE(k);
  CHECK(k->key == "my metric");
  k = parse_order_by("tag.mlflow.runName");
  REQUIRE(k);
  CHECK(k->key == "mlflow.runName");
}

TEST_CASE("order_by errors name the column", "[search][parse]") {
  auto k = parse_order_by("metrics.x DESCC");
  REQUIRE_FALSE(k);
  CHECK(k.error().message() ==
        "order_by 'metrics.x DESCC': at column 11: expected ASC, DESC or the end after 'metrics.x', got 'DESCC'");
  CHECK_FALSE(parse_order_by(""));
  CHECK_FALSE(parse_order_by("metrics.x DESC ASC"));
  CHECK_FALSE(parse_order_by("datasets.name"));
  CHECK_FALSE(parse_order_by("bogus"));
}

TEST_CASE("LIKE is SQL's: % any run, _ one character, anchored, no regex", "[search][like]") {
  using detail::like_match;
  CHECK(like_match("ppo_lr1e-3", "ppo%", false));
  CHECK(like_match("ppo_lr1e-3", "%lr1e-3", false));
  CHECK(like_match("ppo_lr1e-3", "%lr%", false));
  CHECK_FALSE(like_match("ppo_lr1e-3", "lr%", false));   // anchored at the start
  CHECK_FALSE(like_match("ppo_lr1e-3", "%lr1e", false)); // and at the end
  CHECK(like_match("abc", "a_c", false));
  CHECK_FALSE(like_match("abbc", "a_c", false));
  CHECK(like_match("", "%", false));
  CHECK(like_match("", "", false));
  CHECK_FALSE(like_match("a", "", false));
  CHECK(like_match("a%b", "a%b", false));
  // Regex metacharacters are literal (MLflow would treat "." as any character).
  CHECK_FALSE(like_match("axb", "a.b", false));
  CHECK(like_match("a.b", "a.b", false));
  CHECK(like_match("a+b(c)", "a+b(c)", false));
  CHECK_FALSE(like_match("aab", "a+b", false));
  // '%' crosses newlines.
  CHECK(like_match("line1\nline2", "line1%2", false));
  // Case: LIKE sensitive, ILIKE not.
  CHECK_FALSE(like_match("FINISHED", "finished", false));
  CHECK(like_match("FINISHED", "fin%", true));
  // '_' is one UTF-8 character, not one byte.
  CHECK(like_match("\xc3\xa9t\xc3\xa9", "_t_", false));
  CHECK(like_match("caf\xc3\xa9", "caf_", false));
  CHECK_FALSE(like_match("caf\xc3\xa9", "caf__", false));
  // Backtracking over several '%'.
  CHECK(like_match("mississippi", "%iss%ppi", false));
  CHECK(like_match("mississippi", "m%s%s%i", false));
  CHECK_FALSE(like_match("mississippi", "m%s%z%i", false));
}

TEST_CASE("any input parses or fails cleanly, never crashes or loops", "[search][parse]") {
  // Random strings over the grammar's own characters, so that most of them
  // get deep into the parser before failing.
  const std::string alphabet = "metricsparamstagsattributesrun_idstatusANDINOTLIKE.`\"'()=!<>,%_ -+e0123456789\t\xc3\xa9";
  std::uint64_t state = 42;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::size_t>(state >> 33);
  };
  std::size_t ok = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    std::size_t len = next() % 40;
    for (std::size_t j = 0; j < len; ++j) s += alphabet[next() % alphabet.size()];
    auto r = parse_filter(s);
    if (r) {
      ++ok;
    } else {
      CHECK(r.error().message().rfind("filter: at column ", 0) == 0);
    }
    auto o = parse_order_by(s);
    if (!o) CHECK(o.error().code() == Code::kInvalidArgument);
  }
  CHECK(ok > 0);  // blank strings at least
}
