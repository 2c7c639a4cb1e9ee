// The documented designated-initialiser style for every options struct,
// compiled by packaging_test.sh with -Wall -Wextra -Werror against the
// installed headers (issue 10 item 16): a field left out must not warn
// (-Wmissing-field-initializers), so every field has a default initialiser.
// Compiled only (-fsyntax-only); nothing runs.
#include <mlruns/download.h>
#include <mlruns/fsck.h>
#include <mlruns/gc.h>
#include <mlruns/model.h>
#include <mlruns/rank.h>
#include <mlruns/reader.h>
#include <mlruns/reap.h>
#include <mlruns/registry.h>
#include <mlruns/relocate.h>
#include <mlruns/report.h>
#include <mlruns/search.h>
#include <mlruns/signals.h>
#include <mlruns/store.h>
#include <mlruns/sync.h>

int main() {
  mlruns::StoreOptions store{.tracking_uri = "/scratch/mlruns"};
  mlruns::StoreOptions counting{.errors = mlruns::ErrorMode::kCount};
  mlruns::FlushPolicy flush{.max_points = 1024};
  mlruns::RunOptions run{.run_name = "ppo"};
  mlruns::ReaderOptions reader{.threads = 4};
  mlruns::SearchQuery search{.filter = "metrics.loss < 1"};
  mlruns::RankQuery rank{.metric = "loss"};
  mlruns::DownloadOptions download{.overwrite = true};
  mlruns::FsckOptions fsck{.repair = true};
  mlruns::GcOptions gc{.dry_run = true};
  mlruns::ReapOptions reap{.dry_run = true};
  mlruns::RelocateOptions relocate{.dry_run = true};
  mlruns::ReportOptions report{.title = "t"};
  mlruns::TerminalChartOptions chart{.width = 100};
  mlruns::SignalOptions signals{.warning_signal = 10};
  mlruns::ServerOptions server{.url = "http://127.0.0.1:5000"};
  mlruns::SyncOptions sync{.dry_run = true};
  mlruns::Metric metric{.key = "loss", .value = 1.0};
  mlruns::Experiment experiment{.name = "e"};
  mlruns::RunInfo info{.run_id = "r"};
  mlruns::ModelOptions model{.flavor = "onnx"};
  mlruns::ModelVersionOptions version{.run_id = "r"};
  mlruns::Dataset dataset{.name = "d"};
  mlruns::DatasetInput input{.tags = {{"mlflow.data.context", "training"}}};
  mlruns::RunFields fields{.metrics = {"loss"}};
  mlruns::Run whole{.info = {.run_id = "r"}};
  mlruns::LoggedModel logged{.run_id = "r"};
  mlruns::ModelVersion model_version{.name = "m", .version = 1};
  mlruns::RegisteredModel registered{.name = "m", .creation_timestamp = 1};
  (void)store, (void)counting, (void)flush, (void)run, (void)reader, (void)search, (void)rank, (void)download;
  (void)fsck, (void)gc, (void)reap, (void)relocate, (void)report, (void)chart, (void)signals, (void)server, (void)sync;
  (void)metric, (void)experiment, (void)info, (void)model, (void)version, (void)dataset, (void)input, (void)fields;
  (void)whole, (void)logged, (void)model_version, (void)registered;
  return 0;
}
