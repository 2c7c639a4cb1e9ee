#include "format/meta_parse.h"

#include "format/yaml_emit.h"

#include <charconv>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include <yaml.h>

namespace mlruns::detail {
namespace {

// meta.yaml files are a few hundred bytes; anything much bigger, or deeply
// nested, is not one.
constexpr std::size_t kMaxMetaBytes = 1 << 20;
// Nesting deeper than this is not MLflow's (its files are flat mappings, an
// input's tags one level down). Counted on libyaml's events, so brackets
// inside quoted strings (a dataset's JSON schema) do not count.
constexpr int kMaxNesting = 64;

// The top level of a meta.yaml reduced to what the readers look at
// (YamlValue, meta_parse.h). Both parsers produce this, so their results can
// only differ if they read a scalar differently.
using FlatValue = YamlValue;
using FlatMeta = YamlMap;

// The last value of a key given twice, as PyYAML's constructor (and so
// MLflow) reads it: construct_mapping assigns each pair in order. yaml-cpp's
// node["key"] would give the first (issue 15 item 4: `status: 3` then
// `status: 4` read as FINISHED, MLflow shows FAILED).
const FlatValue* find(const FlatMeta& m, std::string_view key) {
  for (auto it = m.rbegin(); it != m.rend(); ++it)
    if (it->first == key) return &it->second;
  return nullptr;
}

// ---- fast path ------------------------------------------------------------
// MLflow writes meta.yaml with yaml.dump: one "key: value" per line, keys
// sorted, values plain, single-quoted or null (spec §2.1). Reading those lines
// directly is ~50x faster than yaml-cpp. Anything this parser is not sure of
// (double quotes, folded or nested lines, comments, CR, odd characters)
// returns nullopt, and the caller falls back to libyaml.

bool is_key_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9'); }

bool plain_scalar_ok(std::string_view v) {
  if (v.empty()) return false;
  char c = v.front();
  // Indicators that start something other than a plain scalar.
  if (std::string_view("'\"[]{}!&*|>%@`#,?:").find(c) != std::string_view::npos) return false;
  if (c == '-' && (v.size() == 1 || v[1] == ' ')) return false;
  if (v.back() == ' ' || v.back() == ':') return false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    char ch = v[i];
    if (ch == '\t' || ch == '\r' || static_cast<unsigned char>(ch) < 0x20) return false;
    if (ch == '[' || ch == ']' || ch == '{' || ch == '}') return false;
    if (ch == ' ' && i + 1 < v.size() && v[i + 1] == '#') return false;  // comment
    if (ch == ':' && i + 1 < v.size() && v[i + 1] == ' ') return false;  // nested mapping
  }
  return true;
}

bool is_plain_null(std::string_view v) { return v == "~" || v == "null" || v == "Null" || v == "NULL"; }

// PyYAML's YAML 1.1 float resolver (resolver.py) and construct_yaml_float:
// [-+]?[0-9][0-9_]*.[0-9_]*([eE][-+][0-9]+)?, .[0-9][0-9_]*([eE][-+][0-9]+)?,
// sexagesimal [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+.[0-9_]*, [-+]?.inf, .nan
// (each in three cases). nullopt if `v` is no float to PyYAML.
std::optional<double> yaml11_plain_float(std::string_view v) {
  auto digits_ = [](std::string_view s) { return s.find_first_not_of("0123456789_") == std::string_view::npos; };
  auto digits = [](std::string_view s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos; };
  std::string_view body = v;
  double sign = 1;
  const bool signed_ = !body.empty() && (body.front() == '-' || body.front() == '+');
  if (signed_) {
    sign = body.front() == '-' ? -1 : 1;
    body.remove_prefix(1);
  }
  if (body == ".inf" || body == ".Inf" || body == ".INF") return sign * std::numeric_limits<double>::infinity();
  if (!signed_ && (body == ".nan" || body == ".NaN" || body == ".NAN")) return std::numeric_limits<double>::quiet_NaN();
  const std::size_t dot = body.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::string_view whole = body.substr(0, dot), rest = body.substr(dot + 1);
  std::string_view fraction = rest, exponent;
  if (const std::size_t e = rest.find_first_of("eE"); e != std::string_view::npos) {
    fraction = rest.substr(0, e);
    exponent = rest.substr(e + 1);
    if (exponent.size() < 2 || (exponent.front() != '-' && exponent.front() != '+') || !digits(exponent.substr(1)))
      return std::nullopt;
  }
  if (!digits_(fraction)) return std::nullopt;
  std::string clean;
  for (char c : body)
    if (c != '_') clean += c;
  if (whole.find(':') != std::string_view::npos) {  // sexagesimal: 1:30.5 = 90.5
    if (!exponent.empty()) return std::nullopt;
    std::vector<std::string_view> parts;
    std::string_view w = whole;
    for (std::size_t c; (c = w.find(':')) != std::string_view::npos; w.remove_prefix(c + 1)) parts.push_back(w.substr(0, c));
    parts.push_back(w);
    if (parts.front().empty() || !(parts.front()[0] >= '0' && parts.front()[0] <= '9') || !digits_(parts.front()))
      return std::nullopt;
    for (std::size_t i = 1; i < parts.size(); ++i) {
      std::string_view p = parts[i];
      if (p.empty() || p.size() > 2 || !digits(p) || (p.size() == 2 && p[0] > '5')) return std::nullopt;
    }
    double value = 0;
    for (std::string_view p : parts) {
      std::string d;
      for (char c : p)
        if (c != '_') d += c;
      value = value * 60 + std::strtod(d.c_str(), nullptr);
    }
    std::string f = "0.";
    for (char c : fraction)
      if (c != '_') f += c;
    return sign * (value + std::strtod(f.c_str(), nullptr));
  }
  if (whole.empty()) {
    // .[0-9][0-9_]*: no sign, a digit first ("._5" is text: PyYAML writes it plain)
    if (signed_ || fraction.empty() || !(fraction[0] >= '0' && fraction[0] <= '9')) return std::nullopt;
  } else if (!(whole[0] >= '0' && whole[0] <= '9') || !digits_(whole)) {
    return std::nullopt;
  }
  return std::strtod(clean.c_str(), nullptr);  // the sign is in `clean`
}

// A plain (untagged, unquoted) scalar as MLflow sees it: PyYAML's YAML 1.1
// implicit resolvers type it (resolver.py), and the value a string field
// then holds reads as Python's str() of it. bool: yes/no/true/false/on/off in
// lower, Capitalised or UPPER case are True/False (so an input tag written
// `flag: yes` by another tool is "True" to MLflow); an int in any YAML 1.1
// spelling (0x1F, 017, 1_000, 1:30) its decimal digits; a float Python's repr
// (1.50 -> 1.5, .inf -> inf). Other text is itself (a date reads as the same
// text through str()). Nulls are decided before this.
std::string pyyaml_plain_str(std::string text) {
  static const char* const kTrue[] = {"yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
  static const char* const kFalse[] = {"no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"};
  for (const char* t : kTrue)
    if (text == t) return "True";
  for (const char* f : kFalse)
    if (text == f) return "False";
  if (text.empty() || std::string_view("-+.0123456789").find(text.front()) == std::string_view::npos) return text;
  // The common case (times, statuses): a decimal int that str() writes back as it is.
  if (text.find_first_not_of("0123456789") == std::string::npos && (text.size() == 1 || text.front() != '0'))
    return text;
  if (auto i = yaml11_plain_int(text)) return std::to_string(*i);
  if (auto f = yaml11_plain_float(text)) return python_repr(*f);
  return text;
}

std::optional<FlatMeta> parse_fast(std::string_view text) {
  FlatMeta out;
  if (text.size() >= 3 && static_cast<unsigned char>(text[0]) == 0xEF) return std::nullopt;  // BOM
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty()) continue;
    std::size_t k = 0;
    while (k < line.size() && is_key_char(line[k])) ++k;
    if (k == 0 || k >= line.size() || line[k] != ':') return std::nullopt;
    std::string key(line.substr(0, k));
    if (find(out, key)) return std::nullopt;  // duplicate: let libyaml decide
    std::string_view v = line.substr(k + 1);
    // U+0085, U+2028 and U+2029 are line breaks to YAML 1.1: PyYAML writes
    // them raw inside quotes and folds them on reading. libyaml decides.
    if (v.find("\xC2\x85") != std::string_view::npos || v.find("\xE2\x80\xA8") != std::string_view::npos ||
        v.find("\xE2\x80\xA9") != std::string_view::npos)
      return std::nullopt;
    FlatValue value;
    if (v.empty()) {
      value.kind = FlatValue::Kind::kNull;
    } else {
      if (v.front() != ' ') return std::nullopt;
      v.remove_prefix(1);
      if (v == "[]" || v == "{}") {
        value.kind = FlatValue::Kind::kCollection;
        value.mapping = v == "{}";
      } else if (!v.empty() && v.front() == '\'') {
        if (v.size() < 2 || v.back() != '\'') return std::nullopt;
        std::string_view body = v.substr(1, v.size() - 2);
        value.kind = FlatValue::Kind::kString;
        for (std::size_t i = 0; i < body.size(); ++i) {
          char ch = body[i];
          if (ch == '\r' || ch == '\t') return std::nullopt;
          if (ch == '\'') {
            if (i + 1 >= body.size() || body[i + 1] != '\'') return std::nullopt;
            ++i;
          }
          value.text += ch;
        }
      } else if (v == "=" || v == "<<") {
        return std::nullopt;  // PyYAML cannot construct these: libyaml's path refuses them
      } else if (is_plain_null(v)) {
        value.kind = FlatValue::Kind::kNull;
      } else if (plain_scalar_ok(v)) {
        value.kind = FlatValue::Kind::kString;
        value.raw = std::string(v);
        value.text = pyyaml_plain_str(value.raw);
        value.plain = true;
      } else {
        return std::nullopt;
      }
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// ---- libyaml path -----------------------------------------------------------
// Everything the fast path is not sure of goes to libyaml, the parser under
// PyYAML's CSafeLoader, which MLflow reads meta.yaml with (spec §2.1). It
// reads every scalar PyYAML can write exactly as MLflow does: the escapes
// \N \_ \L \P (U+0085, U+00A0, U+2028, U+2029), which yaml-cpp decodes to
// wrong bytes, and the folding of long and multi-line scalars, where yaml-cpp
// added spaces around U+2028 (issue 15 item 4; tests/format/pyyaml_load_test.cpp
// compares every case of a table PyYAML made). Every YAML file MLflow writes
// is read here: experiment, run, input and dataset meta.yaml, and fsck's
// and relocate's reads of their fields (load_yaml_map). yaml-cpp stays the
// project's YAML library only where it compares a file with itself:
// meta_edit.cpp's check that an edit changed nothing but the keys it meant
// to reads the file before and after with the same parser, so a scalar it
// misreads is misread the same on both sides. libyaml's parser keeps
// explicit stacks, so no input recurses.

// PyYAML's SafeLoader resolves two more plain scalars than it can build:
// `=` (YAML 1.1's value key, tag:yaml.org,2002:value) and `<<` (the merge
// key, tag:yaml.org,2002:merge), and fails on the whole file with a
// ConstructorError ("could not determine a constructor for the tag"), so
// MLflow fails on the run (an input tag `context: =` fails its experiment's
// search). Such a file is refused here too, wherever the scalar is. (`<<` as a
// key whose value is a mapping is a merge PyYAML performs; MLflow never
// writes one, and mlruns refuses it rather than read it otherwise.)
Status pyyaml_constructible(const yaml_event_t& e) {
  if (!e.data.scalar.plain_implicit || e.data.scalar.style != YAML_PLAIN_SCALAR_STYLE || e.data.scalar.tag)
    return Status::ok();
  const std::string_view t(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length);
  if (t != "=" && t != "<<") return Status::ok();
  return Status::corruption("meta.yaml", "invalid YAML to PyYAML: the unquoted '" + std::string(t) + "' at line " +
                                             std::to_string(e.start_mark.line + 1) + " is " +
                                             (t == "=" ? "tag:yaml.org,2002:value" : "tag:yaml.org,2002:merge") +
                                             ", which PyYAML's SafeLoader cannot construct (MLflow fails on this "
                                             "file); quote it ('" + std::string(t) + "')");
}

Result<FlatMeta> parse_yaml(std::string_view text, std::size_t max_bytes) {
  if (text.size() > max_bytes)
    return fail(Status::corruption("meta.yaml", "file is larger than " + std::to_string(max_bytes >> 20) + " MiB"));
  struct Parser {
    yaml_parser_t p;
    Parser() { yaml_parser_initialize(&p); }
    ~Parser() { yaml_parser_delete(&p); }
  } parser;
  yaml_parser_set_input_string(&parser.p, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  struct Event {
    yaml_event_t e;
    bool live = false;
    ~Event() {
      if (live) yaml_event_delete(&e);
    }
  };
  FlatMeta out;
  std::map<std::string, FlatValue> anchors;  // root-level scalars and collections by anchor
  int depth = 0;            // 0: outside the root mapping; 1: in it; >1: inside a collection value
  int documents = 0;
  bool root_seen = false, want_key = true, skip_value = false;
  std::string key;
  std::string collection_anchor;
  FlatValue collection;      // the collection value being read (depth > 1)
  bool want_inner_key = true, pair_bad = false;
  std::string inner_key;
  for (;;) {
    Event ev;
    if (!yaml_parser_parse(&parser.p, &ev.e)) {
      std::string why = parser.p.problem ? parser.p.problem : "syntax error";
      return fail(Status::corruption("meta.yaml", "invalid YAML: " + why + " at line " +
                                                      std::to_string(parser.p.problem_mark.line + 1)));
    }
    ev.live = true;
    const yaml_event_t& e = ev.e;
    if (e.type == YAML_STREAM_END_EVENT) break;
    if (e.type == YAML_SCALAR_EVENT) {
      if (Status s = pyyaml_constructible(e); !s) return fail(s);
    }
    if (e.type == YAML_DOCUMENT_START_EVENT && ++documents > 1)
      return fail(Status::corruption("meta.yaml", "invalid YAML: more than one document"));
    if (e.type == YAML_STREAM_START_EVENT || e.type == YAML_DOCUMENT_START_EVENT ||
        e.type == YAML_DOCUMENT_END_EVENT)
      continue;
    if (depth == 0) {
      if (root_seen || e.type != YAML_MAPPING_START_EVENT)
        return fail(Status::corruption("meta.yaml", "not a YAML mapping"));
      root_seen = true;
      depth = 1;
      continue;
    }
    if (depth > 1) {  // inside a collection value: its scalar pairs if a mapping, then its end
      // A key or value that is not a string (a collection, an alias, a
      // null) drops its pair and clears pairs_ok.
      auto drop_pair = [&] {
        collection.pairs_ok = false;
        pair_bad = want_inner_key;
        want_inner_key = !want_inner_key;
      };
      if (depth == 2 && collection.mapping && e.type == YAML_SCALAR_EVENT) {
        std::string t(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length);
        const bool plain = e.data.scalar.plain_implicit && e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                           !e.data.scalar.tag;
        const char* tag = reinterpret_cast<const char*>(e.data.scalar.tag);
        const bool null = (plain && (t.empty() || is_plain_null(t))) ||
                          (tag && std::string_view(tag) == "tag:yaml.org,2002:null");
        // A null (~, null, Null, NULL, nothing) is None to PyYAML, and an
        // input tag's value then reads as str(None), as `flag: yes` reads True
        // (MLflow shows InputTag(key, None) as None).
        if (null) t = "None";
        else if (plain) t = pyyaml_plain_str(std::move(t));
        if (want_inner_key) {
          inner_key = std::move(t);
          want_inner_key = false;
        } else {
          if (!pair_bad) collection.pairs.emplace_back(inner_key, std::move(t));
          pair_bad = false;
          want_inner_key = true;
        }
        continue;
      }
      if (depth == 2 && collection.mapping && e.type == YAML_ALIAS_EVENT) {
        drop_pair();
        continue;
      }
      if (e.type == YAML_MAPPING_START_EVENT || e.type == YAML_SEQUENCE_START_EVENT) {
        if (depth == 2 && collection.mapping) drop_pair();
        if (++depth > kMaxNesting) return fail(Status::corruption("meta.yaml", "too deeply nested"));
      }
      if (e.type == YAML_MAPPING_END_EVENT || e.type == YAML_SEQUENCE_END_EVENT) {
        if (--depth == 1) {
          if (!skip_value) {
            if (!collection_anchor.empty()) anchors[collection_anchor] = collection;
            out.emplace_back(key, std::move(collection));
          }
          want_key = true;
        }
      }
      continue;
    }
    // depth == 1: the root mapping's keys and values.
    if (e.type == YAML_MAPPING_END_EVENT) {
      depth = 0;
      continue;
    }
    auto scalar_value = [&](const yaml_event_t& s) {
      FlatValue v;
      std::string t(reinterpret_cast<const char*>(s.data.scalar.value), s.data.scalar.length);
      const bool plain = s.data.scalar.plain_implicit && s.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
      const char* tag = reinterpret_cast<const char*>(s.data.scalar.tag);
      bool null_tag = tag && std::string_view(tag) == "tag:yaml.org,2002:null";
      if (null_tag || (plain && !tag && (t.empty() || is_plain_null(t)))) {
        v.kind = FlatValue::Kind::kNull;
      } else {
        v.kind = FlatValue::Kind::kString;
        v.plain = plain && !tag;
        if (v.plain) v.raw = t;
        v.text = v.plain ? pyyaml_plain_str(std::move(t)) : std::move(t);
      }
      if (s.data.scalar.anchor) anchors[reinterpret_cast<const char*>(s.data.scalar.anchor)] = v;
      return v;
    };
    if (want_key) {
      if (e.type == YAML_SCALAR_EVENT) {
        key.assign(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length);
        skip_value = false;
      } else if (e.type == YAML_ALIAS_EVENT) {
        auto it = anchors.find(reinterpret_cast<const char*>(e.data.alias.anchor));
        skip_value = it == anchors.end() || it->second.kind != FlatValue::Kind::kString;
        if (!skip_value) key = it->second.text;
      } else {
        // A collection as a key (PyYAML refuses it as unhashable): skip it and its value.
        return fail(Status::corruption("meta.yaml", "invalid YAML: a collection used as a key"));
      }
      want_key = false;
      continue;
    }
    if (e.type == YAML_SCALAR_EVENT) {
      FlatValue v = scalar_value(e);
      if (!skip_value) out.emplace_back(key, std::move(v));
      want_key = true;
    } else if (e.type == YAML_ALIAS_EVENT) {
      auto it = anchors.find(reinterpret_cast<const char*>(e.data.alias.anchor));
      if (it == anchors.end()) return fail(Status::corruption("meta.yaml", "invalid YAML: unknown alias"));
      if (!skip_value) out.emplace_back(key, it->second);
      want_key = true;
    } else if (e.type == YAML_MAPPING_START_EVENT || e.type == YAML_SEQUENCE_START_EVENT) {
      const yaml_char_t* anchor =
          e.type == YAML_MAPPING_START_EVENT ? e.data.mapping_start.anchor : e.data.sequence_start.anchor;
      collection_anchor = anchor ? reinterpret_cast<const char*>(anchor) : "";
      collection = FlatValue{};
      collection.kind = FlatValue::Kind::kCollection;
      collection.mapping = e.type == YAML_MAPPING_START_EVENT;
      want_inner_key = true;
      pair_bad = false;
      depth = 2;
    }
  }
  if (!root_seen) return fail(Status::corruption("meta.yaml", "not a YAML mapping"));
  return out;
}

Result<FlatMeta> load_flat(std::string_view text, MetaParser parser, std::size_t max_bytes = kMaxMetaBytes) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return fail(Status::corruption("meta.yaml", "file is empty"));
  if (text.size() > max_bytes)
    return fail(Status::corruption("meta.yaml", "file is larger than " + std::to_string(max_bytes >> 20) + " MiB"));
  if (parser == MetaParser::kAuto) {
    if (auto fast = parse_fast(text)) return std::move(*fast);
  }
  return parse_yaml(text, max_bytes);
}

// ---- interpretation, shared by both paths ----------------------------------

std::optional<std::string> get_string(const FlatMeta& m, std::string_view key) {
  const FlatValue* v = find(m, key);
  if (!v || v->kind != FlatValue::Kind::kString) return std::nullopt;
  return v->text;
}

bool is_null(const FlatMeta& m, std::string_view key) {
  const FlatValue* v = find(m, key);
  return v && v->kind == FlatValue::Kind::kNull;
}

std::optional<std::int64_t> get_int(const FlatMeta& m, std::string_view key) {
  const FlatValue* fv = find(m, key);
  if (!fv || fv->kind != FlatValue::Kind::kString) return std::nullopt;
  // A plain scalar is an int when PyYAML's resolver says so (0x1F, 017, 1_000, 1:30).
  if (fv->plain) return yaml11_plain_int(fv->text);
  auto s = get_string(m, key);
  if (!s || s->empty()) return std::nullopt;
  std::int64_t v = 0;
  const char* first = s->data();
  const char* last = s->data() + s->size();
  if (*first == '+') ++first;
  auto [p, ec] = std::from_chars(first, last, v);
  if (ec != std::errc() || p != last) return std::nullopt;
  return v;
}

void note(std::vector<std::string>* problems, std::string what) {
  if (problems) problems->push_back(std::move(what));
}

}  // namespace

std::optional<std::int64_t> python_int_value(const YamlValue& v) {
  if (v.kind != YamlValue::Kind::kString) return std::nullopt;
  if (!v.plain) return std::nullopt;  // a quoted '3' is a str: not equal to any int
  if (auto i = yaml11_plain_int(v.text)) return i;
  static const std::string_view kTrue[] = {"yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
  static const std::string_view kFalse[] = {"no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"};
  for (std::string_view t : kTrue)
    if (v.text == t) return 1;
  for (std::string_view f : kFalse)
    if (v.text == f) return 0;
  // Range first: NaN and ±inf fail it, so the cast below is always defined.
  if (auto d = yaml11_plain_float(v.text);
      d && *d > -1e18 && *d < 1e18 && *d == static_cast<double>(static_cast<std::int64_t>(*d)))
    return static_cast<std::int64_t>(*d);
  return std::nullopt;
}

bool meta_fast_path_applies(std::string_view text) { return parse_fast(text).has_value(); }

Result<YamlMap> load_yaml_map(std::string_view text, std::size_t max_bytes, MetaParser parser) {
  return load_flat(text, parser, max_bytes);
}

const YamlValue* yaml_find(const YamlMap& m, std::string_view key) { return find(m, key); }

Result<Experiment> parse_experiment_meta(std::string_view text, bool in_trash,
                                         std::vector<std::string>* problems, MetaParser parser) {
  auto map = load_flat(text, parser);
  if (!map) return fail(map.error());
  Experiment e;
  auto id = get_string(*map, "experiment_id");
  if (!id) return fail(Status::corruption("meta.yaml", "no experiment_id"));
  e.experiment_id = *id;
  auto name = get_string(*map, "name");
  if (!name) return fail(Status::corruption("meta.yaml", "no name"));
  e.name = *name;
  if (auto loc = get_string(*map, "artifact_location")) e.artifact_location = *loc;
  else note(problems, "no artifact_location");
  e.creation_time = get_int(*map, "creation_time");
  e.last_update_time = get_int(*map, "last_update_time");
  auto stage = get_string(*map, "lifecycle_stage");
  if (!stage) {
    note(problems, "no lifecycle_stage; taken from the location");
    e.lifecycle_stage = in_trash ? LifecycleStage::kDeleted : LifecycleStage::kActive;
  } else if (*stage == "active" || *stage == "deleted") {
    e.lifecycle_stage = *stage == "active" ? LifecycleStage::kActive : LifecycleStage::kDeleted;
  } else {
    note(problems, "invalid lifecycle_stage '" + *stage + "'; taken from the location");
    e.lifecycle_stage = in_trash ? LifecycleStage::kDeleted : LifecycleStage::kActive;
  }
  return e;
}

Result<RunInfo> parse_run_meta(std::string_view text, std::vector<std::string>* problems,
                               MetaParser parser) {
  auto map = load_flat(text, parser);
  if (!map) return fail(map.error());
  RunInfo r;
  auto run_id = get_string(*map, "run_id");
  if (!run_id || run_id->empty()) run_id = get_string(*map, "run_uuid");
  if (!run_id || run_id->empty()) return fail(Status::corruption("meta.yaml", "neither run_id nor run_uuid"));
  r.run_id = *run_id;
  if (auto name = get_string(*map, "run_name")) r.run_name = *name;
  if (auto exp = get_string(*map, "experiment_id")) r.experiment_id = *exp;
  else note(problems, "no experiment_id");
  if (auto user = get_string(*map, "user_id")) r.user_id = *user;
  else note(problems, "no user_id");
  if (auto uri = get_string(*map, "artifact_uri")) r.artifact_uri = *uri;
  auto start = get_int(*map, "start_time");
  if (start) r.start_time = *start;
  else note(problems, "no valid start_time");
  if (const FlatValue* st = find(*map, "start_time"); start && st->kind == FlatValue::Kind::kString && !st->plain)
    note(problems, "start_time '" + st->text + "' is a quoted string, which fails MLflow's search over the experiment "
                   "(TypeError); taken as the integer it spells");
  if (!is_null(*map, "end_time")) {
    r.end_time = get_int(*map, "end_time");
    if (!r.end_time && find(*map, "end_time")) note(problems, "end_time is not an integer");
  }
  if (!is_null(*map, "deleted_time")) r.deleted_time = get_int(*map, "deleted_time");
  // As MLflow (file_store.py _read_persisted_run_info_dict): a missing status
  // is RUNNING; a present one is looked up by Python equality (3.0 == 3).
  if (const FlatValue* st = find(*map, "status"); st && st->kind == FlatValue::Kind::kNull) {
    note(problems, "status is null, which MLflow cannot read ('Could not get string corresponding to run status "
                   "None'); taken as RUNNING");
  } else if (st) {
    auto status = python_int_value(*st);
    const bool quoted = !status && st->kind == FlatValue::Kind::kString && !st->plain;
    if (quoted) status = get_int(*map, "status");
    auto parsed = status ? run_status_from_int(*status) : std::nullopt;
    if (parsed) r.status = *parsed;
    else note(problems, "status is not an integer from 1 to 5; taken as RUNNING");
    // The null rule above: what MLflow cannot read is said, and the meaning
    // ('3' spells FINISHED) is kept; fsck --repair unquotes it.
    if (parsed && quoted)
      note(problems, "status '" + st->text + "' is a quoted string, which MLflow cannot read ('Could not get string "
                     "corresponding to run status " + st->text + "': the run and its experiment's search fail); "
                     "taken as the integer it spells");
  }
  // MLflow takes a missing lifecycle_stage as active; any other value but
  // active/deleted (null included) fails its search for the whole experiment.
  auto stage = get_string(*map, "lifecycle_stage");
  if (stage && *stage == "deleted") r.lifecycle_stage = LifecycleStage::kDeleted;
  else if (stage && *stage != "active")
    note(problems, "invalid lifecycle_stage '" + *stage + "'; taken as active");
  else if (!stage && find(*map, "lifecycle_stage"))
    note(problems, "lifecycle_stage is null or not a string, which fails MLflow's search for the whole experiment "
                   "('Invalid lifecycle stage'); taken as active");
  return r;
}

}  // namespace mlruns::detail
