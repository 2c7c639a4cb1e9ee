// Making untrusted text safe to show and unique names safe to create.
#pragma once

#include <string>
#include <string_view>

namespace mlruns::detail {

// `s` with control bytes (and DEL) written as \xNN, so that a hostile name
// cannot drive the terminal an error or warning is printed on.
std::string escape_control(std::string_view s);

// Whether code point `cp` is shown as a visible escape rather than itself, by
// terminal_safe (mlruns/text.h) and the report's escape_html alike: what is
// not a visible character or acts on the text around it. General categories
// Cc (controls), Cf (format: bidi marks and overrides, U+200B-U+200D, U+00AD,
// U+2060, U+FEFF, U+E0001 tags), Zl and Zp (U+2028, U+2029), Co (private use),
// Cs and Cn (unassigned), and every Default_Ignorable_Code_Point (U+115F,
// U+3164, variation selectors), per utf8proc's tables. Two names that look
// the same on a screen are then the same bytes.
bool needs_visible_escape(char32_t cp);

// `cp` as visible text: \xNN for ASCII, \uNNNN for the rest of the BMP (C1
// controls included, unlike a stray byte's \xNN), \UNNNNNNNN above.
void append_visible_escape(std::string& out, char32_t cp);

// The longest prefix of `s` of at most `max_bytes` bytes that does not end
// inside a UTF-8 sequence (a lead byte whose continuation bytes were cut).
std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes);

// Text for a message: at most `max_chars` code points of `s` (never cut
// inside a UTF-8 sequence, so JSON and terminals get valid UTF-8), "..."
// appended if something was cut, control bytes escaped. The one helper for
// shortening names and values in errors, warnings and findings.
std::string printable_prefix(std::string_view s, std::size_t max_chars);

// Code points in `s` (bytes that are not UTF-8 continuation bytes): what
// Python's len() counts for valid UTF-8, and MLflow's length limits use.
std::size_t utf8_length(std::string_view s);

// `digits` random hex digits for temp names. Never throws: where no entropy
// source exists it falls back to the clock, the pid and a counter.
std::string random_hex(int digits);

}  // namespace mlruns::detail
