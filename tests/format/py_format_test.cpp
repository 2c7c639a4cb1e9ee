// Metric values as Python's str(float) writes them (spec §5.1, appendix A).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "format/py_format.h"

using mlruns::detail::py_float;

TEST_CASE("py_float writes special values like Python (spec appendix A)", "[py_format]") {
  CHECK(py_float(std::nan("")) == "nan");
  CHECK(py_float(-std::nan("")) == "nan");
  CHECK(py_float(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(py_float(-std::numeric_limits<double>::infinity()) == "-inf");
  CHECK(py_float(0.0) == "0.0");
  CHECK(py_float(-0.0) == "-0.0");
}

TEST_CASE("py_float uses fixed notation for 1e-4 <= |x| < 1e16 and repr digits (spec §5.1)", "[py_format]") {
  CHECK(py_float(100.0) == "100.0");
  CHECK(py_float(0.1) == "0.1");
  CHECK(py_float(0.0001) == "0.0001");
  CHECK(py_float(0.00012) == "0.00012");
  CHECK(py_float(2.5e-4) == "0.00025");
  CHECK(py_float(9999999999999998.0) == "9999999999999998.0");
  CHECK(py_float(1e15) == "1000000000000000.0");
  CHECK(py_float(123456.789) == "123456.789");
  CHECK(py_float(-3.25) == "-3.25");
  CHECK(py_float(1.0 / 3) == "0.3333333333333333");
  CHECK(py_float(0.5) == "0.5");
}

TEST_CASE("py_float uses scientific notation with a 2-digit exponent otherwise (spec §5.1)", "[py_format]") {
  CHECK(py_float(1e-5) == "1e-05");
  CHECK(py_float(1.5e-5) == "1.5e-05");
  CHECK(py_float(1e16) == "1e+16");
  CHECK(py_float(1.2345678901234568e+17) == "1.2345678901234568e+17");
  CHECK(py_float(5e-324) == "5e-324");
  CHECK(py_float(1e300) == "1e+300");
  CHECK(py_float(-2.2250738585072014e-308) == "-2.2250738585072014e-308");
  CHECK(py_float(std::numeric_limits<double>::max()) == "1.7976931348623157e+308");
}
