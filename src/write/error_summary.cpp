// summarize_errors (options.h): the first failure in full, then counts per
// kind, never one line per failed call (issue 10 item 11).
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "mlruns/options.h"

namespace mlruns {
namespace {

struct Kind {
  std::uint64_t count = 0;  // since the last summary
  std::uint64_t total = 0;
  std::string example;      // the latest message of this kind
};

// Shared by every copy of the returned function; the last copy to go (the
// Store closing) prints what was not summarized yet.
class Summary {
 public:
  Summary(std::chrono::seconds interval, std::FILE* out) : interval_(interval), out_(out) {}
  Summary(const Summary&) = delete;
  Summary& operator=(const Summary&) = delete;
  ~Summary() {
    std::lock_guard lock(mu_);
    print_locked(true);
  }

  void add(const Status& s) {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    ++seen_;
    if (seen_ == 1) {
      std::fprintf(out_, "mlruns: %s (further failures are counted and summarized)\n", s.to_string().c_str());
      last_summary_ = now;
      return;
    }
    Kind& k = kinds_[s.code()];
    ++k.count;
    ++k.total;
    k.example = s.message();
    ++pending_;
    if (now - last_summary_ >= interval_) {
      print_locked(false);
      last_summary_ = now;
    }
  }

 private:
  // One line of totals, then one per kind that failed since the last summary.
  void print_locked(bool final) {
    if (pending_ == 0) return;
    std::fprintf(out_, "mlruns: %llu more failure(s)%s; %llu in all:\n", static_cast<unsigned long long>(pending_),
                 final ? " until the store closed" : " since the last summary",
                 static_cast<unsigned long long>(seen_));
    for (auto& [code, k] : kinds_) {
      if (k.count == 0) continue;
      const std::string name(code_name(code));
      std::fprintf(out_, "mlruns:   %llu x %s (%llu in all), latest: %s\n", static_cast<unsigned long long>(k.count),
                   name.c_str(), static_cast<unsigned long long>(k.total), k.example.c_str());
      k.count = 0;
    }
    std::fflush(out_);
    pending_ = 0;
  }

  std::mutex mu_;
  std::chrono::seconds interval_;
  std::FILE* out_;
  std::uint64_t seen_ = 0;
  std::uint64_t pending_ = 0;
  std::map<Code, Kind> kinds_;
  std::chrono::steady_clock::time_point last_summary_{};
};

}  // namespace

std::function<void(const Status&)> summarize_errors(std::chrono::seconds interval) {
  auto summary = std::make_shared<Summary>(interval, stderr);
  return [summary](const Status& s) { summary->add(s); };
}

}  // namespace mlruns
