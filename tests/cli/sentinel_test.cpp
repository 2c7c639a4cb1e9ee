// Issue 15 item 1: nothing outside the tree is ever read, written, moved or
// deleted (docs/hpc.md, "Security model"). Hostile trees link, loop and plant
// FIFOs at every level towards a sentinel folder outside the tree; every verb
// (CLI, library, C API) runs on them, and the sentinel must be unchanged byte
// for byte (names, data, modes, mtimes) while no verb hangs (each child is
// bounded by SIGALRM, a harness limit, not a timed assertion).
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <thread>

#include "cli_test_util.h"
#include "env/posix_beneath.h"
#include "mlruns/c.h"
#include "mlruns/fsck.h"
#include "mlruns/gc.h"
#include "mlruns/reader.h"
#include "mlruns/reap.h"
#include "mlruns/relocate.h"
#include "mlruns/search.h"
#include "mlruns/download.h"
#include "mlruns/store.h"
#include "sentinel_util.h"

using namespace mlruns;
using namespace mlruns::testing;

namespace {

constexpr unsigned kVerbTimeout = 60;  // seconds; a verb still running then is hung

enum class Variant { kLinksInRuns, kTrashToSentinel, kTrashToRoot, kGcStagingToSentinel, kRunNamedVictim, kHardLinks };
constexpr Variant kAllVariants[] = {Variant::kLinksInRuns,         Variant::kTrashToSentinel,
                                    Variant::kTrashToRoot,         Variant::kGcStagingToSentinel,
                                    Variant::kRunNamedVictim,      Variant::kHardLinks};

const char* variant_name(Variant v) {
  switch (v) {
    case Variant::kLinksInRuns: return "links, loops and FIFOs in experiments and runs";
    case Variant::kTrashToSentinel: return ".trash -> sentinel";
    case Variant::kTrashToRoot: return ".trash -> .";
    case Variant::kGcStagingToSentinel: return ".mlruns-gc.trash -> sentinel";
    case Variant::kRunNamedVictim: return "a run of a deleted experiment named victim, its artifacts in <sentinel>/victim";
    case Variant::kHardLinks: return "metric, param, tag and meta.yaml files hard-linked to sentinel files";
  }
  return "?";
}

void link(const fs::path& target, const fs::path& at) {
  std::error_code ec;
  fs::remove_all(at, ec);
  fs::create_directories(at.parent_path());
  fs::create_symlink(target, at);
}

void fifo(const fs::path& at) {
  std::error_code ec;
  fs::remove_all(at, ec);
  fs::create_directories(at.parent_path());
  REQUIRE(::mkfifo(at.c_str(), 0644) == 0);
}

// A tree written by mlruns, then made hostile.
struct Hostile {
  TempDir tmp{"mlruns-sentinel"};
  fs::path root = tmp.path() / "mlruns";
  fs::path sentinel = tmp.path() / "sentinel";
  fs::path source = tmp.path() / "artifact-source";
  std::string exp, gone;
  // a: finished; l: RUNNING (log, end, reap); b: deleted (gc); c: in the
  // deleted experiment; p/t/m/art/meta/o/w: one hostile part each.
  std::string a, l, b, c, p, t, m, art, meta, o, w;

  explicit Hostile(Variant v) {
    make_sentinel(sentinel);
    write_file(source / "file.txt", "artifact");
    write_file(source / "dir" / "inner.txt", "inner");
    {
      Store store = Store::open({.tracking_uri = root.string()});
      exp = *store.create_experiment("exp");
      gone = *store.create_experiment("gone");
      auto run = [&](const std::string& name, const std::string& e, bool end) {
        ActiveRun r = store.start_run({.experiment_id = e, .run_name = name});
        r.log_metric("loss", 1.0, 1);
        r.log_param("p", "1");
        r.set_tag("t", "1");
        r.log_text("hello", "f.txt");
        std::string id = r.id();
        if (end) r.end();
        else r.detach();
        return id;
      };
      a = run("a", exp, true);
      l = run("l", exp, false);
      b = run("b", exp, true);
      c = run("c", gone, true);
      p = run("p", exp, true);
      t = run("t", exp, true);
      m = run("m", exp, true);
      art = run("art", exp, true);
      meta = run("meta", exp, true);
      o = run("o", exp, true);
      w = run("w", exp, true);
      REQUIRE(store.delete_run(b));
      REQUIRE(store.delete_experiment(gone));
    }
    fs::path e = root / exp;
    switch (v) {
      case Variant::kLinksInRuns: {
        // Root: an experiment folder and a staging folder that are links.
        link(sentinel / kSentinelExp, root / kSentinelExp);
        link(sentinel, root / ".mlruns-tmp-host-1-deadbeef.trash");
        // Experiment: a run folder and the tags folder that are links; a FIFO run.
        link(sentinel / kSentinelExp / kSentinelRun, e / kSentinelRun);
        link(sentinel / kSentinelExp / kSentinelRun / "tags", e / "tags");
        // Runs: every sub-folder, meta.yaml and a metric file as links.
        link(sentinel / "loss", e / a / "metrics" / "stolen");
        link(sentinel / "loss", e / l / "metrics" / "loss");
        link(sentinel / kSentinelExp / kSentinelRun / "params", e / p / "params");
        link(sentinel / kSentinelExp / kSentinelRun / "tags", e / t / "tags");
        link(sentinel / kSentinelExp / kSentinelRun / "metrics", e / m / "metrics");
        link(sentinel / kSentinelExp / kSentinelRun / "artifacts", e / art / "artifacts");
        link(sentinel / "meta.yaml", e / meta / "meta.yaml");
        // Below artifacts/: a link out, a loop, a ".."-link.
        link(sentinel, e / a / "artifacts" / "out");
        link("..", e / a / "artifacts" / "loop");
        link("../../../..", e / a / "artifacts" / "up");
        link(sentinel / "secret.txt", e / a / "artifacts" / "secret.txt");
        // Temp names as links (fsck --repair quarantines temp files).
        link(sentinel / "secret.txt", e / a / ".mlruns-tmp-1-2-abcdef");
        // FIFOs where files are read or appended to.
        fifo(e / a / "metrics" / "fifo");
        fifo(e / a / "params" / "fifo");
        fifo(e / w / "meta.yaml");
        fifo(e / a / "artifacts" / "fifo");
        // The deleted run gc collects holds links out too.
        link(sentinel, e / b / "artifacts" / "out");
        link(sentinel / kSentinelExp / kSentinelRun / "metrics", e / b / "metrics");
        // artifact_uri outside the tree: in MLflow's shape but the run folder
        // there is a link; and not in MLflow's shape at all.
        link(sentinel / kSentinelExp / kSentinelRun, sentinel.parent_path() / "loc" / o);
        replace_uri(e / o / "meta.yaml", "file://" + (sentinel.parent_path() / "loc" / o / "artifacts").string());
        replace_uri(e / w / "meta.yaml.unused", "");
        replace_uri(e / b / "meta.yaml", "file://" + sentinel.string());
        break;
      }
      case Variant::kTrashToSentinel: {
        fs::path real_trash = tmp.path() / "real-trash";
        fs::rename(root / ".trash", real_trash);
        link(sentinel / ".trash", root / ".trash");  // holds a deleted experiment gc would collect
        break;
      }
      case Variant::kTrashToRoot: {
        fs::remove_all(root / ".trash");
        link(".", root / ".trash");
        break;
      }
      case Variant::kGcStagingToSentinel: {
        link(sentinel, root / ".mlruns-gc.trash");
        break;
      }
      case Variant::kRunNamedVictim: {
        // Run c of the deleted experiment (where no verb starts runs whose
        // artifacts would legitimately go to its location) becomes run
        // `victim` (a valid run id, not uuid4().hex) whose artifact_uri is
        // <sentinel>/victim/artifacts, the experiment's artifact_location
        // the sentinel: gc used to delete <sentinel>/victim as the run's
        // own artifact folder. Verbs that name b name it.
        const fs::path g = root / ".trash" / gone;
        write_file(sentinel / "victim" / "artifacts" / "data", "precious");
        std::string m = read_file(g / "meta.yaml");
        std::size_t at = m.find("artifact_location: ");
        m.replace(at, m.find('\n', at) - at, "artifact_location: file://" + sentinel.string());
        write_file(g / "meta.yaml", m);
        std::string r = read_file(g / c / "meta.yaml");
        for (std::size_t p; (p = r.find(c)) != std::string::npos;) r.replace(p, c.size(), "victim");
        write_file(g / c / "meta.yaml", r);
        replace_uri(g / c / "meta.yaml", "file://" + (sentinel / "victim" / "artifacts").string());
        fs::rename(g / c, g / "victim");
        b = c = "victim";
        break;
      }
      case Variant::kHardLinks: {
        // Hard links (`cp -al`, `rsync -H`, or planted): one file, two
        // names, so an append or truncate in place writes the sentinel too.
        // The sentinel's metric file ends in a fragment fsck --repair cuts.
        write_file(sentinel / "hard" / "loss", "1000 1.0 0\n1000 2.0 1\n1000 3");
        write_file(sentinel / "hard" / "whole", "1000 1.0 0\n");
        auto hard = [&](const fs::path& target, const fs::path& at) {
          std::error_code ec;
          fs::remove_all(at, ec);
          fs::create_directories(at.parent_path());
          fs::create_hard_link(target, at);
        };
        hard(sentinel / "hard" / "loss", e / a / "metrics" / "loss");
        hard(sentinel / "hard" / "whole", e / l / "metrics" / "loss");
        hard(sentinel / "hard" / "whole", e / b / "metrics" / "loss");
        hard(sentinel / "secret.txt", e / a / "params" / "p");
        hard(sentinel / "secret.txt", e / t / "tags" / "t");
        hard(sentinel / "meta.yaml", e / w / "meta.yaml");
        break;
      }
    }
  }

  // Points a meta.yaml's artifact_uri elsewhere (plain text edit of a test tree).
  static void replace_uri(const fs::path& meta, const std::string& uri) {
    if (!fs::exists(meta) || fs::is_symlink(meta)) return;
    std::string text = read_file(meta);
    std::size_t at = text.find("artifact_uri: ");
    REQUIRE(at != std::string::npos);
    std::size_t end = text.find('\n', at);
    text.replace(at, end - at, "artifact_uri: " + uri);
    write_file(meta, text);
  }
};

// Runs `f` in a child bounded by SIGALRM; returns its exit code, 128 + the
// signal if it died of one (SIGALRM: it hung).
int bounded(const std::function<int()>& f) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::alarm(kVerbTimeout);
    int rc = 1;
    try {
      rc = f();
    } catch (...) {
      rc = 99;
    }
    ::_exit(rc);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void check_unchanged(const Hostile& h, const std::map<std::string, std::string>& before, const std::string& what) {
  INFO("after " << what);
  auto after = snapshot(h.sentinel);
  for (const auto& [k, v] : before) {
    INFO("sentinel entry " << k);
    auto it = after.find(k);
    REQUIRE(it != after.end());
    CHECK(it->second == v);
  }
  for (const auto& [k, v] : after) {
    INFO("new sentinel entry " << k);
    CHECK(before.count(k) == 1);
  }
}

}  // namespace

TEST_CASE("sentinel: no CLI verb touches anything outside a hostile tree or hangs", "[sentinel][hostile][cli]") {
  for (Variant v : kAllVariants) {
    for (bool walk : {false, true}) {
      if (walk && v != Variant::kLinksInRuns) continue;
      INFO("tree: " << variant_name(v) << (walk ? " (openat walk, no openat2)" : ""));
      Hostile h(v);
      const auto before = snapshot(h.sentinel);
      const std::string uri = h.root.string();
      const std::string dl = (h.tmp.path() / "dl").string();
      const std::string file = (h.source / "file.txt").string();
      const std::string dir = (h.source / "dir").string();
      std::vector<std::vector<std::string>> verbs = {
          {"experiments", "--view", "all"},
          {"experiments", "--view", "all", "--json"},
          {"runs", "-e", h.exp, "--view", "all"},
          {"runs", "-e", h.exp, "--view", "all", "--json", "--filter", "metrics.loss > 0"},
          {"runs", "-e", h.exp, "--order-by", "metrics.stolen DESC", "--columns", "params.p,tags.t,metrics.loss"},
          {"show", h.a},
          {"show", h.meta, "--json"},
          {"show", h.w},
          {"history", h.a, "loss", "stolen", "fifo"},
          {"history", h.l, "loss", "--csv"},
          {"history", h.m, "loss", "--json"},
          {"artifacts", h.a, "--recursive"},
          {"artifacts", h.art, "--recursive"},
          {"artifacts", h.o, "--recursive"},
          {"artifacts", h.a, "out", "--recursive"},
          {"get-top-run", "-e", h.exp, "-m", "loss", "--include-unfinished", "--view", "all", "-d", dl},
          {"get-top-run", "-e", h.exp, "-m", "stolen", "--include-unfinished", "-d", dl, "--overwrite"},
          {"get-top-run", "-e", h.exp, "-m", "loss", "--rank-by", "best", "--include-unfinished", "--no-download"},
          {"log", h.l, "--metric", "loss=1@1"},
          {"log", h.a, "--metric", "stolen=2@2"},
          {"log", h.p, "--param", "q=1"},
          {"log", h.t, "--tag", "k=v"},
          {"log", h.m, "--metric", "loss=3@3"},
          {"log", h.meta, "--metric", "loss=3@3"},
          {"log", h.w, "--metric", "loss=3@3"},
          {"log-artifact", h.art, file},
          {"log-artifact", h.a, dir, "--artifact-path", "out"},
          {"log-artifact", h.a, file, "--artifact-path", "loop"},
          {"log-artifact", h.o, file},
          {"log-artifact", h.b, file},
          {"run", "start", "--experiment", h.exp, "--name", "new"},
          {"run", "end", h.l, "--status", "KILLED"},
          {"run", "end", h.meta},
          {"run", "delete", h.meta},
          {"run", "restore", h.b},
          {"run", "delete", h.b},
          {"experiments", "create", "fresh"},
          {"experiments", "create", "sentinel-exp"},
          {"experiments", "rename", h.exp, "exp2"},
          {"experiments", "delete", h.exp},
          {"experiments", "restore", h.exp},
          {"experiments", "restore", kSentinelExp},
          {"experiments", "delete", kSentinelExp},
          {"fsck"},
          {"fsck", "--json"},
          {"fsck", "--repair", "--temp-grace", "0s"},
          {"relocate", "--dry-run"},
          {"relocate"},
          {"relocate", "--from", "/old/place"},
          {"reap", "--older-than", "0s"},
          {"gc", "--dry-run"},
          {"gc", "--run-ids", h.b, "--include-outside-artifacts", "--dry-run"},
          {"gc", "--run-ids", h.b, "--include-outside-artifacts"},
          {"gc", "--run-ids", h.b},
          {"gc", "--older-than", "0s"},
          {"gc", "--all"},
      };
      std::map<std::string, std::string> env = {{"MLFLOW_TRACKING_URI", uri}};
      if (walk) env["MLRUNS_NO_OPENAT2"] = "1";
      for (const auto& args : verbs) {
        std::string shown;
        for (const std::string& a : args) shown += a + " ";
        auto r = run_cli(args, env, std::nullopt, kVerbTimeout);
        INFO("mlruns " << shown << "-> exit " << r.code << "\n" << r.err);
        CHECK(r.code != 128 + SIGALRM);  // hung
        CHECK(r.code < 128);             // crashed
        check_unchanged(h, before, "mlruns " + shown);
      }
      // gc with ".trash -> ." must not have removed the active experiments.
      if (v == Variant::kTrashToRoot) {
        CHECK(fs::exists(h.root / "0" / "meta.yaml"));
        CHECK(fs::is_directory(h.root / h.a.substr(0, 0) / "0"));
      }
    }
  }
}

TEST_CASE("sentinel: no library or C API call touches anything outside a hostile tree or hangs",
          "[sentinel][hostile]") {
  for (Variant v : kAllVariants) {
    INFO("tree: " << variant_name(v));
    Hostile h(v);
    const auto before = snapshot(h.sentinel);
    const std::string uri = h.root.string();
    std::vector<std::pair<std::string, std::function<int()>>> calls = {
        {"Store log_batch through a linked metric file",
         [&] {
           Store s = Store::open({.tracking_uri = uri, .errors = ErrorMode::kCount});
           (void)s.log_batch(h.l, {Metric{"loss", 1.0, 1, 1, {}, {}}}, {{"q", "1"}}, {{"k", "v"}});
           (void)s.log_batch(h.p, {}, {{"q", "1"}}, {});
           (void)s.log_batch(h.t, {}, {}, {{"k", "v"}});
           (void)s.log_batch(h.m, {Metric{"loss", 1.0, 1, 1, {}, {}}}, {}, {});
           return 0;
         }},
        {"ActiveRun resume and log",
         [&] {
           Store s = Store::open({.tracking_uri = uri, .errors = ErrorMode::kCount});
           for (const std::string& id : {h.l, h.m, h.p, h.t, h.art, h.a}) {
             ActiveRun r = s.resume_run(id);
             (void)r.log_metric("loss", 2.0, 2);
             (void)r.log_metric("stolen", 2.0, 2);
             (void)r.log_param("q", "2");
             (void)r.set_tag("k", "2");
             (void)r.log_text("x", "out/x.txt");
             (void)r.log_text("x", "loop/x.txt");
             (void)r.log_artifact((h.source / "dir").string(), "up");
             (void)r.end(RunStatus::kKilled);
           }
           return 0;
         }},
        {"Store experiments and runs by id",
         [&] {
           Store s = Store::open({.tracking_uri = uri, .errors = ErrorMode::kCount});
           (void)s.create_experiment("sentinel-exp");
           (void)s.get_or_create_experiment("sentinel-exp");
           (void)s.rename_experiment(h.exp, "renamed");
           (void)s.set_experiment_tag(h.exp, "k", "v");
           (void)s.delete_experiment(h.exp);
           (void)s.restore_experiment(h.exp);
           (void)s.restore_experiment(kSentinelExp);
           (void)s.delete_experiment(kSentinelExp);
           (void)s.set_terminated(h.meta, RunStatus::kFailed);
           (void)s.delete_run(h.meta);
           (void)s.restore_run(h.b);
           (void)s.log_artifact(h.o, (h.source / "file.txt").string());
           (void)s.log_artifact(h.art, (h.source / "file.txt").string());
           ActiveRun r = s.start_run({.experiment_id = h.exp});
           (void)r.log_metric("loss", 1.0);
           return 0;
         }},
        {"Reader: listings, search, histories, artifacts, downloads",
         [&] {
           auto r = Reader::open(uri);
           if (!r) return 3;
           (void)r->experiments(ViewType::kAll);
           (void)r->runs({h.exp, kSentinelExp}, ViewType::kAll, RunFields::everything());
           for (const std::string& id : {h.a, h.l, h.m, h.art, h.o, h.meta, h.w, h.b, h.c, kSentinelRun}) {
             (void)r->run(id);
             (void)r->metric_history(id, "loss");
             (void)r->metric_history(id, "stolen");
             (void)r->list_artifacts(id, "", true);
             (void)r->list_artifacts(id, "out", true);
             (void)download_artifacts(*r, id, "", (h.tmp.path() / "dl" / id).string());
           }
           SearchQuery q;
           q.experiment_ids = {h.exp};
           q.filter = "metrics.loss > 0 and params.p = '1'";
           (void)search_runs(*r, q);
           return 0;
         }},
        {"C API",
         [&] {
           mlruns_store_t* s = mlruns_store_open(uri.c_str(), MLRUNS_ERRORS_RETURN, nullptr);
           if (!s) return 3;
           char id[MLRUNS_ID_BUFSIZE];
           (void)mlruns_get_or_create_experiment(s, "sentinel-exp", id, sizeof id, nullptr);
           for (const std::string& e : {h.exp, kSentinelExp, std::string(id)}) {
             mlruns_run_t* r = mlruns_start_run(s, e.c_str(), "c-api", nullptr, nullptr);
             (void)mlruns_log_metric(r, "loss", 1.0, 1, nullptr);
             (void)mlruns_log_artifact(r, (h.source / "dir").c_str(), "out", nullptr);
             (void)mlruns_end_run(r, 3, nullptr);
             mlruns_run_close(r);
           }
           mlruns_store_close(s);
           return 0;
         }},
        {"fsck", [&] { return fsck(uri, {}).has_value() ? 0 : 1; }},
        {"fsck --repair", [&] { return fsck(uri, {.repair = true, .temp_grace_ms = 0}).has_value() ? 0 : 1; }},
        {"relocate", [&] { return relocate(uri, {}).has_value() ? 0 : 1; }},
        {"reap", [&] { return reap(uri, {.older_than_ms = 0}).has_value() ? 0 : 1; }},
        {"gc", [&] { return gc(uri, {.include_outside_artifacts = true}).has_value() ? 0 : 1; }},
    };
    for (const auto& [name, call] : calls) {
      int rc = bounded(call);
      INFO(name << " -> " << rc);
      CHECK(rc != 128 + SIGALRM);
      CHECK(rc < 128);
      check_unchanged(h, before, name);
    }
  }
}

TEST_CASE("sentinel: folders swapped for links while gc, fsck --repair, relocate and log run",
          "[sentinel][hostile][race]") {
  for (bool walk : {false, true}) {
    detail::set_openat2_enabled(!walk);
    INFO((walk ? "openat walk" : "openat2"));
    Hostile h(Variant::kLinksInRuns);
    const auto before = snapshot(h.sentinel);
    const std::string uri = h.root.string();
    fs::path e = h.root / h.exp;
    // What the swapper replaces, again and again, by a link to the sentinel.
    std::vector<fs::path> targets = {e / h.a / "metrics", e / h.a / "artifacts", e / h.l / "metrics",
                                     e / h.b,              h.root / ".trash",      e / h.c.substr(0, 0) / "tags",
                                     e / h.a / "params"};
    std::atomic<bool> stop{false};
    std::thread swapper([&] {
      std::size_t i = 0;
      while (!stop.load()) {
        fs::path t = targets[i++ % targets.size()];
        fs::path aside = t.string() + ".aside";
        std::error_code ec;
        if (fs::is_symlink(t, ec) || !fs::exists(t, ec)) continue;
        fs::rename(t, aside, ec);
        if (ec) continue;
        fs::create_directory_symlink(h.sentinel / kSentinelExp / kSentinelRun, t, ec);
        std::this_thread::yield();
        fs::remove(t, ec);
        fs::rename(aside, t, ec);
      }
    });
    for (int round = 0; round < 20; ++round) {
      Store s = Store::open({.tracking_uri = uri, .errors = ErrorMode::kCount});
      (void)s.log_batch(h.l, {Metric{"loss", 1.0, 1, round, {}, {}}}, {}, {{"k", std::to_string(round)}});
      ActiveRun r = s.resume_run(h.a);
      (void)r.log_metric("loss", 1.0, round);
      (void)r.log_text("x", "swap/x.txt");
      (void)r.detach();
      (void)fsck(uri, {.repair = true, .temp_grace_ms = 0});
      (void)relocate(uri, {.from_prefix = "/old/place"});
      (void)gc(uri, {.older_than_ms = 0});
    }
    stop = true;
    swapper.join();
    check_unchanged(h, before, "swaps");
  }
  detail::set_openat2_enabled(true);
}
