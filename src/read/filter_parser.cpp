// Parser for MLflow's filter and order_by strings (spec §10.2).
//
// MLflow tokenizes with sqlparse and then checks the tokens; we parse the
// same language directly, so that every error can name its column:
//
//   filter     := clause { AND clause }            (AND in any case)
//   clause     := identifier operator value
//   identifier := [entity "."] key                   (no entity: attribute)
//   key        := bare-key | `quoted` | "quoted"
//   value      := number | 'string' | "string" | "(" string { "," string } ")"
//   order_by   := identifier [ASC | DESC]
//
// The terms the parser shares with the evaluator (attribute names, operators,
// columns) are in filter_terms.cpp.
#include "read/filter_parser.h"

#include <array>
#include <cctype>
#include <charconv>
#include <string>
#include <system_error>

#include <fast_float/fast_float.h>

#include "util/printable.h"

namespace mlruns {
namespace detail {
namespace {

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

using Entity = Clause::Entity;

constexpr std::string_view kAttributeList =
    "run_id, run_name, status, start_time, end_time, user_id, artifact_uri, lifecycle_stage "
    "(aliases: created, Created for start_time; `run name`, `Run name`, `Run Name` for run_name)";

std::optional<Entity> entity_from_prefix(std::string_view word) {
  if (word == "metrics" || word == "metric") return Entity::kMetric;
  if (word == "params" || word == "param" || word == "parameters" || word == "parameter")
    return Entity::kParam;
  if (word == "tags" || word == "tag") return Entity::kTag;
  if (word == "attributes" || word == "attribute" || word == "attr" || word == "run")
    return Entity::kAttribute;
  if (word == "datasets" || word == "dataset") return Entity::kDataset;
  return std::nullopt;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_word_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
// Characters of an unquoted key: what spec §6.1 allows in a key except the
// space (quote such keys), plus UTF-8 bytes (MLflow >= 2.16 allows letters).
bool is_bare_key_char(char c) {
  return is_word_char(c) || c == '.' || c == '/' || c == '-' || c == ':' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool is_quote(char c) { return c == '\'' || c == '"' || c == '`'; }

struct Identifier {
  Entity entity = Entity::kAttribute;
  std::string key;
  std::size_t begin = 0, end = 0;  // byte range in the source
};

struct Value {
  enum class Kind { kNumber, kString, kList } kind = Kind::kString;
  std::string text;
  std::vector<std::string> list;
  double number = 0;
  std::size_t begin = 0, end = 0;
};

class Parser {
 public:
  Parser(std::string_view src, std::string what) : src_(src), what_(std::move(what)) {}

  Result<std::vector<Clause>> parse_filter() {
    std::vector<Clause> clauses;
    skip_space();
    if (at_end()) return clauses;
    while (true) {
      auto clause = parse_clause();
      if (!clause) return fail(clause.error());
      clauses.push_back(std::move(*clause));
      skip_space();
      if (at_end()) return clauses;
      std::size_t word_at = pos_;
      std::string word = ascii_upper(read_word());
      if (word == "AND") {
        if (!at_end() && !is_space(peek()) && !is_quote(peek()))
          return fail(error(word_at, "expected AND or the end of the filter, got " + token_at(word_at)));
        skip_space();
        if (at_end()) return fail(error(pos_, "expected a comparison after AND, got the end of the filter"));
        continue;
      }
      if (word == "OR")
        return fail(error(word_at, "OR is not supported: MLflow filters join comparisons with AND only"));
      return fail(error(word_at, "expected AND or the end of the filter, got " + token_at(word_at)));
    }
  }

  Result<OrderKey> parse_order_by() {
    skip_space();
    if (at_end()) return fail(error(pos_, "expected a key such as metrics.loss, got the end of the text"));
    auto ident = parse_identifier();
    if (!ident) return fail(ident.error());
    if (ident->entity == Entity::kDataset)
      return fail(error(ident->begin, "runs cannot be ordered by a dataset field; order by metrics., "
                                      "params., tags. or attributes."));
    OrderKey key{ident->entity, ident->key, true};
    skip_space();
    if (!at_end()) {
      std::size_t word_at = pos_;
      std::string word = ascii_upper(read_word());
      if (word == "ASC") {
        key.ascending = true;
      } else if (word == "DESC") {
        key.ascending = false;
      } else {
        return fail(error(word_at, "expected ASC, DESC or the end after '" + source(*ident) + "', got " +
                                       token_at(word_at)));
      }
      skip_space();
      if (!at_end()) return fail(error(pos_, "expected the end after ASC or DESC, got " + token_at(pos_)));
    }
    return key;
  }

 private:
  bool at_end() const { return pos_ >= src_.size(); }
  char peek(std::size_t ahead = 0) const { return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0'; }
  void skip_space() {
    while (!at_end() && is_space(src_[pos_])) ++pos_;
  }
  std::string_view read_word() {
    std::size_t b = pos_;
    while (!at_end() && is_word_char(src_[pos_])) ++pos_;
    return src_.substr(b, pos_ - b);
  }
  std::string source(const Identifier& id) const { return std::string(src_.substr(id.begin, id.end - id.begin)); }

  Status error(std::size_t offset, const std::string& detail) const {
    return Status::invalid_argument(what_, "at column " + std::to_string(column_of(src_, offset)) + ": " + detail);
  }

  // The token starting at `at`, quoted for messages: 'foo', or "the end of the filter".
  std::string token_at(std::size_t at) const {
    if (at >= src_.size()) return "the end of the text";
    std::size_t e = at;
    char c = src_[at];
    if (is_space(c)) return "a space";
    if (is_quote(c)) {
      e = src_.find(c, at + 1);
      e = e == std::string_view::npos ? src_.size() : e + 1;
    } else if (is_bare_key_char(c)) {
      while (e < src_.size() && is_bare_key_char(src_[e])) ++e;
    } else if (c == '=' || c == '!' || c == '<' || c == '>') {
      while (e < src_.size() && (src_[e] == '=' || src_[e] == '!' || src_[e] == '<' || src_[e] == '>')) ++e;
    } else {
      e = at + utf8_length(static_cast<unsigned char>(c));
    }
    std::string_view tok = src_.substr(at, std::min(e, src_.size()) - at);
    return "'" + printable_prefix(tok, 40) + "'";
  }

  // Reads a quoted string starting at pos_; a doubled quote or a backslash
  // before the quote stands for the quote itself.
  Result<std::string> read_quoted() {
    std::size_t start = pos_;
    char q = src_[pos_++];
    std::string out;
    while (true) {
      if (at_end()) {
        std::string kind = q == '`' ? "backquoted key" : "quoted string";
        return fail(error(start, "unterminated " + kind + " starting with " + q));
      }
      char c = src_[pos_];
      if (c == q) {
        if (peek(1) == q) {
          out += q;
          pos_ += 2;
          continue;
        }
        ++pos_;
        return out;
      }
      if (c == '\\' && peek(1) == q) {
        out += q;
        pos_ += 2;
        continue;
      }
      out += c;
      ++pos_;
    }
  }

  Result<std::string> read_key(std::size_t key_at, std::string_view after) {
    if (at_end() || (!is_bare_key_char(peek()) && peek() != '`' && peek() != '"'))
      return fail(error(key_at, "expected a key after '" + std::string(after) + "', got " + token_at(key_at)));
    if (peek() == '`' || peek() == '"') {
      auto key = read_quoted();
      if (!key) return key;
      if (key->empty()) return fail(error(key_at, "empty key after '" + std::string(after) + "'"));
      return key;
    }
    std::size_t b = pos_;
    while (!at_end() && is_bare_key_char(peek())) ++pos_;
    return std::string(src_.substr(b, pos_ - b));
  }

  Result<Identifier> parse_identifier() {
    Identifier id;
    id.begin = pos_;
    std::string prefix;
    bool has_prefix = false;
    if (peek() == '`' || peek() == '"') {
      char q = peek();
      auto word = read_quoted();
      if (!word) return fail(word.error());
      if (q == '`' && peek() == '.' && entity_from_prefix(*word)) {
        prefix = *word;  // `metrics`.x
        has_prefix = true;
      } else {
        // A quoted name without prefix is an attribute: `Run Name` = 'x'.
        id.end = pos_;
        auto name = canonical_attribute(*word);
        if (!name)
          return fail(error(id.begin, "unknown attribute '" + *word + "'; attributes are " +
                                          std::string(kAttributeList)));
        id.key = *name;
        return id;
      }
    } else if (is_word_start(peek())) {
      prefix = std::string(read_word());
      has_prefix = peek() == '.';
      if (!has_prefix && is_bare_key_char(peek())) {
        // e.g. "lr-rate": not a word, so not an attribute either.
        while (!at_end() && is_bare_key_char(peek())) ++pos_;
        return fail(error(id.begin, "unknown attribute " + token_at(id.begin) +
                                        "; write metrics.<key>, params.<key>, tags.<key> or an attribute (" +
                                        std::string(kAttributeList) + ")"));
      }
    } else {
      return fail(error(pos_, "expected a key such as metrics.loss, params.lr, tags.x or status, got " +
                                  token_at(pos_)));
    }

    if (!has_prefix) {
      id.end = pos_;
      auto name = canonical_attribute(prefix);
      if (!name)
        return fail(error(id.begin, "unknown attribute '" + prefix + "'; attributes are " +
                                        std::string(kAttributeList) +
                                        ", other keys need a prefix: metrics., params., tags."));
      id.key = *name;
      return id;
    }

    auto entity = entity_from_prefix(prefix);
    if (!entity)
      return fail(error(id.begin, "unknown entity '" + prefix +
                                      "'; use metrics., params., tags., attributes. or datasets. (or "
                                      "their aliases metric., param., parameter(s)., tag., attribute., "
                                      "attr., run., dataset.)"));
    id.entity = *entity;
    ++pos_;  // '.'
    std::size_t key_at = pos_;
    auto key = read_key(key_at, src_.substr(id.begin, pos_ - id.begin));
    if (!key) return fail(key.error());
    id.end = pos_;
    if (id.entity == Entity::kAttribute) {
      auto name = canonical_attribute(*key);
      if (!name)
        return fail(error(key_at, "unknown attribute '" + *key + "'; attributes are " + std::string(kAttributeList)));
      id.key = *name;
    } else if (id.entity == Entity::kDataset) {
      if (*key != "name" && *key != "digest" && *key != "context")
        return fail(error(key_at, "unknown dataset field '" + *key + "'; use name, digest or context"));
      id.key = *key;
    } else {
      id.key = std::move(*key);
    }
    return id;
  }

  Result<Op> parse_op(const Identifier& id) {
    skip_space();
    std::size_t at = pos_;
    auto got = [&] {
      return error(at, "expected a comparison operator after '" + source(id) + "', got " + token_at(at));
    };
    char c = peek();
    if (c == '=' || c == '!' || c == '<' || c == '>') {
      std::size_t e = pos_;
      while (e < src_.size() && (src_[e] == '=' || src_[e] == '!' || src_[e] == '<' || src_[e] == '>')) ++e;
      auto op = op_from_string(src_.substr(pos_, e - pos_));
      if (!op || *op == Op::kIn) return fail(got());
      pos_ = e;
      return *op;
    }
    if (!is_word_start(c)) return fail(got());
    std::string word = ascii_upper(read_word());
    if (word == "LIKE") return Op::kLike;
    if (word == "ILIKE") return Op::kILike;
    if (word == "IN") return Op::kIn;
    if (word == "NOT") {
      skip_space();
      std::size_t in_at = pos_;
      if (ascii_upper(read_word()) == "IN") return Op::kNotIn;
      return fail(error(in_at, "expected IN after NOT, got " + token_at(in_at)));
    }
    return fail(got());
  }

  Result<Value> parse_value(const std::string& before) {
    skip_space();
    Value v;
    v.begin = pos_;
    char c = peek();
    if (c == '\'' || c == '"') {
      auto s = read_quoted();
      if (!s) return fail(s.error());
      v.kind = Value::Kind::kString;
      v.text = std::move(*s);
    } else if (c == '(') {
      ++pos_;
      v.kind = Value::Kind::kList;
      while (true) {
        skip_space();
        if (peek() != '\'' && peek() != '"')
          return fail(error(pos_, "expected a quoted string in the list after '" + before + "', got " + token_at(pos_)));
        auto s = read_quoted();
        if (!s) return fail(s.error());
        v.list.push_back(std::move(*s));
        skip_space();
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        if (peek() == ')') {
          ++pos_;
          break;
        }
        return fail(error(pos_, "expected ',' or ')' in the list after '" + before + "', got " + token_at(pos_)));
      }
    } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.') {
      std::size_t b = pos_;
      if (c == '-' || c == '+') ++pos_;
      std::size_t digits = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_, ++digits;
      if (peek() == '.') {
        ++pos_;
        while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_, ++digits;
      }
      if (digits > 0 && (peek() == 'e' || peek() == 'E')) {
        std::size_t save = pos_++;
        if (peek() == '-' || peek() == '+') ++pos_;
        std::size_t exp_digits = 0;
        while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_, ++exp_digits;
        if (exp_digits == 0) pos_ = save;
      }
      if (digits == 0 || is_bare_key_char(peek()) || is_quote(peek())) {
        while (!at_end() && (is_bare_key_char(peek()) || peek() == '+')) ++pos_;
        return fail(error(b, "malformed number " + token_at(b) + " after '" + before + "'"));
      }
      v.kind = Value::Kind::kNumber;
      v.text = std::string(src_.substr(b, pos_ - b));
      std::string_view digits_text = v.text;
      if (digits_text.front() == '+') digits_text.remove_prefix(1);
      auto r = fast_float::from_chars(digits_text.data(), digits_text.data() + digits_text.size(), v.number);
      if (r.ec != std::errc() && r.ec != std::errc::result_out_of_range)
        return fail(error(b, "malformed number " + token_at(b)));
    } else {
      return fail(error(pos_, "expected a value after '" + before + "', got " + token_at(pos_)));
    }
    v.end = pos_;
    return v;
  }

  Result<Clause> parse_clause() {
    auto id = parse_identifier();
    if (!id) return fail(id.error());
    std::size_t op_at = (skip_space(), pos_);
    auto op = parse_op(*id);
    if (!op) return fail(op.error());
    std::string ident = source(*id);
    std::string before = ident + " " + std::string(to_string(*op));

    // Which operators each entity takes (MLflow's SearchUtils comparator sets).
    bool numeric = id->entity == Entity::kMetric ||
                   (id->entity == Entity::kAttribute && is_numeric_attribute(id->key));
    bool op_ok = true;
    std::string_view allowed;
    if (numeric) {
      op_ok = *op != Op::kLike && *op != Op::kILike && *op != Op::kIn && *op != Op::kNotIn;
      allowed = "= != < <= > >=";
    } else if (id->entity == Entity::kParam || id->entity == Entity::kTag) {
      op_ok = *op == Op::kEq || *op == Op::kNe || *op == Op::kLike || *op == Op::kILike;
      allowed = "= != LIKE ILIKE";
    } else if (id->entity == Entity::kAttribute) {
      op_ok = *op != Op::kLt && *op != Op::kLe && *op != Op::kGt && *op != Op::kGe;
      if ((*op == Op::kIn || *op == Op::kNotIn) && id->key != "run_id")
        return fail(error(op_at, std::string(to_string(*op)) + " is only supported for run_id and datasets "
                                     "(as in MLflow); compare " + ident + " with = != LIKE ILIKE"));
      allowed = id->key == "run_id" ? "= != LIKE ILIKE IN NOT IN" : "= != LIKE ILIKE";
    } else {
      op_ok = *op != Op::kLt && *op != Op::kLe && *op != Op::kGt && *op != Op::kGe;
      allowed = "= != LIKE ILIKE IN NOT IN";
    }
    if (!op_ok)
      return fail(error(op_at, "operator " + std::string(to_string(*op)) + " cannot compare " + ident +
                                   (numeric ? " (a number)" : " (a string)") + "; use one of " +
                                   std::string(allowed)));

    auto value = parse_value(before);
    if (!value) return fail(value.error());
    bool list_op = *op == Op::kIn || *op == Op::kNotIn;
    if (list_op && value->kind != Value::Kind::kList)
      return fail(error(value->begin, std::string(to_string(*op)) + " needs a parenthesized list of quoted "
                                      "strings, e.g. ('a', 'b'), got " + token_at(value->begin)));
    if (!list_op && value->kind == Value::Kind::kList)
      return fail(error(value->begin, "a list can only follow IN or NOT IN"));
    if (numeric && value->kind != Value::Kind::kNumber)
      return fail(error(value->begin, "expected a number after '" + before + "', got " + token_at(value->begin)));
    if (!numeric && value->kind == Value::Kind::kNumber)
      return fail(error(value->begin, "expected a quoted string after '" + before + "', got " +
                                          token_at(value->begin) + " (write '" + value->text + "')"));

    Clause clause;
    clause.entity = id->entity;
    clause.key = std::move(id->key);
    clause.op = std::string(to_string(*op));
    clause.value = value->text;
    clause.values = std::move(value->list);
    clause.number = value->number;
    return clause;
  }

  std::string_view src_;
  std::string what_;
  std::size_t pos_ = 0;
};

}  // namespace
}  // namespace detail

Result<std::vector<Clause>> parse_filter(std::string_view filter) {
  return detail::Parser(filter, "filter").parse_filter();
}

Result<OrderKey> parse_order_by(std::string_view order_by) {
  return detail::Parser(order_by, "order_by '" + std::string(order_by) + "'").parse_order_by();
}

}  // namespace mlruns
