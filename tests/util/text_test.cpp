// mlruns/text.h: what a terminal is shown of text from a tree (issue 15 item 5).
#include <catch2/catch.hpp>

#include "mlruns/text.h"

using mlruns::display_width;
using mlruns::fit_width;
using mlruns::terminal_safe;

TEST_CASE("terminal_safe escapes every sequence that acts on a terminal", "[text]") {
  CHECK(terminal_safe("\x1b]0;title\x07") == "\\e]0;title\\x07");              // OSC: set the title
  CHECK(terminal_safe("\x1b]52;c;aGk=\x07") == "\\e]52;c;aGk=\\x07");          // OSC 52: write the clipboard
  CHECK(terminal_safe("\x1b[2J") == "\\e[2J");                                  // CSI: clear the screen
  CHECK(terminal_safe("\x1bP1$r\x1b\\") == "\\eP1$r\\e\\");                     // DCS
  CHECK(terminal_safe("a\xc2\x9b" "2J") == "a\\u009b2J");                       // C1 CSI as UTF-8
  CHECK(terminal_safe("\xe2\x80\xae" "cod.exe") == "\\u202ecod.exe");           // right-to-left override
  CHECK(terminal_safe("\xe2\x81\xa6x\xe2\x81\xa9") == "\\u2066x\\u2069");       // isolates
  CHECK(terminal_safe("a\x7f" "b\rc\td") == "a\\x7fb\\x0dc\\x09d");
  CHECK(terminal_safe("bad \xff\xc3 utf8 \xed\xa0\x80") == "bad \\xff\\xc3 utf8 \\xed\\xa0\\x80");  // surrogate
  CHECK(terminal_safe("\xc0\xaf") == "\\xc0\\xaf");                             // overlong '/'
  CHECK(terminal_safe("line\nnext") == "line\\x0anext");
  CHECK(terminal_safe("line\nnext", true) == "line\nnext");
  // Text that is only text passes unchanged.
  CHECK(terminal_safe("実験 café e\xcc\x81 🙂 ü") == "実験 café e\xcc\x81 🙂 ü");
}

TEST_CASE("display_width counts terminal cells: CJK 2, combining marks 0", "[text]") {
  CHECK(display_width("abc") == 3);
  CHECK(display_width("実験") == 4);
  CHECK(display_width("e\xcc\x81") == 1);  // e + COMBINING ACUTE ACCENT
  CHECK(display_width("\\e[2J") == 5);
  CHECK(fit_width("実験データ", 5) == "実験…");  // 4 cells + the ellipsis
  CHECK(display_width(fit_width("実験データ", 5)) <= 5);
  CHECK(fit_width("abcdef", 4) == "abc…");
  CHECK(fit_width("abc", 4) == "abc");
}
