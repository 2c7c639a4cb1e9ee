// CTest runs each Catch2 test case by name (catch_discover_tests), and CMake lists split at ';':
// a test case whose name holds ';' becomes two CTest entries that match nothing and fail.
// This check names the culprit at once instead.
#include <catch2/catch.hpp>

#include <string>

TEST_CASE("no test case name holds a semicolon, which CTest would split into two failing tests",
          "[meta]") {
  const auto& all = Catch::getRegistryHub().getTestCaseRegistry().getAllTests();
  REQUIRE(all.size() > 100);
  for (const auto& test_case : all) {
    INFO(test_case.name);
    CHECK(test_case.name.find(';') == std::string::npos);
  }
}
