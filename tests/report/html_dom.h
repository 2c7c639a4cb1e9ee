// A parsed HTML page for the report tests (gumbo, the HTML5 parser Debian
// ships): find elements, read attributes and text.
#pragma once

#include <gumbo.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace mlruns::testing {

class Dom {
 public:
  explicit Dom(const std::string& html) : html_(html), out_(gumbo_parse_with_options(&kGumboDefaultOptions, html_.data(), html_.size())) {}
  ~Dom() { gumbo_destroy_output(&kGumboDefaultOptions, out_); }
  Dom(const Dom&) = delete;
  Dom& operator=(const Dom&) = delete;

  const GumboNode* root() const { return out_->root; }
  std::size_t parse_errors() const { return out_->errors.length; }

  // Every element below `from` (default: the document) for which `pred` holds, in document order.
  std::vector<const GumboNode*> find(const std::function<bool(const GumboNode*)>& pred,
                                     const GumboNode* from = nullptr) const {
    std::vector<const GumboNode*> out;
    walk(from ? from : root(), pred, out);
    return out;
  }
  // Elements by tag name (lower case, also SVG's "path", "title" ...).
  std::vector<const GumboNode*> by_tag(std::string_view tag, const GumboNode* from = nullptr) const {
    return find([&](const GumboNode* n) { return tag_name(n) == tag; }, from);
  }
  // Elements whose class list contains `cls`.
  std::vector<const GumboNode*> by_class(std::string_view tag, std::string_view cls,
                                         const GumboNode* from = nullptr) const {
    return find([&](const GumboNode* n) { return tag_name(n) == tag && has_class(n, cls); }, from);
  }

  static std::string tag_name(const GumboNode* n) {
    if (n->type != GUMBO_NODE_ELEMENT) return {};
    const GumboElement& e = n->v.element;
    if (e.tag != GUMBO_TAG_UNKNOWN) return gumbo_normalized_tagname(e.tag);
    GumboStringPiece piece = e.original_tag;
    gumbo_tag_from_original_text(&piece);
    std::string s(piece.data, piece.length);
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  static const char* attr(const GumboNode* n, const char* name) {
    if (n->type != GUMBO_NODE_ELEMENT) return nullptr;
    const GumboAttribute* a = gumbo_get_attribute(&n->v.element.attributes, name);
    return a ? a->value : nullptr;
  }
  static std::string attr_or(const GumboNode* n, const char* name, std::string fallback = {}) {
    const char* v = attr(n, name);
    return v ? std::string(v) : fallback;
  }
  static bool has_class(const GumboNode* n, std::string_view cls) {
    const char* c = attr(n, "class");
    if (!c) return false;
    std::string_view s(c);
    std::size_t pos = 0;
    while (pos <= s.size()) {
      std::size_t end = s.find(' ', pos);
      if (end == std::string_view::npos) end = s.size();
      if (s.substr(pos, end - pos) == cls) return true;
      pos = end + 1;
    }
    return false;
  }
  // The text of a node and everything below it.
  static std::string text(const GumboNode* n) {
    if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE || n->type == GUMBO_NODE_CDATA)
      return n->v.text.text;
    if (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_TEMPLATE) return {};
    std::string out;
    const GumboVector& kids = n->v.element.children;
    for (unsigned i = 0; i < kids.length; ++i) out += text(static_cast<const GumboNode*>(kids.data[i]));
    return out;
  }
  static std::vector<const GumboNode*> children(const GumboNode* n) {
    std::vector<const GumboNode*> out;
    if (n->type != GUMBO_NODE_ELEMENT) return out;
    const GumboVector& kids = n->v.element.children;
    for (unsigned i = 0; i < kids.length; ++i) {
      auto* k = static_cast<const GumboNode*>(kids.data[i]);
      if (k->type == GUMBO_NODE_ELEMENT) out.push_back(k);
    }
    return out;
  }

 private:
  static void walk(const GumboNode* n, const std::function<bool(const GumboNode*)>& pred,
                   std::vector<const GumboNode*>& out) {
    if (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_TEMPLATE) return;
    if (pred(n)) out.push_back(n);
    const GumboVector& kids = n->v.element.children;
    for (unsigned i = 0; i < kids.length; ++i) walk(static_cast<const GumboNode*>(kids.data[i]), pred, out);
  }
  std::string html_;
  GumboOutput* out_;
};

}  // namespace mlruns::testing
