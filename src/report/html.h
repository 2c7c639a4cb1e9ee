// Writing the report's HTML and SVG. Internal.
//
// Why markup is built here and not with a template engine (mustache was the
// other choice): the page is mostly tables and SVG paths computed from
// numbers, which a template would have to take as unescaped ("triple
// brace") blobs, exactly the hole through which tree text could slip in
// unescaped. Here the only way to write markup is Html::raw with a Markup,
// which can be made from string literals alone (consteval), and the only way
// to write anything else is through escape_html, the report's one escaping
// function. The page is also streamed (flushed every 64 KiB), so a large
// sweep never sits in memory twice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace mlruns::detail {

// Text made safe for HTML text, quoted attribute values, <title> inside SVG
// and <script>/<style> content alike: & < > " ' become character references;
// control characters (but tab and newline), DEL, bidirectional overrides
// (U+202A..U+202E, U+2066..U+2069) and the JavaScript line separators
// U+2028/U+2029 are shown as visible \xNN / \uNNNN text; bytes that are not
// UTF-8 become U+FFFD. Appends to `out`.
void escape_html(std::string& out, std::string_view text);
std::string escape_html(std::string_view text);

// `text` cut to at most `max_chars` code points, with "…" for the rest.
// Never splits a UTF-8 sequence.
std::string clip_text(std::string_view text, std::size_t max_chars);
std::size_t count_code_points(std::string_view text);

// A piece of markup written by the report itself: only string literals (or
// other constant expressions) convert to it.
class Markup {
 public:
  template <std::size_t N>
  consteval Markup(const char (&literal)[N]) : text_(literal, N - 1) {}  // NOLINT: implicit by design
  std::string_view view() const { return text_; }

 private:
  std::string_view text_;
};

// Numbers as the page shows them, locale-free (std::to_chars):
// fixed with `decimals` digits, trailing zeros and a trailing '.' dropped.
std::string format_fixed(double v, int decimals);
// At most `digits` significant digits, %g style: 0.0005, 195, 1.5e+06; nan,
// inf, -inf as text.
std::string format_sig(double v, int digits);

// The report's output: markup from literals, everything else escaped.
class Html {
 public:
  explicit Html(std::ostream& out) : out_(out) {}
  ~Html() { flush(); }
  Html(const Html&) = delete;
  Html& operator=(const Html&) = delete;

  Html& raw(Markup m) { return append(m.view()); }
  Html& text(std::string_view s);
  // text(), cut to `max_chars` code points with "…" (clip_text).
  Html& clipped(std::string_view s, std::size_t max_chars);
  Html& num(double v, int decimals = 1) { return append(format_fixed(v, decimals)); }
  Html& sig(double v, int digits = 6) { return append(format_sig(v, digits)); }
  Html& integer(std::int64_t v);
  // ` name="value"` (value escaped).
  Html& attr(Markup name, std::string_view value);
  Html& attr_num(Markup name, double v, int decimals = 1);
  Html& attr_int(Markup name, std::int64_t v);

  // Bytes written so far (flushed and buffered).
  std::size_t bytes() const { return flushed_ + buf_.size(); }
  void flush();
  bool ok() const { return static_cast<bool>(out_); }

 private:
  Html& append(std::string_view s) {
    buf_.append(s);
    if (buf_.size() >= (64u << 10)) flush();
    return *this;
  }
  std::ostream& out_;
  std::string buf_;
  std::size_t flushed_ = 0;
};

// "sha256-<base64>" of `content`, for a Content-Security-Policy that allows
// exactly the page's own inline style and script (nettle's SHA-256).
std::string csp_hash(std::string_view content);

}  // namespace mlruns::detail
