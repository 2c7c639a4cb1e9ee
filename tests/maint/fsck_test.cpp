// fsck (fsck.h): real damage on a copy of the MLflow 3.8 fixture (spec §10.6, §14).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>

#include "maint_test_util.h"
#include "format/meta_parse.h"
#include "mlruns/fsck.h"
#include "mlruns/reader.h"

using namespace maint_test;

namespace {
bool has(const mlruns::FsckReport& r, const std::string& check) {
  return std::any_of(r.findings.begin(), r.findings.end(), [&](const auto& f) { return f.check == check; });
}
const mlruns::FsckFinding& find(const mlruns::FsckReport& r, const std::string& check) {
  auto it = std::find_if(r.findings.begin(), r.findings.end(), [&](const auto& f) { return f.check == check; });
  REQUIRE(it != r.findings.end());
  return *it;
}
std::string read_key(const fs::path& meta, const std::string& key) {
  std::string m = "\n" + slurp(meta);
  auto pos = m.find("\n" + key + ": ");
  REQUIRE(pos != std::string::npos);
  pos += key.size() + 3;
  return m.substr(pos, m.find('\n', pos) - pos);
}
std::string describe(const mlruns::FsckReport& r) {
  std::string out;
  for (const auto& f : r.findings)
    out += f.check + " " + f.path + ": " + f.problem + " -> " + std::string(to_string(f.outcome)) + " " + f.action + "\n";
  return out;
}
void set_age(const fs::path& p, std::chrono::minutes age) {
  fs::last_write_time(p, fs::file_time_type::clock::now() - age);
}
}  // namespace

TEST_CASE("fsck reports the 3.8 fixture's missing run_uuid and moved artifact URIs (spec §4.3, §8.2)", "[fsck]") {
  TempTree t;
  auto r = mlruns::fsck(t.root.string());
  REQUIRE(r);
  CHECK(r->runs == 14);
  CHECK(has(*r, "run.missing_run_uuid"));
  CHECK(has(*r, "run.artifact_uri_elsewhere"));
  CHECK(has(*r, "metric.malformed_lines"));  // the fixture's 5-field line (spec §14.2)
  CHECK(r->remaining() == r->findings.size());
}

TEST_CASE("fsck --repair fixes damage atomically, quarantines the rest and leaves a clean tree", "[fsck]") {
  TempTree t;
  auto exp = t.root / "692696469721977523";
  auto run = first_run(exp);
  // Damage on purpose.
  fs::create_directories(t.root / ".ipynb_checkpoints");                       // §14.7
  spit(run / "metrics" / ".DS_Store", std::string("\0\1Bud1", 6));             // §14.5
  std::string metric_file;
  for (auto& e : fs::directory_iterator(run / "metrics"))
    if (e.is_regular_file() && e.path().filename() != ".DS_Store") { metric_file = e.path().string(); break; }
  REQUIRE(!metric_file.empty());
  std::string original_metric = slurp(metric_file);
  spit(metric_file, original_metric + "\n1700000000000.5 0.5 1\n17000000");    // blank, float ts, partial (§14.3)
  fs::remove_all(run / "params");                                              // §14.21
  auto run2 = first_run(t.root / "0");
  spit(run2 / "meta.yaml", "");                                                // §14.9
  fs::remove_all(t.root / ".trash");                                           // §1.1

  mlruns::FsckOptions opt{.repair = true};
  auto r = mlruns::fsck(t.root.string(), opt);
  REQUIRE(r);
  for (const auto& f : r->findings) INFO(f.path << ": " << f.problem << " -> " << f.action);
  CHECK(r->remaining() == 0);
  CHECK(!fs::exists(t.root / ".ipynb_checkpoints"));
  CHECK(!fs::exists(run / "metrics" / ".DS_Store"));
  CHECK(fs::is_directory(run / "params"));
  CHECK(fs::is_directory(t.root / ".trash"));
  CHECK(slurp(metric_file) == original_metric);  // only the bad lines went
  CHECK(!fs::exists(run2));                      // unreadable run moved, not deleted
  REQUIRE(!r->quarantine.empty());
  CHECK(fs::path(r->quarantine).filename().string().find(".trash") != std::string::npos);
  CHECK(fs::exists(fs::path(r->quarantine) / "0" / run2.filename() / "meta.yaml"));
  CHECK(fs::exists(fs::path(r->quarantine) / ".ipynb_checkpoints"));
  std::string notes = slurp(fs::path(r->quarantine) / "NOTES.txt");
  CHECK(notes.find(".DS_Store") != std::string::npos);
  // In-place repairs are logged there too, one line each.
  CHECK(notes.find("[run.missing_run_uuid]: no run_uuid key") != std::string::npos);
  CHECK(notes.find("fixed .trash [root.missing_trash]: no .trash/ folder") != std::string::npos);
  std::string removed = slurp(fs::path(r->quarantine) / fs::relative(metric_file, t.root).concat(".removed-lines"));
  CHECK(removed.find("1700000000000.5 0.5 1") != std::string::npos);
  // Every run now carries run_uuid == run_id (what <= 2.22 readers need).
  std::string meta = slurp(run / "meta.yaml");
  auto info = mlruns::detail::parse_run_meta(meta);
  REQUIRE(info);
  CHECK(meta.find("run_uuid: " + info->run_id + "\n") != std::string::npos);
  // A second check finds nothing, and the Reader reads the tree without warnings.
  auto again = mlruns::fsck(t.root.string());
  REQUIRE(again);
  CHECK(again->findings.empty());
  int warnings = 0;
  auto reader = mlruns::Reader::open(t.root.string(), {.on_warning = [&](const mlruns::Warning&) { ++warnings; }});
  REQUIRE(reader);
  auto exps = reader->experiments(mlruns::ViewType::kAll);
  REQUIRE(exps);
  std::vector<std::string> ids;
  for (auto& e : *exps) ids.push_back(e.experiment_id);
  CHECK(reader->runs(ids, mlruns::ViewType::kAll));
  CHECK(warnings == 0);
}

TEST_CASE("fsck --repair marks a 1.30-2.2 style trashed experiment and its runs deleted (spec §7, §14.10)", "[fsck]") {
  TempTree t;
  auto exp = t.root / ".trash" / "702085803536168059";
  std::string m = slurp(exp / "meta.yaml");
  auto pos = m.find("lifecycle_stage: deleted");
  REQUIRE(pos != std::string::npos);
  m.replace(pos, 24, "lifecycle_stage: active");
  spit(exp / "meta.yaml", m);
  auto run = first_run(exp);
  std::string rm = slurp(run / "meta.yaml");
  auto p2 = rm.find("lifecycle_stage: deleted");
  REQUIRE(p2 != std::string::npos);
  rm.replace(p2, 24, "lifecycle_stage: active");
  auto p3 = rm.find("deleted_time:");
  rm.erase(p3, rm.find('\n', p3) - p3 + 1);
  spit(run / "meta.yaml", rm);
  auto r = mlruns::fsck(t.root.string(), {.repair = true});
  REQUIRE(r);
  CHECK(has(*r, "experiment.trashed_but_active"));
  CHECK(slurp(exp / "meta.yaml").find("lifecycle_stage: deleted") != std::string::npos);
  auto info = mlruns::detail::parse_run_meta(slurp(run / "meta.yaml"));
  REQUIRE(info);
  CHECK(info->lifecycle_stage == mlruns::LifecycleStage::kDeleted);
  CHECK(info->deleted_time.has_value());
}

TEST_CASE("fsck quotes an unquoted 'yes' experiment name instead of letting it read as a bool (spec §2.1, §14.4)", "[fsck]") {
  TempTree t;
  auto meta = t.root / "763558276457519285" / "meta.yaml";
  std::string m = slurp(meta);
  auto pos = m.find("\nname: ");
  m.replace(pos + 7, m.find('\n', pos + 1) - pos - 7, "yes");
  spit(meta, m);
  auto r = mlruns::fsck(t.root.string(), {.repair = true});
  REQUIRE(r);
  CHECK(has(*r, "experiment.yaml_typing"));
  CHECK(slurp(meta).find("name: 'yes'\n") != std::string::npos);
}

TEST_CASE("fsck quotes an unquoted run name as written ('017', not str() of the octal int, 15)", "[fsck]") {
  TempTree t;
  const fs::path meta = first_run(t.root / "763558276457519285") / "meta.yaml";
  std::string m = slurp(meta);
  const std::size_t pos = m.find("\nrun_name: ");
  REQUIRE(pos != std::string::npos);
  m.replace(pos + 11, m.find('\n', pos + 1) - pos - 11, "017");
  spit(meta, m);
  auto r = mlruns::fsck(t.root.string(), {.repair = true});
  REQUIRE(r);
  CHECK(has(*r, "run.yaml_typing"));
  CHECK(slurp(meta).find("run_name: '017'\n") != std::string::npos);  // not '15'
}

TEST_CASE("fsck survives an unquoted name of 30,000 digits (issue 15 item 4: std::regex overflowed the stack)",
          "[fsck]") {
  TempTree t;
  auto meta = t.root / "763558276457519285" / "meta.yaml";
  std::string m = slurp(meta);
  auto pos = m.find("\nname: ");
  m.replace(pos + 7, m.find('\n', pos + 1) - pos - 7, std::string(30000, '7'));
  spit(meta, m);
  auto r = mlruns::fsck(t.root.string(), {.repair = true});  // main: SIGSEGV
  REQUIRE(r);
  CHECK(has(*r, "experiment.yaml_typing"));  // an int to PyYAML: quoted by the repair
  CHECK(slurp(meta).find("name: '" + std::string(30000, '7') + "'\n") != std::string::npos);
}

TEST_CASE("fsck reads meta.yaml as PyYAML's CSafeLoader (MLflow) does: the last of a repeated key, values quoted shortened",
          "[fsck][pyyaml]") {
  TempTree t;
  const fs::path exp = t.root / "763558276457519285";
  const fs::path meta = first_run(exp) / "meta.yaml";
  // MLflow reads status 9 (the last): not 1..5, the run breaks search. yaml-cpp took the first.
  std::string m = slurp(meta);
  const std::size_t pos = m.find("\nstatus: ");
  REQUIRE(pos != std::string::npos);
  m.insert(m.find('\n', pos + 1) + 1, "status: 9\n");
  spit(meta, m);
  // Another run's name of 30,000 digits: a finding quotes 200 characters of it.
  const fs::path other = t.root / "0" / first_run(t.root / "0").filename() / "meta.yaml";
  std::string o = slurp(other);
  const std::size_t name = o.find("\nrun_name: ");
  REQUIRE(name != std::string::npos);
  o.replace(name + 11, o.find('\n', name + 1) - name - 11, std::string(30000, '7'));
  spit(other, o);
  auto r = mlruns::fsck(t.root.string(), {});
  REQUIRE(r);
  INFO(describe(*r));
  CHECK(has(*r, "run.bad_status"));  // main: none (status 3, FINISHED, read first)
  const auto& typing = find(*r, "run.yaml_typing");
  CHECK(typing.problem.size() < 400);  // main: the 30,000 digits
  CHECK(typing.problem.find(std::string(200, '7') + "...") != std::string::npos);
}

TEST_CASE("fsck never follows a symlink out of the tree", "[fsck]") {
  TempTree t;
  auto outside = t.dir / "outside";
  fs::create_directories(outside);
  spit(outside / "secret", "\n\n");
  auto run = first_run(t.root / "692696469721977523");
  fs::create_symlink(outside / "secret", run / "metrics" / "linked");
  auto r = mlruns::fsck(t.root.string(), {.repair = true});
  REQUIRE(r);
  CHECK(has(*r, "metric.symlink"));
  CHECK(slurp(outside / "secret") == "\n\n");  // untouched
  CHECK(!fs::exists(run / "metrics" / "linked"));
}

TEST_CASE("fsck --repair lets folder names win: a copied experiment, a moved run and a copied run (spec §10.4)",
          "[fsck]") {
  TempTree t;
  const std::string old_exp = "692696469721977523", new_exp = "123456789012345678";
  auto exp = t.root / old_exp;
  // An experiment folder made by copying another's meta.yaml (experiment_id still the old one) ...
  fs::create_directories(t.root / new_exp);
  std::string em = slurp(exp / "meta.yaml");
  em.replace(em.find("\nname: ") + 7, em.find('\n', em.find("\nname: ") + 1) - em.find("\nname: ") - 7, "copied");
  spit(t.root / new_exp / "meta.yaml", em);
  // ... a run moved into it with mv (experiment_id and artifact_uri name the old place) ...
  auto moved = first_run(exp);
  fs::rename(moved, t.root / new_exp / moved.filename());
  moved = t.root / new_exp / moved.filename();
  // ... and a run copied under a new folder name (run_id still the old one).
  auto original = first_run(exp);
  const std::string copy_id = "0123456789abcdef0123456789abcdef";
  fs::copy(original, exp / copy_id, fs::copy_options::recursive);

  auto r = mlruns::fsck(t.root.string(), {.repair = true});
  REQUIRE(r);
  INFO(describe(*r));
  CHECK(find(*r, "experiment.id_mismatch").outcome == mlruns::FsckAction::kRepaired);
  CHECK(find(*r, "run.experiment_mismatch").outcome == mlruns::FsckAction::kRepaired);
  CHECK(find(*r, "run.id_mismatch").outcome == mlruns::FsckAction::kRepaired);
  CHECK(r->remaining() == 0);

  const std::string root_uri = "file://" + t.root.string();
  CHECK(read_key(t.root / new_exp / "meta.yaml", "experiment_id") == "'" + new_exp + "'");
  CHECK(read_key(t.root / new_exp / "meta.yaml", "artifact_location") == root_uri + "/" + new_exp);
  CHECK(read_key(moved / "meta.yaml", "experiment_id") == "'" + new_exp + "'");
  CHECK(read_key(moved / "meta.yaml", "artifact_uri") ==
        root_uri + "/" + new_exp + "/" + moved.filename().string() + "/artifacts");
  CHECK(read_key(exp / copy_id / "meta.yaml", "run_id") == copy_id);
  CHECK(read_key(exp / copy_id / "meta.yaml", "run_uuid") == copy_id);
  CHECK(read_key(exp / copy_id / "meta.yaml", "artifact_uri") == root_uri + "/" + old_exp + "/" + copy_id + "/artifacts");
  CHECK(read_key(original / "meta.yaml", "run_id") == original.filename().string());  // the original keeps its id

  // The Reader now sees both runs where their folders are, without a warning.
  int warnings = 0;
  auto reader = mlruns::Reader::open(t.root.string(), {.on_warning = [&](const mlruns::Warning&) { ++warnings; }});
  REQUIRE(reader);
  auto in_new = reader->runs({new_exp}, mlruns::ViewType::kAll);
  REQUIRE(in_new);
  REQUIRE(in_new->size() == 1);
  CHECK(in_new->at(0).info.run_id == moved.filename().string());
  auto copy = reader->run(copy_id);
  REQUIRE(copy);
  CHECK(copy->info.experiment_id == old_exp);
  CHECK(warnings == 0);
  CHECK(mlruns::fsck(t.root.string())->findings.empty());
}

TEST_CASE("fsck leaves ':' keys (a notice) and a tree below 'artifacts' (an error) alone, with a hint (spec §6.1, §14.6, §14.21)",
          "[fsck]") {
  TempTree t;
  auto run = first_run(t.root / "692696469721977523");
  spit(run / "metrics" / "train:loss", "1700000000000 0.5 0\n");
  auto r = mlruns::fsck(t.root.string(), {.repair = true});
  REQUIRE(r);
  const auto& colon = find(*r, "metric.colon_name");
  CHECK(colon.severity == mlruns::FsckSeverity::kNotice);
  CHECK(colon.outcome == mlruns::FsckAction::kNone);
  CHECK(colon.hint.find("2.16") != std::string::npos);
  CHECK(fs::exists(run / "metrics" / "train:loss"));  // kept where MLflow >= 2.16 reads it
  CHECK(r->remaining() == 0);                          // a notice is not a problem left

  fs::create_directories(t.dir / "artifacts");
  fs::rename(t.root, t.dir / "artifacts" / "mlruns");
  auto under = mlruns::fsck((t.dir / "artifacts" / "mlruns").string(), {.repair = true});
  REQUIRE(under);
  const auto& anc = find(*under, "root.artifacts_ancestor");
  CHECK(anc.severity == mlruns::FsckSeverity::kError);
  CHECK(!anc.repairable);
  CHECK(anc.hint.find("mv ") != std::string::npos);
  CHECK(anc.hint.find("mlruns relocate") != std::string::npos);
  CHECK(under->remaining() == 1);
}

TEST_CASE("fsck --repair quarantines what killed writers left once stale, never a write in progress (spec §11)",
          "[fsck]") {
  TempTree t;
  auto exp = t.root / "692696469721977523";
  auto run = first_run(exp);
  auto stale_file = run / ".mlruns-tmp-4242-7-0123456789ab.artifact";
  spit(stale_file, std::string(4096, 'x'));  // a half-copied checkpoint
  set_age(stale_file, std::chrono::minutes(120));
  auto fresh_file = exp / ".mlruns-tmp-4243-0-0123456789ab";
  spit(fresh_file, "name: half");
  auto staging = t.root / ".mlruns-tmp-node17-4242-deadbeef.trash";
  fs::create_directories(staging / ".mlruns-tmp-4242-3-aaaaaaaaaaaa");
  spit(staging / ".mlruns-tmp-4242-3-aaaaaaaaaaaa" / "meta.yaml", "half: made\n");
  set_age(staging / ".mlruns-tmp-4242-3-aaaaaaaaaaaa" / "meta.yaml", std::chrono::minutes(90));
  set_age(staging / ".mlruns-tmp-4242-3-aaaaaaaaaaaa", std::chrono::minutes(90));
  set_age(staging, std::chrono::minutes(90));
  fs::create_directories(run / "metrics" / ".ipynb_checkpoints");
  spit(run / "metrics" / ".ipynb_checkpoints" / "loss-checkpoint", "1 2 3\n");

  auto r = mlruns::fsck(t.root.string(), {.repair = true});
  REQUIRE(r);
  INFO(describe(*r));
  std::size_t leftovers = std::count_if(r->findings.begin(), r->findings.end(), [](const auto& f) {
    return f.check == "temp.leftover" && f.outcome == mlruns::FsckAction::kQuarantined;
  });
  CHECK(leftovers == 2);
  CHECK(has(*r, "metric.stray_file"));
  CHECK(r->remaining() == 0);
  fs::path q = r->quarantine;
  CHECK(slurp(q / fs::relative(stale_file, t.root)) == std::string(4096, 'x'));  // moved, not deleted
  CHECK(fs::exists(q / staging.filename() / ".mlruns-tmp-4242-3-aaaaaaaaaaaa" / "meta.yaml"));
  CHECK(fs::exists(q / fs::relative(run / "metrics" / ".ipynb_checkpoints" / "loss-checkpoint", t.root)));
  CHECK(!fs::exists(stale_file));
  CHECK(!fs::exists(staging));
  CHECK(slurp(fresh_file) == "name: half");  // young: maybe a write in progress

  // With no grace (the operator knows no writer runs), the young one goes too.
  auto now = mlruns::fsck(t.root.string(), {.repair = true, .temp_grace_ms = 0});
  REQUIRE(now);
  CHECK(find(*now, "temp.leftover").outcome == mlruns::FsckAction::kQuarantined);
  CHECK(!fs::exists(fresh_file));
}

TEST_CASE("fsck --repair gives runs whose experiment lost its meta.yaml a new one, and quarantines an empty husk",
          "[fsck]") {
  TempTree t;
  auto exp = t.root / "692696469721977523";
  auto runs_before = std::distance(fs::directory_iterator(exp), fs::directory_iterator{});
  fs::remove(exp / "meta.yaml");
  fs::create_directories(t.root / "555555555555555555");  // mkdir, then the creator died
  auto r = mlruns::fsck(t.root.string(), {.repair = true});
  REQUIRE(r);
  CHECK(r->remaining() == 0);
  CHECK(read_key(exp / "meta.yaml", "name") == "recovered-692696469721977523");
  CHECK(std::distance(fs::directory_iterator(exp), fs::directory_iterator{}) == runs_before);
  CHECK(!fs::exists(t.root / "555555555555555555"));
  CHECK(fs::is_directory(fs::path(r->quarantine) / "555555555555555555"));
  auto reader = mlruns::Reader::open(t.root.string());
  REQUIRE(reader);
  auto runs = reader->runs({"692696469721977523"}, mlruns::ViewType::kAll);
  REQUIRE(runs);
  CHECK(!runs->empty());
}

TEST_CASE("fsck --repair rebuilds a lost run meta.yaml from the folder's data and quarantines an empty run husk (spec §10.2)",
          "[fsck]") {
  TempTree t;
  auto exp = t.root / "692696469721977523";
  auto run = first_run(exp);
  std::string old_meta = slurp(run / "meta.yaml");
  auto old = mlruns::detail::parse_run_meta(old_meta);
  REQUIRE(old);
  fs::remove(run / "meta.yaml");
  for (auto& e : fs::directory_iterator(run)) set_age(e.path(), std::chrono::minutes(120));
  set_age(run, std::chrono::minutes(120));
  const std::string husk = "fedcba9876543210fedcba9876543210";
  fs::create_directories(exp / husk / "metrics");
  set_age(exp / husk / "metrics", std::chrono::minutes(120));
  set_age(exp / husk, std::chrono::minutes(120));
  fs::create_directories(exp / "notes");  // not a run: left alone, a notice
  spit(exp / "notes" / "todo.txt", "x");
  set_age(exp / "notes", std::chrono::minutes(120));

  auto r = mlruns::fsck(t.root.string(), {.repair = true});
  REQUIRE(r);
  INFO(describe(*r));
  CHECK(r->remaining() == 0);
  auto info = mlruns::detail::parse_run_meta(slurp(run / "meta.yaml"));
  REQUIRE(info);
  CHECK(info->run_id == old->run_id);
  CHECK(info->experiment_id == old->experiment_id);
  CHECK(info->run_name == old->run_name);  // from tags/mlflow.runName
  CHECK(info->status == mlruns::RunStatus::kKilled);
  CHECK(info->start_time <= *info->end_time);
  CHECK(info->artifact_uri == "file://" + (run / "artifacts").string());
  CHECK(!fs::exists(exp / husk));
  CHECK(fs::is_directory(fs::path(r->quarantine) / fs::relative(exp / husk, t.root)));
  CHECK(fs::exists(exp / "notes" / "todo.txt"));
  auto reader = mlruns::Reader::open(t.root.string());
  REQUIRE(reader);
  auto back = reader->run(old->run_id);
  REQUIRE(back);
  CHECK(!back->params.empty());  // the data is visible again
}

TEST_CASE("fsck --repair finishes a delete cut short and explains duplicate run ids (spec §7, §10.4)", "[fsck]") {
  TempTree t;
  const std::string id = "692696469721977523";
  auto meta = t.root / id / "meta.yaml";
  std::string m = slurp(meta);
  m.replace(m.find("lifecycle_stage: active"), 23, "lifecycle_stage: deleted");
  spit(meta, m);
  auto other = t.root / "763558276457519285";
  auto dup = first_run(other);
  fs::copy(dup, t.root / "0" / dup.filename(), fs::copy_options::recursive);

  auto r = mlruns::fsck(t.root.string(), {.repair = true});
  REQUIRE(r);
  INFO(describe(*r));
  CHECK(find(*r, "experiment.active_but_deleted").outcome == mlruns::FsckAction::kRepaired);
  CHECK(!fs::exists(t.root / id));
  CHECK(fs::exists(t.root / ".trash" / id / "meta.yaml"));
  const auto& d = find(*r, "run.duplicate_id");
  CHECK(d.outcome == mlruns::FsckAction::kNone);
  CHECK(d.hint.find("renaming its folder") != std::string::npos);
  CHECK(r->remaining() == 1);
}

#ifdef MLRUNS_CLI_PATH
TEST_CASE("mlruns fsck exits 7 while problems remain and 0 after --repair", "[fsck][cli]") {
  TempTree t;
  std::string cli = std::string(MLRUNS_CLI_PATH) + " fsck --tracking-uri " + t.root.string() + " >/dev/null";
  CHECK(WEXITSTATUS(std::system(cli.c_str())) == 7);
  CHECK(WEXITSTATUS(std::system((std::string(MLRUNS_CLI_PATH) + " fsck --repair --json --tracking-uri " +
                                 t.root.string() + " >/dev/null").c_str())) == 0);
  CHECK(WEXITSTATUS(std::system(cli.c_str())) == 0);
  // A ':' key is a notice: printed with its hint, exit code still 0.
  spit(first_run(t.root / "692696469721977523") / "metrics" / "a:b", "1700000000000 1 0\n");
  auto out = t.dir / "fsck.out";
  CHECK(WEXITSTATUS(std::system((std::string(MLRUNS_CLI_PATH) + " fsck --tracking-uri " + t.root.string() + " >" +
                                 out.string()).c_str())) == 0);
  std::string text = slurp(out);
  CHECK(text.find("notice: ") != std::string::npos);
  CHECK(text.find("left alone: valid for MLflow >= 2.16") != std::string::npos);
  CHECK(WEXITSTATUS(std::system((std::string(MLRUNS_CLI_PATH) + " fsck --temp-grace 5x --tracking-uri " +
                                 t.root.string() + " 2>/dev/null").c_str())) == 3);  // a usage error
}
#endif

TEST_CASE("fsck reports and repairs meta.yaml values MLflow refuses on read (null lifecycle_stage, null status) and "
          "accepts what it accepts (status 3.0) (issue 15)",
          "[fsck]") {
  TempTree t;
  const fs::path exp = t.root / "763558276457519285";
  const fs::path meta = first_run(exp) / "meta.yaml";
  auto set = [&](const std::string& key, const std::string& value) {
    std::string m = slurp(meta);
    const std::size_t pos = m.find("\n" + key + ": ");
    REQUIRE(pos != std::string::npos);
    m.replace(pos + 1, m.find('\n', pos + 1) - pos - 1, key + ": " + value);
    spit(meta, m);
  };
  set("lifecycle_stage", "~");
  set("status", "~");
  auto r = mlruns::fsck(t.root.string(), {});
  REQUIRE(r);
  INFO(describe(*r));
  CHECK(has(*r, "run.bad_lifecycle_stage"));  // main: 0 findings
  CHECK(has(*r, "run.bad_status"));
  auto fixed = mlruns::fsck(t.root.string(), {.repair = true});
  REQUIRE(fixed);
  CHECK(slurp(meta).find("lifecycle_stage: active\n") != std::string::npos);
  CHECK(slurp(meta).find("status: 1\n") != std::string::npos);
  CHECK(fs::exists(meta));  // repaired in place, not quarantined
  set("status", "3.0");  // MLflow shows FINISHED: nothing to report, nothing to quarantine
  auto again = mlruns::fsck(t.root.string(), {});
  REQUIRE(again);
  INFO(describe(*again));
  CHECK_FALSE(has(*again, "run.bad_status"));
  CHECK_FALSE(has(*again, "run.bad_lifecycle_stage"));
}

TEST_CASE("fsck reports an integer field written as a quoted string (status: '3', start_time, creation_time ...), "
          "which MLflow cannot use, and --repair unquotes it, and the reader warns and reads the integer (issue 15)",
          "[fsck]") {
  // MLflow 3.8 (checked): status '3' -> get_run and search_runs raise 'Could not get string corresponding to run
  // status 3'; start_time '123' -> search_runs raises TypeError; an experiment's creation_time '5' ->
  // search_experiments raises TypeError.
  TempTree t;
  const fs::path exp = t.root / "763558276457519285";
  const fs::path meta = first_run(exp) / "meta.yaml";
  auto set = [&](const fs::path& file, const std::string& key, const std::string& value) {
    std::string m = slurp(file);
    std::size_t pos = m.find("\n" + key + ": ");
    if (pos == std::string::npos && m.rfind(key + ": ", 0) == 0) pos = 0;
    else if (pos != std::string::npos) ++pos;
    REQUIRE(pos != std::string::npos);
    m.replace(pos, m.find('\n', pos) - pos, key + ": " + value);
    spit(file, m);
  };
  const std::string start = [&] {
    std::string m = slurp(meta);
    std::size_t p = m.find("start_time: ") + 12;
    return m.substr(p, m.find('\n', p) - p);
  }();
  set(meta, "status", "'3'");
  set(meta, "start_time", "'" + start + "'");
  set(exp / "meta.yaml", "creation_time", "'5'");
  auto r = mlruns::fsck(t.root.string(), {});
  REQUIRE(r);
  INFO(describe(*r));
  CHECK(has(*r, "run.quoted_integer"));  // main: no finding
  CHECK(has(*r, "experiment.quoted_integer"));
  std::size_t quoted = 0;
  for (const auto& f : r->findings) quoted += f.check == "run.quoted_integer";
  CHECK(quoted == 2);  // status and start_time
  // The reader reads the integers, and says MLflow cannot.
  std::vector<std::string> warnings;
  auto reader = mlruns::Reader::open(t.root.string(), {.on_warning = [&](const mlruns::Warning& w) {
                                                         warnings.push_back(w.message);
                                                       }});
  REQUIRE(reader);
  auto run = reader->run(first_run(exp).filename().string());
  REQUIRE(run);
  CHECK(run->info.status == mlruns::RunStatus::kFinished);
  CHECK(std::to_string(run->info.start_time) == start);
  bool warned = false;
  for (const auto& w : warnings) warned |= w.find("status '3' is a quoted string") != std::string::npos;
  CHECK(warned);
  auto fixed = mlruns::fsck(t.root.string(), {.repair = true});
  REQUIRE(fixed);
  CHECK(slurp(meta).find("status: 3\n") != std::string::npos);
  CHECK(slurp(meta).find("start_time: " + start + "\n") != std::string::npos);
  CHECK(slurp(exp / "meta.yaml").find("creation_time: 5\n") != std::string::npos);
  CHECK(fs::exists(meta));  // repaired in place, not quarantined
  auto again = mlruns::fsck(t.root.string(), {});
  REQUIRE(again);
  CHECK_FALSE(has(*again, "run.quoted_integer"));
  CHECK_FALSE(has(*again, "experiment.quoted_integer"));
}
