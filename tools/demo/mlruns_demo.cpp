// mlruns_demo: a small PPO hyperparameter sweep, logged as an HPC job would
// log it, into an mlruns tree that `mlflow ui` and `mlruns` can read.
//
//   mlruns_demo [--tracking-uri ./mlruns] [--experiment rl-sweep-demo] [--trials 12]
//
// One parent run ("the sweep") holds one child run per trial. Each trial:
//   params   lr, gamma, clip_param (plus env and train_iterations)
//   metrics  episode_reward_mean/max/min at every training iteration (step)
//   tags     model_type, dataset_version
//   artifacts checkpoint_000005/ and checkpoint_000010/ (rllib_checkpoint.json,
//            a binary policy file, algorithm_state.json)
// The learning curves are simulated from a fixed seed, so the best trial is
// always the same: lr=0.0005, gamma=0.99, clip_param=0.2. Trial 12 (lr=0.001,
// gamma=0.999, clip_param=0.3) diverges after a reward spike and ends FAILED:
// `mlruns get-top-run` must not pick it although its last reward is the highest.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "mlruns/store.h"

namespace fs = std::filesystem;

namespace {

constexpr int kIterations = 10;   // training iterations per trial
constexpr int kCheckpointEvery = 5;
constexpr std::uint64_t kSeed = 20261123;

constexpr std::array<double, 3> kLrs = {1e-4, 5e-4, 1e-3};
constexpr std::array<double, 2> kGammas = {0.99, 0.999};
constexpr std::array<double, 2> kClips = {0.2, 0.3};
// How good each value is (asymptotic reward is 500 x the product) and how
// fast each learning rate learns: the best trial is lr 5e-4, gamma 0.99, clip 0.2.
constexpr std::array<double, 3> kLrQuality = {0.55, 0.95, 0.80};
constexpr std::array<double, 3> kLrSpeed = {0.12, 0.30, 0.45};
constexpr std::array<double, 2> kGammaQuality = {1.00, 0.90};
constexpr std::array<double, 2> kClipQuality = {1.00, 0.93};
constexpr double kMaxReward = 500.0;  // CartPole-v1's cap

// splitmix64: the same numbers on every platform and standard library
// (std::normal_distribution is implementation-defined).
struct Rng {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double symmetric() { return 2.0 * uniform() - 1.0; }                         // [-1, 1)
};

struct Trial {
  int index = 0;  // 0-based
  std::size_t lr_i = 0, gamma_i = 0, clip_i = 0;
  double lr() const { return kLrs[lr_i]; }
  double gamma() const { return kGammas[gamma_i]; }
  double clip() const { return kClips[clip_i]; }
  // The largest step size with the longest horizon and the loosest clip blows up.
  bool diverges() const {
    return lr_i == kLrs.size() - 1 && gamma_i == kGammas.size() - 1 && clip_i == kClips.size() - 1;
  }
  std::string name() const { return fmt::format("PPO_trial_{:03d}", index + 1); }
};

Trial make_trial(int index) {
  // lr varies fastest, then gamma, then clip_param; past the 12-point grid
  // the grid repeats with new seeds (random restarts).
  Trial t;
  t.index = index;
  t.lr_i = static_cast<std::size_t>(index) % kLrs.size();
  t.gamma_i = (static_cast<std::size_t>(index) / kLrs.size()) % kGammas.size();
  t.clip_i = (static_cast<std::size_t>(index) / (kLrs.size() * kGammas.size())) % kClips.size();
  return t;
}

struct Rewards {
  double mean, max, min;
};

// A plausible PPO learning curve: exponential approach to an asymptote set
// by the hyperparameters, with +-3% noise; max/min bracket the mean.
Rewards rewards_at(const Trial& t, int iteration, Rng& rng) {
  const double asymptote =
      kMaxReward * kLrQuality[t.lr_i] * kGammaQuality[t.gamma_i] * kClipQuality[t.clip_i];
  const double progress = 1.0 - std::exp(-kLrSpeed[t.lr_i] * iteration);
  double mean = 9.5 + (asymptote - 9.5) * progress * (1.0 + 0.03 * rng.symmetric());
  mean = std::clamp(mean, 8.0, kMaxReward);
  const double spread = 20.0 + 0.35 * mean;
  Rewards r{};
  r.mean = std::round(mean * 100.0) / 100.0;
  r.max = std::min(kMaxReward, std::round(mean + spread * (0.6 + 0.4 * rng.uniform())));
  r.min = std::max(8.0, std::round(mean - spread * (0.6 + 0.4 * rng.uniform())));
  return r;
}

void write_file(const fs::path& path, std::string_view bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// What RLlib's Algorithm.save() leaves behind, in miniature.
fs::path write_checkpoint(const fs::path& trial_dir, const Trial& t, int iteration, Rng& rng) {
  const fs::path dir = trial_dir / fmt::format("checkpoint_{:06d}", iteration);
  write_file(dir / "rllib_checkpoint.json",
             fmt::format("{{\"type\": \"Algorithm\", \"checkpoint_version\": \"1.1\", "
                         "\"format\": \"msgpack\", \"ray_version\": \"2.9.3\", "
                         "\"training_iteration\": {}, \"trial\": \"{}\"}}\n",
                         iteration, t.name()));
  write_file(dir / "algorithm_state.json",
             fmt::format("{{\"algorithm_class\": \"PPO\", \"config\": {{\"env\": \"CartPole-v1\", "
                         "\"lr\": {}, \"gamma\": {}, \"clip_param\": {}}}, \"iteration\": {}}}\n",
                         t.lr(), t.gamma(), t.clip(), iteration));
  // 64x64 float32 "weights": a small binary file that the download must copy exactly.
  std::vector<float> weights(64 * 64);
  for (float& w : weights) w = static_cast<float>(rng.symmetric() * 0.1);
  std::string bytes(reinterpret_cast<const char*>(weights.data()), weights.size() * sizeof(float));
  write_file(dir / "policies" / "default_policy" / "policy_state.bin", bytes);
  return dir;
}

struct TrialOutcome {
  Trial trial;
  std::string run_id;
  bool failed = false;
  int iterations = 0;
  double last_mean = 0;
};

TrialOutcome run_trial(mlruns::ActiveRun& parent, const Trial& t, const fs::path& scratch,
                       const std::string& dataset_version) {
  Rng rng{kSeed + static_cast<std::uint64_t>(t.index) * 1000003ull};
  mlruns::RunOptions opts;
  opts.run_name = t.name();
  opts.tags = {{"model_type", "PPO"}, {"dataset_version", dataset_version}};
  mlruns::ActiveRun run = parent.start_child(opts);

  run.log_param("lr", t.lr());
  run.log_param("gamma", t.gamma());
  run.log_param("clip_param", t.clip());
  run.log_param("env", "CartPole-v1");
  run.log_param("train_iterations", kIterations);

  TrialOutcome out{t, run.id(), false, 0, 0};
  const fs::path trial_dir = scratch / t.name();
  for (int it = 1; it <= kIterations; ++it) {
    Rewards r = rewards_at(t, it, rng);
    if (t.diverges() && it == 7) {
      // The reward spikes just before the policy collapses: the highest last
      // value of the sweep, on a run that must never be picked.
      r = {492.5, 500.0, 311.0};
    }
    run.log_metric("episode_reward_mean", r.mean, it);
    run.log_metric("episode_reward_max", r.max, it);
    run.log_metric("episode_reward_min", r.min, it);
    out.iterations = it;
    out.last_mean = r.mean;
    if (t.diverges() && it == 7) {
      run.set_tag("failure_reason", "policy loss became NaN at iteration 8 (diverged)");
      run.end(mlruns::RunStatus::kFailed);
      out.failed = true;
      return out;
    }
    if (it % kCheckpointEvery == 0) {
      // Checkpoints go to the job's scratch space first, as Ray writes them,
      // then into the run's artifacts.
      // log_artifact keeps a directory's name, as MLflow's log_artifact
      // does: artifacts/checkpoint_000010/...
      const fs::path dir = write_checkpoint(trial_dir, t, it, rng);
      run.log_artifact(dir.string());
    }
  }
  run.end(mlruns::RunStatus::kFinished);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mlruns_demo: simulate a PPO hyperparameter sweep (parent run + child trials) "
               "and log it into an mlruns tree"};
  std::string tracking_uri = "./mlruns";
  std::string experiment = "rl-sweep-demo";
  std::string dataset_version = "cartpole-v1-2026.11";
  int trials = 12;
  app.add_option("--tracking-uri", tracking_uri, "mlruns root: a path or file: URI")
      ->capture_default_str();
  app.add_option("--experiment", experiment, "experiment name (created if missing)")
      ->capture_default_str();
  app.add_option("--trials", trials, "number of trials (the grid is 3 lr x 2 gamma x 2 clip_param)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--dataset-version", dataset_version, "value of the dataset_version tag")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::error_code ec;
  const fs::path scratch = fs::temp_directory_path() /
                           fmt::format("mlruns_demo_{}_{}", static_cast<long>(::getpid()), std::time(nullptr));
  try {
    mlruns::Store store = mlruns::Store::open({.tracking_uri = tracking_uri});
    mlruns::Result<std::string> exp = store.get_or_create_experiment(experiment);
    if (!exp) throw mlruns::Error(exp.error());
    const std::string exp_id = *exp;
    std::printf("tree:       %s\n", store.root().c_str());
    std::printf("experiment: %s (id %s)\n", experiment.c_str(), exp_id.c_str());

    mlruns::RunOptions popts;
    popts.experiment_id = exp_id;
    popts.run_name = "ppo-sweep";
    popts.tags = {{"model_type", "PPO"}, {"dataset_version", dataset_version}, {"sweep", "grid"}};
    popts.description = "Grid search over lr x gamma x clip_param for PPO on CartPole-v1 (simulated).";
    mlruns::ActiveRun parent = store.start_run(popts);
    parent.log_param("algorithm", "PPO");
    parent.log_param("env", "CartPole-v1");
    parent.log_param("num_trials", trials);
    parent.log_text(fmt::format("{{\"lr\": [0.0001, 0.0005, 0.001], \"gamma\": [0.99, 0.999], "
                                "\"clip_param\": [0.2, 0.3], \"train_iterations\": {}, "
                                "\"checkpoint_freq\": {}}}\n",
                                kIterations, kCheckpointEvery),
                    "search_space.json");
    std::printf("parent run: %s (ppo-sweep)\n\n", parent.id().c_str());
    std::printf("  %-14s %-8s %-6s %-5s %-8s %5s  %s\n", "trial", "lr", "gamma", "clip", "status",
                "iters", "last episode_reward_mean");

    std::vector<TrialOutcome> outcomes;
    for (int i = 0; i < trials; ++i) {
      const Trial t = make_trial(i);
      TrialOutcome o = run_trial(parent, t, scratch, dataset_version);
      std::printf("  %-14s %-8g %-6g %-5g %-8s %5d  %.2f\n", t.name().c_str(), t.lr(), t.gamma(),
                  t.clip(), o.failed ? "FAILED" : "FINISHED", o.iterations, o.last_mean);
      outcomes.push_back(std::move(o));
    }

    const TrialOutcome* best = nullptr;
    int failed = 0;
    for (const TrialOutcome& o : outcomes) {
      if (o.failed) {
        ++failed;
        continue;
      }
      if (!best || o.last_mean > best->last_mean) best = &o;
    }
    if (best) {
      parent.set_tag("best_trial", best->trial.name());
      parent.set_tag("best_run_id", best->run_id);
      parent.log_metric("best_trial_episode_reward_mean", best->last_mean, kIterations);
    }
    parent.log_metric("failed_trials", failed);
    parent.end(mlruns::RunStatus::kFinished);

    std::printf("\n%d trials logged (%d FAILED) under parent run %s\n", trials, failed,
                parent.id().c_str());
    if (best) {
      std::printf("best FINISHED trial: %s (run %s), episode_reward_mean %.2f; "
                  "its checkpoint is artifact checkpoint_%06d\n",
                  best->trial.name().c_str(), best->run_id.c_str(), best->last_mean, kIterations);
    }
    // Machine-readable last lines, for scripts (tools/scripts/demo.sh).
    std::printf("experiment_id=%s\nparent_run_id=%s\n", exp_id.c_str(), parent.id().c_str());
    if (best) std::printf("best_trial=%s\nbest_run_id=%s\n", best->trial.name().c_str(), best->run_id.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mlruns_demo: %s\n", e.what());
    fs::remove_all(scratch, ec);
    return 1;
  }
  fs::remove_all(scratch, ec);
  return 0;
}
