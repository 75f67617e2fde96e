// SPDX-License-Identifier: GPL-2.0-only
// How compare scales with the number of bundles per side (issues #13, #30:
// a fleet compares thousands of bundles; the bar is 1000 per side in 5 s on
// 2 CPUs). Synthetic bundles (tests/analysis/synth.h), 8 repetitions of 49
// latency histograms and 49 rates each, written once per size under a runs
// root (runs/a, runs/b), so that the catalog's summary cache
// (analysis/summary_cache.h) serves them:
//   BM_CompareCold  the whole compare (both sides loaded, compared, the text
//                   report made) with no catalog: every bundle parsed and
//                   checked, its summary stored;
//   BM_CompareWarm  the same once the catalog holds every summary;
//   BM_Load         one side loaded without any cache (parse + checks);
//   BM_Compare      the comparison alone, sides in memory;
//   BM_CatalogSync* the catalog's sync of 10,000 bundles, first and unchanged.
//   build/tests/analysis/bench_compare --benchmark_repetitions=3
//     --benchmark_filter='Compare(Cold|Warm)'
// The page cache is warm in every case (the bundles were just written or
// read). Counters: bundles per side, rows, bundles/s.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "analysis/catalog.h"
#include "analysis/compare.h"
#include "analysis/report.h"
#include "synth.h"

namespace fs = std::filesystem;
using kperflab::compare::Side;

namespace {

// The temporary directories this process made (removed at exit; never
// another run's).
std::vector<fs::path>& made_here() {
  static std::vector<fs::path> v;
  return v;
}

fs::path temp_root() {
  char tmpl[] = "/tmp/kperflab-bench-sides-XXXXXX";
  fs::path d = mkdtemp(tmpl);
  made_here().push_back(d);
  return d / "runs";
}

// metrics: synth "op<i>/latency" histograms + "op<i>/rate" scalars, so
// 2 * metrics metric names and 6 * metrics rows.
const fs::path& sides(int bundles, int metrics) {
  static std::map<std::pair<int, int>, fs::path> made;
  auto key = std::make_pair(bundles, metrics);
  if (auto it = made.find(key); it != made.end()) return it->second;
  fs::path root = temp_root();
  for (const char* side : {"a", "b"})
    for (int i = 0; i < bundles; ++i) {
      kperflab::testing::SynthSpec s;
      s.metrics = static_cast<unsigned>(metrics);
      s.repetitions = 8;
      s.samples = 200;
      s.seed = (side[0] == 'a' ? 1 : 100000) + static_cast<uint64_t>(i);
      s.boot_id = std::string(side) + std::to_string(i);
      s.boot_noise = 0.02;
      kperflab::testing::write_synth_bundle(root / side / std::to_string(i), s);
    }
  return made[key] = root;
}

void BM_Load(benchmark::State& st) {
  const fs::path& root = sides(static_cast<int>(st.range(0)), static_cast<int>(st.range(1)));
  for (auto _ : st) {
    Side a = Side::load(root / "a");
    benchmark::DoNotOptimize(a.bundles.size());
  }
  st.counters["bundles_per_side"] = static_cast<double>(st.range(0));
  st.counters["bundles/s"] =
      benchmark::Counter(static_cast<double>(st.range(0)), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Compare(benchmark::State& st) {
  const fs::path& root = sides(static_cast<int>(st.range(0)), static_cast<int>(st.range(1)));
  Side a = Side::load(root / "a"), b = Side::load(root / "b");
  size_t rows = 0;
  for (auto _ : st) {
    auto r = kperflab::compare::compare(a, b, {});
    rows = r.rows.size();
  }
  st.counters["bundles_per_side"] = static_cast<double>(st.range(0));
  st.counters["rows"] = static_cast<double>(rows);
  st.counters["bundles/s"] = benchmark::Counter(2.0 * static_cast<double>(st.range(0)),
                                                benchmark::Counter::kIsIterationInvariantRate);
}

// The whole compare of runs/a against runs/b through the catalog's cache
// (as `kperflab compare --runs-dir ROOT ROOT/a ROOT/b` does), text report
// included.
size_t whole_compare(const fs::path& root) {
  using kperflab::compare::SideSource;
  auto a = SideSource::find((root / "a").string(), root);
  auto b = SideSource::find((root / "b").string(), root);
  kperflab::compare::check_bundle_limit({a, b}, "compare");
  Side base = a.load(false), cand = b.load(false);
  kperflab::report::Input in{&base, {&cand}, {kperflab::compare::compare(base, cand, {})}};
  std::string text = kperflab::report::text(in);
  benchmark::DoNotOptimize(text.size());
  return in.results[0].rows.size();
}

void forget_catalog(const fs::path& root) {
  for (const char* f : {"catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm"})
    fs::remove(root / f);
}

void BM_CompareCold(benchmark::State& st) {
  const fs::path& root = sides(static_cast<int>(st.range(0)), 49);
  size_t rows = 0;
  for (auto _ : st) {
    st.PauseTiming();
    forget_catalog(root);
    st.ResumeTiming();
    rows = whole_compare(root);
  }
  st.counters["bundles_per_side"] = static_cast<double>(st.range(0));
  st.counters["rows"] = static_cast<double>(rows);
  st.counters["bundles/s"] = benchmark::Counter(2.0 * static_cast<double>(st.range(0)),
                                                benchmark::Counter::kIsIterationInvariantRate);
}

void BM_CompareWarm(benchmark::State& st) {
  const fs::path& root = sides(static_cast<int>(st.range(0)), 49);
  if (!fs::exists(root / "catalog.sqlite")) whole_compare(root);  // fills the catalog
  size_t rows = 0;
  for (auto _ : st) rows = whole_compare(root);
  st.counters["bundles_per_side"] = static_cast<double>(st.range(0));
  st.counters["rows"] = static_cast<double>(rows);
  st.counters["bundles/s"] = benchmark::Counter(2.0 * static_cast<double>(st.range(0)),
                                                benchmark::Counter::kIsIterationInvariantRate);
}

// The catalog's sync of a tree of n small bundles (each a meta.json and a
// probe file; the sync reads meta.json and kconfig.gz only): the first
// time (no catalog file) and again with nothing changed. Counter peak_rss_mb:
// the process's peak so far (the tree's writing included).
const fs::path& tree(int n) {
  static std::map<int, fs::path> made;
  if (auto it = made.find(n); it != made.end()) return it->second;
  fs::path root = temp_root();
  for (int i = 0; i < n; ++i) {
    kperflab::testing::SynthSpec s;
    s.metrics = 1;
    s.repetitions = 2;
    s.samples = 10;
    s.seed = static_cast<uint64_t>(i) + 1;
    s.boot_id = "boot" + std::to_string(i);
    s.meta_patch = {{"tags", {i % 2 ? "base" : "cand"}}};
    kperflab::testing::write_synth_bundle(
        root / ("host" + std::to_string(i % 4)) / ("6.12." + std::to_string(i % 10)) /
            std::to_string(i),
        s);
  }
  return made[n] = root;
}

double peak_rss_mb() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

void BM_CatalogSyncFirst(benchmark::State& st) {
  const fs::path& root = tree(static_cast<int>(st.range(0)));
  size_t n = 0;
  for (auto _ : st) {
    st.PauseTiming();
    forget_catalog(root);
    st.ResumeTiming();
    n = kperflab::catalog::Catalog(root).sync_stats().bundles;
  }
  st.counters["bundles"] = static_cast<double>(n);
  st.counters["peak_rss_mb"] = peak_rss_mb();
}

void BM_CatalogSyncUnchanged(benchmark::State& st) {
  const fs::path& root = tree(static_cast<int>(st.range(0)));
  if (!fs::exists(root / "catalog.sqlite")) kperflab::catalog::Catalog first(root);
  size_t n = 0;
  for (auto _ : st) n = kperflab::catalog::Catalog(root).sync_stats().bundles;
  st.counters["bundles"] = static_cast<double>(n);
  st.counters["peak_rss_mb"] = peak_rss_mb();
}

// One boot per side: the repetition basis, where the bootstrap runs.
void BM_CompareRepetitions(benchmark::State& st) {
  const fs::path& root = sides(1, static_cast<int>(st.range(0)));
  Side a = Side::load(root / "a" / "0"), b = Side::load(root / "b" / "0");
  kperflab::compare::Options o;
  o.noise = "none";
  o.threads = static_cast<unsigned>(st.range(1));
  for (auto _ : st) benchmark::DoNotOptimize(kperflab::compare::compare(a, b, o).rows.size());
  st.counters["threads"] = static_cast<double>(st.range(1));
}

}  // namespace

BENCHMARK(BM_Load)->Args({10, 49})->Args({50, 49})->Args({200, 49})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Compare)->Args({10, 49})->Args({50, 49})->Args({200, 49})->Unit(benchmark::kMillisecond);
// Wall time (the loads run on every CPU): UseRealTime.
BENCHMARK(BM_CompareCold)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond)
    ->Iterations(1)->UseRealTime();
BENCHMARK(BM_CompareWarm)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond)
    ->Iterations(3)->UseRealTime();
BENCHMARK(BM_CatalogSyncFirst)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(1)
    ->UseRealTime();
BENCHMARK(BM_CatalogSyncUnchanged)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(3)
    ->UseRealTime();
BENCHMARK(BM_CompareRepetitions)->Args({49, 1})->Args({49, 2})->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (auto& d : made_here()) fs::remove_all(d);
  return 0;
}
