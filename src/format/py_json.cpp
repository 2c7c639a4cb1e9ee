#include "format/py_json.h"

#include <cmath>

#include "format/py_format.h"

namespace mlruns::detail {
namespace {

void append_hex4(std::string& out, std::uint32_t v) {
  static const char* kHex = "0123456789abcdef";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(v >> shift) & 0xF];
}

// json.encoder.py_encode_basestring_ascii. Invalid UTF-8 (nlohmann never
// holds it) would be written byte by byte as \u00XX.
void append_string(std::string& out, const std::string& s) {
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20 || c == 0x7f) append_hex4(out, c);  // ensure_ascii: only ' '..'~' as is
          else out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    std::size_t n = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    if (n == 1 || i + n > s.size()) {
      append_hex4(out, c);
      ++i;
      continue;
    }
    std::uint32_t cp = n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      append_hex4(out, 0xD800 | (cp >> 10));
      append_hex4(out, 0xDC00 | (cp & 0x3FF));
    } else {
      append_hex4(out, cp);
    }
    i += n;
  }
  out += '"';
}

void append_value(std::string& out, const OrderedJson& v) {
  switch (v.type()) {
    case OrderedJson::value_t::null: out += "null"; break;
    case OrderedJson::value_t::boolean: out += v.get<bool>() ? "true" : "false"; break;
    case OrderedJson::value_t::number_integer: append_int(out, v.get<std::int64_t>()); break;
    case OrderedJson::value_t::number_unsigned: out += std::to_string(v.get<std::uint64_t>()); break;
    case OrderedJson::value_t::number_float: {
      double d = v.get<double>();
      if (std::isnan(d)) out += "NaN";
      else if (std::isinf(d)) out += d > 0 ? "Infinity" : "-Infinity";
      else append_py_float(out, d);
      break;
    }
    case OrderedJson::value_t::string: append_string(out, v.get_ref<const std::string&>()); break;
    case OrderedJson::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v) {
        if (!first) out += ", ";
        first = false;
        append_value(out, item);
      }
      out += ']';
      break;
    }
    case OrderedJson::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : v.items()) {
        if (!first) out += ", ";
        first = false;
        append_string(out, key);
        out += ": ";
        append_value(out, item);
      }
      out += '}';
      break;
    }
    default: out += "null"; break;  // binary, discarded: never produced by parsing JSON text
  }
}

}  // namespace

std::string py_json_dumps(const OrderedJson& value) {
  std::string out;
  append_value(out, value);
  return out;
}

}  // namespace mlruns::detail
