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

// `s` with everything that can act on a terminal written as visible text:
// ESC as \e; other C0 controls, DEL and bytes that are not valid UTF-8 as
// \xNN; C1 controls (U+0080-U+009F, e.g. the 8-bit CSI) and bidirectional
// controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) as \uNNNN.
// '\n' is kept when `keep_newlines`, else shown as \x0a. Valid UTF-8 text
// (CJK, accents, emoji) passes unchanged.
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
