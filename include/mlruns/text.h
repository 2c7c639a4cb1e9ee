// Text from a tree, made safe to show on a terminal (docs/cli.md, "Output").
//
// A tree's author chooses every run name, tag and path; a name such as
// "\e]52;c;...\a" (OSC 52: write the clipboard), "\e[2J" or a right-to-left
// override would act on the terminal if printed raw. Every verb's human
// output goes through terminal_safe; JSON output escapes per JSON instead.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mlruns {

// `s` with everything that can act on a terminal, or that does not show,
// written as visible text: ESC as \e; other C0 controls, DEL and bytes that
// are not valid UTF-8 as \xNN; every other code point of general category
// Cc, Cf, Zl, Zp, Co or Cn and every default-ignorable one (C1 controls such
// as the 8-bit CSI, bidirectional controls U+061C, U+200E, U+202E, ...,
// zero-width U+200B-U+200D, U+00AD, U+2060, U+FEFF, U+115F, U+3164, tags
// U+E0001..., U+2028, U+2029) as \uNNNN (\UNNNNNNNN above U+FFFF), so two
// names that look alike are alike. '\n' is kept when `keep_newlines`, else
// shown as \x0a. Other valid UTF-8 text (CJK, accents, emoji) passes
// unchanged. The report's HTML escaping uses the same rule.
std::string terminal_safe(std::string_view s, bool keep_newlines = false);

// Terminal cells `s` takes (Unicode East Asian width via utf8proc: CJK = 2,
// combining marks = 0, others 1). REQUIRES: `s` went through terminal_safe.
std::size_t display_width(std::string_view s);

// The longest prefix of `s` (terminal_safe text) at most `width` cells wide
// with "…" in place of what was cut; never splits a character.
std::string fit_width(std::string_view s, std::size_t width);

// Bytes of the longest prefix of `s` (terminal_safe text) at most `width`
// cells wide; never splits a character.
std::size_t width_prefix_bytes(std::string_view s, std::size_t width);

}  // namespace mlruns
