// mlruns report, plot and history --plot run as a program; the report opened
// in headless Chromium (Debian's chromium): it renders, its script runs, and
// the browser logs no error (console, Content-Security-Policy).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_test_util.h"
#include "mlruns/reader.h"
#include "report/html_dom.h"

#ifdef MLRUNS_CLI_PATH

using namespace mlruns::testing;

namespace {

const std::string kRlSweep = "763558276457519285";
const std::string kBestRun = "73f6c94fec5f46348c1e98db961d2709";  // rl-sweep's best FINISHED run (cli_read_test.cpp)

std::string fixture_root() { return (fixture_dir("mlflow-3.8") / "mlruns").string(); }

// Debian's chromium, if installed.
std::string find_chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (fs::exists(p)) return p;
  return {};
}

}  // namespace

TEST_CASE("cli: report writes one HTML file and says what it holds", "[cli][report]") {
  TempDir tmp;
  const std::string out = (tmp.path() / "report.html").string();
  CliResult r = run_cli({"report", "--tracking-uri", fixture_root(), "-e", "rl-sweep", "--order-by",
                         "metrics.episode_reward_mean DESC", "-o", out});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(trim(r.out) == out);
  auto reader = mlruns::Reader::open(fixture_root());
  REQUIRE(reader);
  const std::size_t active = reader->runs({kRlSweep})->size();
  CHECK(r.err.find("report of " + std::to_string(active) + " runs") != std::string::npos);
  const std::string html = read_file(out);
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  Dom dom(html);
  CHECK(dom.by_class("div", "card").size() == 1);
  CHECK(Dom::attr_or(dom.by_class("div", "card")[0], "data-run") == kBestRun);
  // no temporary file is left beside it
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(tmp.path())) files += e.is_regular_file();
  CHECK(files == 1);

  r = run_cli({"report", "--tracking-uri", fixture_root(), "-e", kRlSweep, "-m", "episode_reward_max", "--order-by",
               "metrics.episode_reward_mean DESC", "-o", out, "--json"});
  REQUIRE(r.code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["charts"] == 1);
  CHECK(j["runs"] == active);
  CHECK(j["best_run_id"] == kBestRun);
  CHECK(j["bytes"].get<std::size_t>() == fs::file_size(out));

  r = run_cli({"report", "--tracking-uri", fixture_root(), "-e", kRlSweep, "-o", "-"});
  REQUIRE(r.code == 0);
  CHECK(r.out.rfind("<!DOCTYPE html>", 0) == 0);
}

TEST_CASE("cli: report refuses bad input with the documented exit codes", "[cli][report]") {
  TempDir tmp;
  const std::string out = (tmp.path() / "r.html").string();
  write_file(out, "previous report");
  auto code = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"report", "--tracking-uri", fixture_root()});
    CliResult r = run_cli(args);
    INFO(r.err);
    CHECK((r.code == 0 || !r.err.empty()));
    return r.code;
  };
  CHECK(code({"-e", kRlSweep, "--filter", "metrics.x >", "-o", out}) == 3);
  CHECK(code({"-e", kRlSweep, "-m", "no_such_metric", "-o", out}) == 4);
  CHECK(code({"-e", "no-such-experiment", "-o", out}) == 4);
  CHECK(code({"-e", kRlSweep}) == 2);  // -o is required
  CHECK(code({"-e", kRlSweep, "--x", "epoch", "-o", out}) == 2);
  CHECK(read_file(out) == "previous report");  // a refused report replaces nothing
  CHECK(code({"-e", kRlSweep, "-o", (tmp.path() / "no" / "dir" / "r.html").string()}) == 8);
}

TEST_CASE("cli: plot writes SVG and PNG, or draws in the terminal", "[cli][report]") {
  TempDir tmp;
  const std::string svg = (tmp.path() / "c.svg").string(), png = (tmp.path() / "c.png").string();
  CliResult r = run_cli({"plot", kBestRun, "-m", "episode_reward_mean", "-m", "episode_reward_max", "-o", svg,
                         "--tracking-uri", fixture_root()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  Dom dom("<!DOCTYPE html><body>" + read_file(svg));
  CHECK(dom.by_tag("path").size() == 2);
  r = run_cli({"plot", kBestRun, "-m", "episode_reward_mean", "-o", png, "--tracking-uri", fixture_root()});
  REQUIRE(r.code == 0);
  const std::string bytes = read_file(png);
  REQUIRE(bytes.size() > 24);
  CHECK(bytes.substr(0, 8) == "\x89PNG\r\n\x1a\n");
  auto be32 = [&](std::size_t at) {
    return (static_cast<unsigned char>(bytes[at]) << 24) | (static_cast<unsigned char>(bytes[at + 1]) << 16) |
           (static_cast<unsigned char>(bytes[at + 2]) << 8) | static_cast<unsigned char>(bytes[at + 3]);
  };
  CHECK(be32(16) == 1440);  // IHDR width, height
  CHECK(be32(20) == 720);
  r = run_cli({"plot", kBestRun, "-m", "episode_reward_mean", "-o", (tmp.path() / "c.gif").string(),
               "--tracking-uri", fixture_root()});
  CHECK(r.code == 3);
  CHECK(r.err.find("must end in .svg or .png") != std::string::npos);
  r = run_cli({"plot", kBestRun, "-m", "nope", "--tracking-uri", fixture_root()});
  CHECK(r.code == 4);
  r = run_cli({"plot", kBestRun, "-m", "episode_reward_mean", "--width", "70", "--tracking-uri", fixture_root()},
              {{"LANG", "C.UTF-8"}, {"LC_ALL", ""}, {"LC_CTYPE", ""}});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("\xe2\xa0") != std::string::npos);  // braille
}

TEST_CASE("cli: history --plot draws braille in UTF-8 locales and ASCII elsewhere", "[cli][report]") {
  for (const char* lang : {"C.UTF-8", "C"}) {
    CliResult r = run_cli({"history", kBestRun, "episode_reward_mean", "episode_reward_min", "--plot",
                           "--tracking-uri", fixture_root()},
                          {{"LANG", lang}, {"LC_ALL", ""}, {"LC_CTYPE", ""}, {"COLUMNS", "72"}});
    INFO(lang << "\n" << r.out << r.err);
    REQUIRE(r.code == 0);
    CHECK(r.out.find("episode_reward_mean") != std::string::npos);
    CHECK(r.out.find("episode_reward_min") != std::string::npos);
    for (const std::string& line : lines(r.out)) {
      std::size_t cols = 0;
      for (unsigned char c : line) cols += (c & 0xC0) != 0x80;
      CHECK(cols <= 72);
    }
    if (std::string(lang) == "C") {
      for (unsigned char c : r.out) CHECK(c < 0x80);
    } else {
      CHECK(r.out.find("\xe2\x94\x94") != std::string::npos);  // box drawing: the axes
    }
  }
  // one metric in a UTF-8 locale: braille
  CliResult one = run_cli({"history", kBestRun, "episode_reward_mean", "--plot", "--tracking-uri", fixture_root()},
                          {{"LANG", "C.UTF-8"}, {"LC_ALL", ""}, {"LC_CTYPE", ""}});
  REQUIRE(one.code == 0);
  CHECK(one.out.find("\xe2\xa0") != std::string::npos);
  CHECK(run_cli({"history", kBestRun, "episode_reward_mean", "--plot", "--json", "--tracking-uri", fixture_root()})
            .code == 2);
}

TEST_CASE("report opens in headless Chromium: rendered, script ran, no console or CSP error", "[cli][report][browser]") {
  const std::string chromium = find_chromium();
  if (chromium.empty()) {
    WARN("SKIPPED: Debian's chromium is not installed (bash tools/scripts/install-deps.sh --test installs it)");
    return;
  }
  TempDir tmp;
  const std::string out = (tmp.path() / "report.html").string();
  CliResult r = run_cli({"report", "--tracking-uri", fixture_root(), "-e", kRlSweep, "--order-by",
                         "metrics.episode_reward_mean DESC", "-o", out});
  REQUIRE(r.code == 0);
  const std::string flags =
      " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking"
      " --disable-component-update --disable-sync --disable-dev-shm-usage --hide-scrollbars"
      " --enable-logging=stderr --v=0 --user-data-dir=";
  auto browse = [&](const std::string& what, const std::string& name) {
    const fs::path profile = tmp.path() / ("profile-" + name);
    const std::string cmd = "timeout 120 " + chromium + flags + profile.string() + " " + what + " file://" + out +
                            " >" + (tmp.path() / (name + ".out")).string() + " 2>" +
                            (tmp.path() / (name + ".err")).string();
    const int rc = std::system(cmd.c_str());
    const std::string err = read_file(tmp.path() / (name + ".err"));
    INFO(cmd << "\n" << err);
    REQUIRE(rc == 0);
    // Chromium logs console messages and CSP violations to stderr with --enable-logging.
    CHECK(err.find("CONSOLE") == std::string::npos);
    CHECK(err.find("Content Security Policy") == std::string::npos);
    CHECK(err.find("Uncaught") == std::string::npos);
    return read_file(tmp.path() / (name + ".out"));
  };
  // After the page's script ran: it marks <html class="js" data-js="ok">.
  const std::string dom_text = browse("--dump-dom", "dom");
  Dom dom(dom_text);
  auto html = dom.by_tag("html");
  REQUIRE(html.size() == 1);
  CHECK(Dom::attr_or(html[0], "data-js") == "ok");
  CHECK(Dom::has_class(html[0], "js"));
  CHECK(dom.by_class("figure", "chart").size() >= 1);
  // A screenshot: a PNG of the window's size, not blank.
  browse("--window-size=1280,900 --screenshot=" + (tmp.path() / "shot.png").string(), "shot");
  const std::string png = read_file(tmp.path() / "shot.png");
  REQUIRE(png.size() > 20000);  // a blank page compresses to a few hundred bytes
  CHECK(png.substr(0, 8) == "\x89PNG\r\n\x1a\n");
  if (const char* keep = std::getenv("MLRUNS_REPORT_SCREENSHOT")) fs::copy_file(tmp.path() / "shot.png", keep,
                                                                                 fs::copy_options::overwrite_existing);
}

#endif  // MLRUNS_CLI_PATH
