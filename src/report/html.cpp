#include "report/html.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include <nettle/base64.h>
#include <nettle/sha2.h>
#include <utf8proc.h>

#include "util/printable.h"

namespace mlruns::detail {

void escape_html(std::string& out, std::string_view text) {
  out.reserve(out.size() + text.size());
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(text.size());
  while (left > 0) {
    const unsigned char c = *p;
    if (c < 0x80) {  // ASCII: the common case
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        case '\t':
        case '\n': out += static_cast<char>(c); break;
        default:
          if (c < 0x20 || c == 0x7f) {
            append_visible_escape(out, c);
          } else {
            out += static_cast<char>(c);
          }
      }
      ++p;
      --left;
      continue;
    }
    utf8proc_int32_t cp = -1;
    utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0 || cp < 0) {
      out += "\xef\xbf\xbd";  // U+FFFD for a byte that does not start valid UTF-8
      ++p;
      --left;
      continue;
    }
    if (needs_visible_escape(static_cast<char32_t>(cp))) {
      append_visible_escape(out, static_cast<char32_t>(cp));  // util/printable.h: the terminal's rule too
    } else {
      out.append(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
    }
    p += n;
    left -= n;
  }
}

std::string escape_html(std::string_view text) {
  std::string out;
  escape_html(out, text);
  return out;
}

std::size_t count_code_points(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

std::string clip_text(std::string_view text, std::size_t max_chars) {
  if (count_code_points(text) <= max_chars) return std::string(text);
  std::size_t keep = max_chars > 0 ? max_chars - 1 : 0;
  std::size_t i = 0;
  for (std::size_t cps = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (cps == keep) break;
      ++cps;
    }
  }
  return std::string(text.substr(0, i)) + "\xe2\x80\xa6";
}

std::string format_fixed(double v, int decimals) {
  if (!std::isfinite(v)) return format_sig(v, 6);
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  std::string_view s(buf, static_cast<std::size_t>(r.ptr - buf));
  if (s.find('.') != std::string_view::npos) {
    while (s.back() == '0') s.remove_suffix(1);
    if (s.back() == '.') s.remove_suffix(1);
  }
  if (s == "-0") s = "0";
  return std::string(s);
}

std::string format_sig(double v, int digits) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, digits);
  return std::string(buf, r.ptr);
}

Html& Html::text(std::string_view s) {
  escape_html(buf_, s);
  if (buf_.size() >= (64u << 10)) flush();
  return *this;
}

Html& Html::clipped(std::string_view s, std::size_t max_chars) { return text(clip_text(s, max_chars)); }

Html& Html::integer(std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return append(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
}

Html& Html::attr(Markup name, std::string_view value) {
  buf_ += ' ';
  buf_.append(name.view());
  buf_ += "=\"";
  escape_html(buf_, value);
  buf_ += '"';
  return *this;
}

Html& Html::attr_num(Markup name, double v, int decimals) { return attr(name, format_fixed(v, decimals)); }

Html& Html::attr_int(Markup name, std::int64_t v) { return attr(name, std::to_string(v)); }

void Html::flush() {
  if (buf_.empty()) return;
  out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
  flushed_ += buf_.size();
  buf_.clear();
}

std::string csp_hash(std::string_view content) {
  sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, content.size(), reinterpret_cast<const std::uint8_t*>(content.data()));
  std::uint8_t digest[SHA256_DIGEST_SIZE];
  sha256_digest(&ctx, SHA256_DIGEST_SIZE, digest);
  char b64[BASE64_ENCODE_RAW_LENGTH(SHA256_DIGEST_SIZE) + 1] = {};
  base64_encode_raw(b64, SHA256_DIGEST_SIZE, digest);
  return "sha256-" + std::string(b64, BASE64_ENCODE_RAW_LENGTH(SHA256_DIGEST_SIZE));
}

}  // namespace mlruns::detail
