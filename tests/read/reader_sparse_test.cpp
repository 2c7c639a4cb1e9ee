// Sparse files and values far above MLflow's limits (issue 15 item 3): a
// hole is passed over, never read (SEEK_DATA), and reported once as bad
// data; a long value is cut at ReaderOptions::max_value_bytes. Bytes read
// are counted through the Env, never timed.
#include <catch2/catch.hpp>

#include <atomic>

#include <fcntl.h>
#include <unistd.h>

#include "damaged_tree.h"
#include "mlruns/env.h"
#include "mlruns/key.h"
#include "sparse_file.h"

using namespace mlruns;
using namespace mlruns::testing;

namespace {

// Counts the bytes every read of the wrapped Env returns.
class CountingEnv : public EnvWrapper {
 public:
  explicit CountingEnv(Env* target) : EnvWrapper(target) {}
  std::atomic<std::uint64_t> bytes{0};

  Result<std::string> read_file(const std::string& p, std::uint64_t max, bool no_follow) override {
    auto r = target()->read_file(p, max, no_follow);
    if (r) bytes += r->size();
    return r;
  }
  Result<std::unique_ptr<SequentialFile>> new_sequential_file(const std::string& p) override {
    auto r = target()->new_sequential_file(p);
    if (!r) return r;
    return std::unique_ptr<SequentialFile>(new File(this, std::move(*r)));
  }

 private:
  class File final : public SequentialFile {
   public:
    File(CountingEnv* env, std::unique_ptr<SequentialFile> base) : env_(env), base_(std::move(base)) {}
    Result<std::string_view> read(std::size_t n, char* scratch) override {
      auto r = base_->read(n, scratch);
      if (r) env_->bytes += r->size();
      return r;
    }
    Result<std::uint64_t> skip_hole() override { return base_->skip_hole(); }

   private:
    CountingEnv* env_;
    std::unique_ptr<SequentialFile> base_;
  };
};

struct CountedReader {
  std::unique_ptr<Env> confined;
  std::unique_ptr<CountingEnv> env;
  std::optional<Reader> reader;
  CountedReader(Tree& t, ReaderOptions extra = {}) {
    confined = Env::posix_beneath(t.root.string());
    env = std::make_unique<CountingEnv>(confined.get());
    ReaderOptions o = t.warnings.options();
    o.env = env.get();
    o.max_value_bytes = extra.max_value_bytes;
    auto r = Reader::open(t.root.string(), o);
    REQUIRE(r);
    reader.emplace(std::move(*r));
  }
};

std::size_t count_warnings(const Warnings& w, const std::string& path_part, const std::string& message_part) {
  return static_cast<std::size_t>(std::count_if(w.list.begin(), w.list.end(), [&](const Warning& x) {
    return x.path.find(path_part) != std::string::npos && x.message.find(message_part) != std::string::npos;
  }));
}

}  // namespace

TEST_CASE("a 4 GB-apparent sparse metric file is read for its data only: the hole is skipped, reported once",
          "[reader][hostile][sparse]") {
  Tree t;
  const fs::path loss = t.run(kRunA) / "metrics" / "loss";
  write_sparse(loss, "1700000000000 0.5 0\n", 4ull << 30, "\n1700000000002 2.0 7\n");
  CountedReader c(t);
  auto history = c.reader->metric_history(kRunA, "loss");
  REQUIRE(history);
  REQUIRE(history->size() == 2);
  CHECK((*history)[0].step == 0);
  CHECK((*history)[1].step == 7);
  CHECK((*history)[1].value == 2.0);
  CHECK(c.env->bytes < (1u << 20));  // main: all 4 GiB of NULs
  CHECK(count_warnings(t.warnings, "metrics/loss", "hole of a sparse file") == 1);

  // Listing: the latest value, streamed past the hole.
  c.env->bytes = 0;
  auto run = c.reader->run(kRunA);
  REQUIRE(run);
  REQUIRE(run->metrics.count("loss") == 1);
  CHECK(run->metrics.at("loss").step == 7);
  CHECK(c.env->bytes < (1u << 20));
}

TEST_CASE("sparse param, tag and meta.yaml files are refused unread, with a warning",
          "[reader][hostile][sparse]") {
  Tree t;
  // Under max_file_bytes (256 MiB): their size alone does not refuse them.
  write_sparse(t.run(kRunA) / "params" / "holes", "", 200u << 20, "x");
  write_sparse(t.run(kRunA) / "tags" / "holes", "", 200u << 20, "x");
  write_sparse(t.run(kRunB) / "meta.yaml", run_meta(kExp, kRunB), 3u << 20, "\n");
  CountedReader c(t);
  auto runs = c.reader->runs({kExp}, ViewType::kAll);
  REQUIRE(runs);
  REQUIRE(runs->size() == 1);  // B's meta.yaml is not one
  const Run& a = (*runs)[0];
  CHECK(a.params.count("holes") == 0);
  CHECK(a.tags.count("holes") == 0);
  CHECK(a.params.at("lr") == "0.01");
  CHECK(c.env->bytes < (1u << 20));  // main: 400 MiB of NULs and the 3 MiB meta.yaml
  CHECK(t.warnings.has("params/holes", "sparse file"));
  CHECK(t.warnings.has("tags/holes", "sparse file"));
  CHECK(t.warnings.has(kRunB + "/meta.yaml", "sparse file"));
}

TEST_CASE("a value far above MLflow's limits is cut at max_value_bytes, never inside a UTF-8 sequence",
          "[reader][hostile][long]") {
  Tree t;
  // 3-byte characters: 1 MiB is not a multiple of 3, so the cut falls inside one.
  std::string cjk;
  while (cjk.size() < (3u << 20)) cjk += "\xE5\xA4\xB1";
  write_file(t.run(kRunA) / "params" / "huge", cjk);
  write_file(t.run(kRunA) / "tags" / "huge", std::string(3u << 20, 'z'));
  CountedReader c(t);
  auto run = c.reader->run(kRunA);
  REQUIRE(run);
  const std::string& p = run->params.at("huge");
  CHECK(p.size() <= (1u << 20));
  CHECK(p.size() > (1u << 20) - 4);
  CHECK(p.size() % 3 == 0);
  CHECK(is_valid_utf8(p));
  CHECK(run->tags.at("huge") == std::string(1u << 20, 'z'));
  CHECK(c.env->bytes < (3u << 20));  // main: both files whole, 6 MiB
  CHECK(t.warnings.has("params/huge", "only its first"));
  CHECK(t.warnings.has("tags/huge", "only its first"));
}
