#include "format/py_format.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace mlruns::detail {

namespace {

template <typename F>
std::size_t format_py(F v, char* buf) {
  if (std::isnan(v)) {
    std::memcpy(buf, "nan", 3);
    return 3;
  }
  if (std::isinf(v)) {
    if (v < 0) {
      std::memcpy(buf, "-inf", 4);
      return 4;
    }
    std::memcpy(buf, "inf", 3);
    return 3;
  }
  // Shortest round-trip digits in scientific form: [-]d[.ddd]e(+|-)XX.
  char sci[40];
  auto res = std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific);
  const char* p = sci;
  const char* end = res.ptr;
  char* out = buf;
  if (*p == '-') {
    *out++ = '-';
    ++p;
  }
  char digits[24];
  int n = 0;
  while (p < end && *p != 'e') {
    if (*p != '.') digits[n++] = *p;
    ++p;
  }
  int exp = 0;
  if (p < end) {  // skip 'e'
    ++p;
    bool neg = *p == '-';
    ++p;
    std::from_chars(p, end, exp);
    if (neg) exp = -exp;
  }
  // Python's repr drops trailing zeros of the digit string; to_chars already
  // gives the shortest one, but "0e+00" has the single digit 0.
  if (exp >= -4 && exp < 16) {
    if (exp < 0) {
      *out++ = '0';
      *out++ = '.';
      for (int i = 0; i < -exp - 1; ++i) *out++ = '0';
      for (int i = 0; i < n; ++i) *out++ = digits[i];
    } else {
      int int_digits = exp + 1;
      for (int i = 0; i < int_digits; ++i) *out++ = i < n ? digits[i] : '0';
      *out++ = '.';
      if (n > int_digits) {
        for (int i = int_digits; i < n; ++i) *out++ = digits[i];
      } else {
        *out++ = '0';
      }
    }
  } else {
    *out++ = digits[0];
    if (n > 1) {
      *out++ = '.';
      for (int i = 1; i < n; ++i) *out++ = digits[i];
    }
    *out++ = 'e';
    *out++ = exp < 0 ? '-' : '+';
    int a = exp < 0 ? -exp : exp;
    if (a < 10) *out++ = '0';
    out = std::to_chars(out, buf + kMaxPyFloatChars, a).ptr;
  }
  return static_cast<std::size_t>(out - buf);
}

}  // namespace

std::size_t format_py_float(double v, char* buf) { return format_py(v, buf); }

std::string py_float32(float v) {
  char buf[kMaxPyFloatChars];
  return std::string(buf, format_py(v, buf));
}

std::string py_float(double v) {
  char buf[kMaxPyFloatChars];
  return std::string(buf, format_py_float(v, buf));
}

void append_py_float(std::string& out, double v) {
  char buf[kMaxPyFloatChars];
  out.append(buf, format_py_float(v, buf));
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace mlruns::detail
