#include "format/mlmodel.h"

#include <cstdio>
#include <ctime>

#include "format/yaml_emit.h"
#include "format/yaml_load.h"

namespace mlruns::detail {
namespace {

YamlNode to_yaml(const OrderedJson& v) {
  switch (v.type()) {
    case OrderedJson::value_t::string: return YamlNode::string(v.get_ref<const std::string&>());
    case OrderedJson::value_t::boolean: return YamlNode::boolean(v.get<bool>());
    case OrderedJson::value_t::number_integer: return YamlNode::integer(v.get<std::int64_t>());
    case OrderedJson::value_t::number_unsigned: return YamlNode::integer(static_cast<std::int64_t>(v.get<std::uint64_t>()));
    case OrderedJson::value_t::array: {
      YamlNode list = YamlNode::list();
      for (const auto& item : v) list.items.push_back(to_yaml(item));
      return list;
    }
    case OrderedJson::value_t::object: {
      YamlNode map = YamlNode::map();
      for (const auto& [k, item] : v.items()) map.set(k, to_yaml(item));
      return map;
    }
    default: return YamlNode::null();
  }
}

std::string scalar_or_empty(const YAML::Node& map, const char* key) {
  const YAML::Node v = map[key];
  if (!v || !v.IsScalar()) return {};
  return v.Scalar();
}

}  // namespace

std::string render_mlmodel(const MlModel& m) {
  YamlNode doc = YamlNode::map();
  doc.set("artifact_path", YamlNode::string(m.artifact_path));
  doc.set("flavors", to_yaml(m.flavors));
  if (!m.metadata.empty()) {
    YamlNode meta = YamlNode::map();
    for (const auto& [k, v] : m.metadata) meta.set(k, YamlNode::string(v));
    doc.set("metadata", std::move(meta));
  }
  if (!m.mlflow_version.empty()) doc.set("mlflow_version", YamlNode::string(m.mlflow_version));
  if (!m.model_id.empty()) doc.set("model_id", YamlNode::string(m.model_id));
  if (m.model_size_bytes) doc.set("model_size_bytes", YamlNode::integer(static_cast<std::int64_t>(*m.model_size_bytes)));
  doc.set("model_uuid", YamlNode::string(m.model_uuid));
  doc.set("run_id", YamlNode::string(m.run_id));
  if (m.signature) doc.set("signature", to_yaml(*m.signature));
  doc.set("utc_time_created", YamlNode::string(m.utc_time_created));
  return yaml_dump(doc, PyYamlDumper::kSafeDump);
}

OrderedJson history_entry(const MlModel& m) {
  OrderedJson e = OrderedJson::object();
  e["run_id"] = m.run_id;
  e["artifact_path"] = m.artifact_path;
  e["utc_time_created"] = m.utc_time_created;
  e["model_uuid"] = m.model_uuid;
  OrderedJson flavors = OrderedJson::object();
  for (const auto& [name, fields] : m.flavors.items()) {
    if (!fields.is_object()) {
      flavors[name] = fields;
      continue;
    }
    OrderedJson kept = OrderedJson::object();
    for (const auto& [k, v] : fields.items())
      if (k != "config") kept[k] = v;
    flavors[name] = std::move(kept);
  }
  e["flavors"] = std::move(flavors);
  return e;
}

namespace {
Result<OrderedJson> parse_history_list(std::string_view text) {
  OrderedJson list = OrderedJson::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (list.is_discarded() || !list.is_array())
    return fail(Status::corruption(std::string(kLogModelHistoryTag) + " tag", "is not a JSON list (spec §8.3)"));
  return list;
}
}  // namespace

Result<std::string> append_history(std::string_view old, const OrderedJson& entry) {
  std::string item = py_json_dumps(entry);
  std::size_t first = old.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return "[" + item + "]";
  std::size_t last = old.find_last_not_of(" \t\r\n");
  std::string_view list = old.substr(first, last - first + 1);
  // MLflow's json.dumps(json.loads(old) + [entry]) equals the old text with
  // ", <entry>" before its "]" whenever json.dumps wrote the old text, and
  // this keeps values nlohmann cannot hold (NaN, ints beyond 64 bits) intact.
  if (list.size() < 2 || list.front() != '[' || list.back() != ']')
    return fail(Status::corruption(std::string(kLogModelHistoryTag) + " tag", "is not a JSON list (spec §8.3)"));
  std::string_view inner = list.substr(1, list.size() - 2);
  if (inner.find_first_not_of(" \t\r\n") == std::string_view::npos) return "[" + item + "]";
  return std::string(list.substr(0, list.size() - 1)) + ", " + item + "]";
}

Result<std::vector<LoggedModel>> parse_history(std::string_view tag_value) {
  auto list = parse_history_list(tag_value);
  if (!list) return fail(list.error());
  std::vector<LoggedModel> out;
  for (const auto& e : *list) {
    if (!e.is_object()) continue;
    auto str = [&](const char* key) {
      auto it = e.find(key);
      return it != e.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    LoggedModel m;
    m.artifact_path = str("artifact_path");
    if (m.artifact_path.empty()) continue;
    m.run_id = str("run_id");
    m.model_uuid = str("model_uuid");
    m.utc_time_created = str("utc_time_created");
    if (auto f = e.find("flavors"); f != e.end() && f->is_object())
      for (const auto& [name, fields] : f->items()) m.flavors.push_back(name);
    out.push_back(std::move(m));
  }
  return out;
}

Result<LoggedModel> parse_mlmodel(std::string_view text) {
  auto node = load_yaml_guarded(text, kMlModelFile);
  if (!node) return fail(node.error());
  if (!node->IsMap()) return fail(Status::corruption(kMlModelFile, "not a YAML mapping"));
  LoggedModel m;
  try {
    m.artifact_path = scalar_or_empty(*node, "artifact_path");
    m.run_id = scalar_or_empty(*node, "run_id");
    m.model_uuid = scalar_or_empty(*node, "model_uuid");
    m.utc_time_created = scalar_or_empty(*node, "utc_time_created");
    m.model_id = scalar_or_empty(*node, "model_id");
    const YAML::Node flavors = (*node)["flavors"];
    if (flavors && flavors.IsMap())
      for (const auto& kv : flavors)
        if (kv.first.IsScalar()) m.flavors.push_back(kv.first.Scalar());
  } catch (const std::exception& e) {
    return fail(Status::corruption(kMlModelFile, e.what()));
  }
  if (m.artifact_path == "null" || m.artifact_path == "~") m.artifact_path.clear();
  if (m.run_id == "null" || m.run_id == "~") m.run_id.clear();
  if (m.model_id == "null" || m.model_id == "~") m.model_id.clear();
  return m;
}

std::string utc_time_string(std::int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  int micros = static_cast<int>(ms % 1000) * 1000;
  if (ms < 0 && micros != 0) {  // floor division
    secs -= 1;
    micros += 1000000;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  std::string out(buf, n);
  if (micros != 0) {
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%06d", micros);
    out += frac;
  }
  return out;
}

namespace {

Status bad_signature(std::string_view detail) { return Status::invalid_argument("model signature", detail); }

// One part (inputs, outputs or params) as a JSON list of column, tensor or
// param specs (mlflow/types/schema.py); returns its json.dumps text.
Result<std::string> signature_part(std::string_view name, const OrderedJson& part) {
  OrderedJson list = part;
  if (part.is_string()) {
    const std::string& text = part.get_ref<const std::string&>();
    list = OrderedJson::parse(text.begin(), text.end(), nullptr, false);
    if (list.is_discarded())
      return fail(bad_signature("'" + std::string(name) + "' is a string but not JSON text"));
  }
  if (!list.is_array() || list.empty())
    return fail(bad_signature("'" + std::string(name) + "' must be a non-empty list of specs (mlflow/types/schema.py)"));
  for (const auto& spec : list) {
    if (!spec.is_object() || !spec.contains("type") || !spec["type"].is_string())
      return fail(bad_signature("every spec in '" + std::string(name) + "' must be an object with a \"type\""));
    if (name != "params" && spec["type"] == "tensor") {
      auto ts = spec.find("tensor-spec");
      if (ts == spec.end() || !ts->is_object() || !ts->contains("dtype") || !ts->contains("shape"))
        return fail(bad_signature("a tensor in '" + std::string(name) +
                                  "' needs \"tensor-spec\": {\"dtype\": ..., \"shape\": [...]}"));
    }
    if (name == "params" && !spec.contains("name"))
      return fail(bad_signature("every param spec needs a \"name\""));
  }
  return py_json_dumps(list);
}

Result<OrderedJson> signature_from_json(const OrderedJson& j) {
  if (!j.is_object()) return fail(bad_signature("must be an object with \"inputs\", \"outputs\", \"params\""));
  for (const auto& [k, v] : j.items())
    if (k != "inputs" && k != "outputs" && k != "params")
      return fail(bad_signature("unknown key '" + k + "' (allowed: inputs, outputs, params)"));
  OrderedJson out = OrderedJson::object();
  bool any = false;
  for (const char* part : {"inputs", "outputs", "params"}) {
    auto it = j.find(part);
    if (it == j.end() || it->is_null()) {
      out[part] = nullptr;
      continue;
    }
    auto text = signature_part(part, *it);
    if (!text) return fail(text.error());
    out[part] = *text;
    if (std::string_view(part) != "params") any = true;
  }
  if (!any) return fail(bad_signature("needs \"inputs\" or \"outputs\""));
  return out;
}

}  // namespace

Result<OrderedJson> parse_signature(std::string_view text) {
  OrderedJson j = OrderedJson::parse(text.begin(), text.end(), nullptr, false);
  if (!j.is_discarded()) return signature_from_json(j);
  // The YAML of an MLmodel's signature: section: each part is JSON text or null.
  auto node = load_yaml_guarded(text, "model signature", 16 << 20);
  if (!node) {
    std::string why = node.error().message();  // "model signature: ...": said once
    if (const std::string_view said = "model signature: "; why.rfind(said, 0) == 0) why.erase(0, said.size());
    return fail(bad_signature("is neither JSON nor YAML: " + why));
  }
  if (!node->IsMap()) return fail(bad_signature("must be a mapping of inputs, outputs, params"));
  OrderedJson parts = OrderedJson::object();
  try {
    YAML::Node body = *node;
    if (body["signature"] && body.size() == 1) body = body["signature"];  // a whole "signature:" block
    for (const auto& kv : body) {
      std::string key = kv.first.Scalar();
      if (kv.second.IsNull() || (kv.second.IsScalar() && (kv.second.Scalar() == "null" || kv.second.Scalar() == "~")))
        parts[key] = nullptr;
      else if (kv.second.IsScalar())
        parts[key] = kv.second.Scalar();
      else
        return fail(bad_signature("in YAML, '" + key + "' must be JSON text, as in an MLmodel file"));
    }
  } catch (const std::exception& e) {
    return fail(bad_signature(e.what()));
  }
  return signature_from_json(parts);
}

}  // namespace mlruns::detail
