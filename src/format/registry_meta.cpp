#include "format/registry_meta.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "format/meta_parse.h"
#include "format/yaml_emit.h"

namespace mlruns::detail {
namespace {

std::optional<std::int64_t> parse_positive(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

YamlNode optional_str(const std::optional<std::string>& s) {
  return s ? YamlNode::string(*s) : YamlNode::null();
}

// The top level of a registry meta.yaml, read by the one rule every YAML
// file MLflow writes is read with (load_yaml_map, meta_parse.h: libyaml, as
// PyYAML's CSafeLoader; a key given twice reads as its last value, as
// MLflow's yaml.safe_load; issue 15 item 4).
struct Fields {
  YamlMap map;
  // A scalar's text (Python's str() of a plain scalar, as MLflow sees it);
  // nullopt for a missing key, a null or a collection.
  std::optional<std::string> str(const char* key) const {
    const YamlValue* v = yaml_find(map, key);
    if (!v || v->kind != YamlValue::Kind::kString) return std::nullopt;
    return v->text;
  }
  std::optional<std::int64_t> num(const char* key) const {
    auto s = str(key);
    if (!s) return std::nullopt;
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
    if (ec != std::errc() || p != s->data() + s->size()) return std::nullopt;
    return v;
  }
};

Result<Fields> load(std::string_view text) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return fail(Status::corruption("meta.yaml", "file is empty"));
  auto map = load_yaml_map(text);
  if (!map) return fail(map.error());
  return Fields{std::move(*map)};
}

void note(std::vector<std::string>* problems, std::string text) {
  if (problems) problems->push_back(std::move(text));
}

// Python's float(s) for a str: white space around it, a sign, decimal digits
// with single underscores between them, a fraction, an exponent; inf,
// infinity, nan in any case. nullopt where float() raises.
std::optional<double> python_float_of_str(std::string_view s) {
  const std::string_view ws = " \t\n\r\f\v";
  const std::size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return std::nullopt;
  s = s.substr(b, s.find_last_not_of(ws) - b + 1);
  std::string clean;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '_') {  // only between two digits
      auto digit = [](char d) { return d >= '0' && d <= '9'; };
      if (i == 0 || i + 1 == s.size() || !digit(s[i - 1]) || !digit(s[i + 1])) return std::nullopt;
      continue;
    }
    if (c == 'x' || c == 'X' || c == '(' || c == 'p' || c == 'P') return std::nullopt;  // strtod's hex and nan(...)
    clean += c;
  }
  if (clean.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(clean.c_str(), &end);
  if (end != clean.c_str() + clean.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<VersionField> read_version_field(std::string_view meta_text) {
  auto map = load_yaml_map(meta_text);
  if (!map) return std::nullopt;
  const YamlValue* v = yaml_find(*map, "version");
  if (!v || v->kind != YamlValue::Kind::kString) return std::nullopt;
  VersionField f;
  if (v->plain) {
    f.shown = v->text;
    f.written = v->raw.empty() ? v->text : v->raw;
    // `text` is Python's str() of what PyYAML made of it: an int in any
    // YAML 1.1 spelling (0x2, 02, 1_0, 1:00, +3) is its decimal digits, a
    // bool "True"/"False", a float its repr (2.0, inf, nan: float() reads
    // it back), other text itself (1e3, which PyYAML's float pattern does
    // not match: a str, shown as that text).
    if (auto i = yaml11_plain_int(v->raw.empty() ? v->text : v->raw)) f.number = static_cast<double>(*i);
    else if (v->text == "True" || v->text == "False") f.number = v->text == "True" ? 1.0 : 0.0;
    else f.number = python_float_of_str(v->text);
    const std::string& raw = v->raw.empty() ? v->text : v->raw;
    f.plain_int_text = !raw.empty() && raw.find_first_not_of("0123456789") == std::string::npos &&
                       (raw == "0" || raw.front() != '0');
  } else {
    f.shown = "'" + v->text + "'";
    f.written = f.shown;
    f.number = python_float_of_str(v->text);
  }
  return f;
}

std::optional<double> highest_version_seen(std::string_view folder_name, const std::string* meta_text) {
  std::optional<double> top;
  auto consider = [&](std::optional<double> n) {
    if (n && !std::isnan(*n) && (!top || *n > *top)) top = n;
  };
  if (folder_name.substr(0, kVersionFolderPrefix.size()) == kVersionFolderPrefix)
    consider(python_float_of_str(folder_name.substr(kVersionFolderPrefix.size())));
  if (meta_text)
    if (auto f = read_version_field(*meta_text)) consider(f->number);
  return top;
}

std::optional<std::int64_t> parse_version_folder(std::string_view name) {
  if (name.substr(0, kVersionFolderPrefix.size()) != kVersionFolderPrefix) return std::nullopt;
  std::string_view digits = name.substr(kVersionFolderPrefix.size());
  if (digits.empty() || digits.front() == '0' || digits.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  return parse_positive(digits);
}

std::string version_folder(std::int64_t version) {
  return std::string(kVersionFolderPrefix) + std::to_string(version);
}

std::string render_registered_model_meta(const RegisteredModel& m) {
  YamlNode doc = YamlNode::map();
  YamlNode aliases = YamlNode::map();
  for (const auto& [alias, version] : m.aliases) aliases.set(alias, YamlNode::string(std::to_string(version)));
  doc.set("aliases", std::move(aliases));
  doc.set("creation_timestamp", YamlNode::integer(m.creation_timestamp));
  doc.set("description", optional_str(m.description));
  doc.set("last_updated_timestamp", YamlNode::integer(m.last_updated_timestamp));
  doc.set("name", YamlNode::string(m.name));
  return yaml_dump(doc, PyYamlDumper::kWriteYaml);
}

std::string render_model_version_meta(const ModelVersion& v, bool deleted) {
  YamlNode doc = YamlNode::map();
  YamlNode aliases = YamlNode::list();
  for (const std::string& a : v.aliases) aliases.items.push_back(YamlNode::string(a));
  doc.set("aliases", std::move(aliases));
  doc.set("creation_timestamp", YamlNode::integer(v.creation_timestamp));
  doc.set("current_stage", YamlNode::string(deleted ? kDeletedStage : to_string(v.current_stage)));
  doc.set("description", optional_str(v.description));
  doc.set("last_updated_timestamp", YamlNode::integer(v.last_updated_timestamp));
  if (v.model_id) doc.set("model_id", YamlNode::string(*v.model_id));  // MLflow >= 3.0, a logged model's version
  doc.set("name", YamlNode::string(v.name));
  doc.set("run_id", optional_str(v.run_id));
  doc.set("run_link", optional_str(v.run_link));
  doc.set("source", YamlNode::string(v.source));
  doc.set("status", YamlNode::string(v.status));
  doc.set("status_message", optional_str(v.status_message));
  doc.set("storage_location", optional_str(v.storage_location));
  doc.set("user_id", optional_str(v.user_id));
  doc.set("version", YamlNode::integer(v.version));
  return yaml_dump(doc, PyYamlDumper::kWriteYaml);
}

Result<RegisteredModel> parse_registered_model_meta(std::string_view text, std::vector<std::string>* problems) {
  auto f = load(text);
  if (!f) return fail(f.error());
  RegisteredModel m;
  try {
    auto name = f->str("name");
    if (!name || name->empty()) return fail(Status::corruption("meta.yaml", "no name"));
    m.name = *name;
    if (auto t = f->num("creation_timestamp")) m.creation_timestamp = *t;
    else note(problems, "no valid creation_timestamp");
    if (auto t = f->num("last_updated_timestamp")) m.last_updated_timestamp = *t;
    else m.last_updated_timestamp = m.creation_timestamp;
    m.description = f->str("description");
  } catch (const std::exception& e) {
    return fail(Status::corruption("meta.yaml", e.what()));
  }
  return m;
}

Result<VersionMeta> parse_model_version_meta(std::string_view text, std::vector<std::string>* problems) {
  auto f = load(text);
  if (!f) return fail(f.error());
  VersionMeta out;
  ModelVersion& v = out.version;
  try {
    auto name = f->str("name");
    if (!name || name->empty()) return fail(Status::corruption("meta.yaml", "no name"));
    v.name = *name;
    auto version = f->str("version");
    auto number = version ? parse_positive(*version) : std::nullopt;
    if (!number) return fail(Status::corruption("meta.yaml", "no valid version number"));
    v.version = *number;
    if (auto t = f->num("creation_timestamp")) v.creation_timestamp = *t;
    else note(problems, "no valid creation_timestamp");
    if (auto t = f->num("last_updated_timestamp")) v.last_updated_timestamp = *t;
    else v.last_updated_timestamp = v.creation_timestamp;
    std::string stage = f->str("current_stage").value_or("None");
    if (stage == kDeletedStage) {
      out.deleted = true;
    } else if (auto s = parse_model_stage(stage)) {
      v.current_stage = *s;
    } else {
      note(problems, "unknown current_stage '" + stage + "', read as None");
    }
    v.description = f->str("description");
    v.source = f->str("source").value_or("");
    v.storage_location = f->str("storage_location");
    v.run_id = f->str("run_id");
    if (v.run_id && v.run_id->empty()) v.run_id.reset();
    v.run_link = f->str("run_link");
    v.status = f->str("status").value_or("READY");
    v.status_message = f->str("status_message");
    v.user_id = f->str("user_id");
    v.model_id = f->str("model_id");
  } catch (const std::exception& e) {
    return fail(Status::corruption("meta.yaml", e.what()));
  }
  return out;
}

std::optional<std::int64_t> parse_alias_file(std::string_view text) { return parse_positive(text); }

}  // namespace mlruns::detail
