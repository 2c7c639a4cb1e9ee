// Metric file lines as every MLflow wrote them (spec §5.1), and what the
// reader does with damaged ones (§10.6, §14.3).
#include <catch2/catch.hpp>

#include <cctype>
#include <cmath>
#include <string>
#include <vector>

#include "format/metric_file.h"

using namespace mlruns;
using namespace mlruns::detail;

namespace {

ParsedPoint parse_ok(std::string_view line) {
  ParsedPoint p;
  const char* error = nullptr;
  INFO("line '" << line << "'");
  REQUIRE(parse_metric_line(line, p, error));
  return p;
}

std::string parse_error(std::string_view line) {
  ParsedPoint p;
  const char* error = nullptr;
  INFO("line '" << line << "'");
  REQUIRE_FALSE(parse_metric_line(line, p, error));
  REQUIRE(error != nullptr);
  return error;
}

}  // namespace

TEST_CASE("2-, 3- and 5-field metric lines (spec §5.1)", "[metric_file]") {
  ParsedPoint p = parse_ok("1736942400035 0.9 7");
  CHECK(p.timestamp == 1736942400035);
  CHECK(p.value == 0.9);
  CHECK(p.step == 7);

  p = parse_ok("1736942400035 0.5");  // before MLflow 1.0: no step
  CHECK(p.step == 0);
  CHECK(p.value == 0.5);

  // MLflow 3.x with a dataset; MLflow 3.x itself reads step 0 here (an MLflow
  // bug), we read the step that was written.
  p = parse_ok("1700000000001 0.9 2 iris abc123");
  CHECK(p.step == 2);
  CHECK(p.value == 0.9);
  CHECK(p.dataset_name == "iris");
  CHECK(p.dataset_digest == "abc123");
  CHECK(to_metric("acc", p).dataset_name == "iris");
  CHECK(parse_ok("1 2 3").dataset_name.empty());
}

TEST_CASE("metric values parse like Python's float() (spec §5.1)", "[metric_file]") {
  CHECK(std::isnan(parse_ok("1 nan 0").value));
  CHECK(std::isnan(parse_ok("1 NaN 0").value));
  CHECK(std::isnan(parse_ok("1 -nan 0").value));
  CHECK(parse_ok("1 inf 0").value == INFINITY);
  CHECK(parse_ok("1 -inf 0").value == -INFINITY);
  CHECK(parse_ok("1 +Infinity 0").value == INFINITY);
  CHECK(parse_ok("1 -INFINITY 0").value == -INFINITY);
  double z = parse_ok("1 -0.0 0").value;
  CHECK(z == 0.0);
  CHECK(std::signbit(z));
  CHECK(parse_ok("1 1e-05 0").value == 1e-05);
  CHECK(parse_ok("1 1.2345678901234568e+17 0").value == 1.2345678901234568e+17);
  CHECK(parse_ok("1 0.30000000000000004 0").value == 0.30000000000000004);
  CHECK(parse_ok("1 100 0").value == 100.0);
  CHECK(parse_ok("1 .5 0").value == 0.5);
  CHECK(parse_ok("1 5. 0").value == 5.0);
  CHECK(parse_ok("1 +2.5 0").value == 2.5);
  CHECK(parse_ok("1 5e-324 0").value == 5e-324);
  CHECK(parse_ok("1 1E3 0").value == 1000.0);
  CHECK(parse_ok("+5 1 -3").timestamp == 5);
  CHECK(parse_ok("5 1 -3").step == -3);
}

TEST_CASE("malformed metric lines are reported, not fatal (spec §10.6, §14.3)", "[metric_file]") {
  CHECK(parse_error("") == std::string("blank line"));
  CHECK(parse_error("   ") == std::string("blank line"));
  CHECK(std::string(parse_error("1736942400035")).find("1 field") != std::string::npos);
  CHECK(std::string(parse_error("1 2 3 4")).find("4 fields") != std::string::npos);
  CHECK(std::string(parse_error("1 2 3 4 5 6")).find("more than 5") != std::string::npos);
  CHECK(std::string(parse_error("1  2 3")).find("4 fields") != std::string::npos);  // a double space splits into an empty field
  CHECK(std::string(parse_error("1  2")).find("value") != std::string::npos);
  CHECK(std::string(parse_error("1700000000000.5 1 0")).find("timestamp") != std::string::npos);
  CHECK(std::string(parse_error("1 1 0.5")).find("step") != std::string::npos);
  CHECK(std::string(parse_error("1 abc 0")).find("value") != std::string::npos);
  CHECK(std::string(parse_error("1 nan(1) 0")).find("value") != std::string::npos);
  CHECK(std::string(parse_error("1 0x10 0")).find("value") != std::string::npos);
  CHECK(std::string(parse_error("99999999999999999999 1 0")).find("timestamp") != std::string::npos);
  CHECK(std::string(parse_error("1 +-1 0")).find("value") != std::string::npos);
  CHECK(std::string(parse_error("1 1 +-1")).find("step") != std::string::npos);
}

TEST_CASE("CRLF lines and surrounding whitespace are accepted (spec §2.3, §14.22)", "[metric_file]") {
  std::vector<ParsedPoint> points;
  auto problems = for_each_metric_point("1 0.5 0\r\n2 0.7 1\r\n", [&](const ParsedPoint& p) { points.push_back(p); });
  CHECK_FALSE(problems.any());
  REQUIRE(points.size() == 2);
  CHECK(points[1].value == 0.7);
  CHECK(points[1].step == 1);
}

TEST_CASE("an unterminated last line is ignored: it may be a write in progress (spec §11)", "[metric_file]") {
  std::vector<ParsedPoint> points;
  auto problems = for_each_metric_point("1 0.5 0\n2 0.7 1\n3 0.", [&](const ParsedPoint& p) { points.push_back(p); });
  CHECK(points.size() == 2);
  CHECK(problems.unterminated_tail);
  CHECK(problems.bad_lines == 0);
  CHECK(problems.describe().find("no newline") != std::string::npos);
}

TEST_CASE("bad lines are skipped, the good ones kept, the first bad one named", "[metric_file]") {
  ParsedPoint latest;
  MetricFileProblems problems;
  REQUIRE(latest_metric_point("1 0.5 0\n\n2 x 1\n3 0.9 2\n\n", latest, problems));
  CHECK(latest.value == 0.9);
  CHECK(problems.bad_lines == 3);
  CHECK(problems.first_bad_line == 2);
  CHECK(problems.describe().find("line 2: blank line") != std::string::npos);
  CHECK_FALSE(latest_metric_point("garbage\n", latest, problems));
  CHECK_FALSE(latest_metric_point("", latest, problems));
  CHECK_FALSE(problems.any());
}

TEST_CASE("latest metric is the max (step, timestamp, value), not the last line (spec §5.1, §14.14)",
          "[metric_file]") {
  ParsedPoint latest;
  MetricFileProblems problems;
  // out_of_order fixture: the highest step wins.
  REQUIRE(latest_metric_point("1704072600300 7.5 5\n1704072600301 3.0 2\n1704072600302 13.5 9\n"
                              "1704072600303 0.0 0\n1704072600304 10.5 7\n",
                              latest, problems));
  CHECK(latest.value == 13.5);
  CHECK(latest.step == 9);
  // repeated_step fixture: same step, newest timestamp, then the larger value.
  REQUIRE(latest_metric_point("1704072600401 1.0 3\n1704072600402 2.0 3\n1704072600402 1.5 3\n"
                              "1704072600403 9.0 1\n",
                              latest, problems));
  CHECK(latest.value == 2.0);
  CHECK(latest.timestamp == 1704072600402);
}

TEST_CASE("NaN ties keep the earlier line, as Python's max over tuples (spec §5.1)", "[metric_file]") {
  ParsedPoint latest;
  MetricFileProblems problems;
  REQUIRE(latest_metric_point("5 nan 1\n5 3.0 1\n", latest, problems));
  CHECK(std::isnan(latest.value));
  REQUIRE(latest_metric_point("5 3.0 1\n5 nan 1\n", latest, problems));
  CHECK(latest.value == 3.0);
  // A later step beats NaN and is beaten by nothing smaller.
  REQUIRE(latest_metric_point("5 nan 1\n4 1.0 2\n", latest, problems));
  CHECK(latest.value == 1.0);
  // -0.0 and 0.0 compare equal: the first stays.
  REQUIRE(latest_metric_point("5 -0.0 1\n5 0.0 1\n", latest, problems));
  CHECK(std::signbit(latest.value));
}

TEST_CASE("history keeps every good line in file order (spec §10.3)", "[metric_file]") {
  MetricFileProblems problems;
  auto h = metric_history_points("loss", "3 0.3 2\n1 0.1 0\n2 0.2 1\n", problems);
  REQUIRE(h.size() == 3);
  CHECK(h[0].key == "loss");
  CHECK(h[0].step == 2);
  CHECK(h[1].step == 0);
  CHECK(h[2].value == 0.2);
}

namespace {

// The rule of spec §5.1 spelled out: strip, split on single spaces, 2, 3 or
// 5 fields, each parsed as Python's int() / float() (parse_int_field and
// parse_float_field, tested above).
bool reference_parse(std::string_view line, ParsedPoint& out) {
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.remove_prefix(1);
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.remove_suffix(1);
  if (line.empty()) return false;
  std::vector<std::string_view> f;
  for (std::size_t start = 0;;) {
    std::size_t sp = line.find(' ', start);
    f.push_back(line.substr(start, sp == std::string_view::npos ? std::string_view::npos : sp - start));
    if (sp == std::string_view::npos) break;
    start = sp + 1;
  }
  if (f.size() != 2 && f.size() != 3 && f.size() != 5) return false;
  out.step = 0;
  return parse_int_field(f[0], out.timestamp) && parse_float_field(f[1], out.value) &&
         (f.size() == 2 || parse_int_field(f[2], out.step));
}

void check_same_as_reference(const std::string& line) {
  ParsedPoint got, want;
  const char* error = nullptr;
  INFO("line '" << line << "'");
  const bool ok = parse_metric_line(line, got, error);
  REQUIRE(ok == reference_parse(line, want));
  if (!ok) return;
  CHECK(got.timestamp == want.timestamp);
  CHECK(got.step == want.step);
  CHECK((std::isnan(got.value) ? std::isnan(want.value) : got.value == want.value));
  CHECK(std::signbit(got.value) == std::signbit(want.value));
}

}  // namespace

// parse_metric_line reads the usual "ts value step" line in one scan (eight
// digits at a time) and leaves every other shape to the general path: both
// must take exactly the lines, and give exactly the numbers, of the rule.
TEST_CASE("the one-scan path of metric lines agrees with the field-by-field rule (spec §5.1)", "[metric_file]") {
  const std::vector<std::string> numbers = {
      "0", "7", "00000000", "12345678", "123456789", "1700000000000", "99999999999999999", "999999999999999999",
      "1000000000000000000", "9223372036854775807", "9223372036854775808", "18446744073709551616", "-1", "+5",
      "-0", "1_000", "1__0", "_1", "1_", "1.5", "-2.5", ".5", "5.", "1e5", "1e", "1E-3", "2.5515553295453897",
      "1.7976931348623157e+308", "1e400", "nan", "-inf", "Infinity", "0x10", "1/2", "12345678/", "1234567:",
      "1234/678", "12345678:9", "1 ", "", "١٢", "12345678901234567a"};
  for (const std::string& ts : numbers)
    for (const std::string& value : numbers) {
      check_same_as_reference(ts + " " + value);
      check_same_as_reference(ts + " " + value + " 42");
      check_same_as_reference("1700000000000 " + value + " " + ts);
      check_same_as_reference(ts + " " + value + " " + ts + " iris d1");
    }
  // Whitespace around, empty fields, too many fields.
  for (const char* line :
       {"1 2 3\r", " 1 2 3", "1 2 3 \t", "1  2 3", "1 2  3", "1 2 3 4", "1 2 3 4 5 6", "1\t2 3", "12345678 2\t3"})
    check_same_as_reference(line);
}
