// Numbers written exactly as Python writes them: str(float) (= repr, spec
// appendix A) for metric values and float params, str(int) for the rest.
// Locale-free (std::to_chars). Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace mlruns::detail {

// Longest output: "-2.2250738585072014e-308" (24 chars).
inline constexpr std::size_t kMaxPyFloatChars = 32;

// Writes Python's repr(v) into buf (>= kMaxPyFloatChars); returns its length.
// nan, inf, -inf, -0.0, 100.0, 0.0001, 1e-05, 1e+16, 5e-324 ...
std::size_t format_py_float(double v, char* buf);
std::string py_float(double v);
// The same with the shortest digits that read back as the same float (32
// bits), as numpy's str(np.float32(v)): 0.1f -> "0.1".
std::string py_float32(float v);
void append_py_float(std::string& out, double v);
void append_int(std::string& out, std::int64_t v);

}  // namespace mlruns::detail
