// SPDX-License-Identifier: GPL-2.0-only
// Loading one bundle, stage by stage (issue #30: compare of 1000 bundles a
// side in 5 s on 2 CPUs): the bundle is the shape of tests/analysis/synth's
// (49 histograms of 200 samples and 49 scalars per repetition, 8
// repetitions), written once into a temporary directory. Single-threaded;
// Google Benchmark, never a timed unit test, and not run by ctest.
//   build/tests/unit/bench_load [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <random>

#include "core/hdr_codec.h"
#include "core/histogram.h"
#include "core/probe.h"
#include "core/read_file.h"
#include "results/bundle.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

kperflab::Histogram lognormal(std::mt19937_64& rng, double median, unsigned samples) {
  std::lognormal_distribution<double> d(std::log(median), 0.2);
  kperflab::Histogram h;
  for (unsigned k = 0; k < samples; ++k) h.record(static_cast<uint64_t>(d(rng)));
  return h;
}

struct Fixture {
  fs::path root, bundle;
  json meta, probe;
  std::string probe_text, hist_text;
  kperflab::Histogram hist;

  Fixture() {
    char tmpl[] = "/tmp/kperflab-bench-load-XXXXXX";
    root = mkdtemp(tmpl);
    bundle = root / "b";
    json m = {{"schema", kperflab::kMetaSchema},
              {"suite", {{"version", "0.1.0"}, {"git_sha", "synthetic"}}},
              {"host", {{"hostname", "synth-host"}}},
              {"kernel", {{"release", "6.12.0-synth"}, {"version", "#1 SMP"}, {"config", nullptr},
                          {"boot_id", "a0"}, {"clocksource", {{"current", "tsc"}}},
                          {"thp", {{"enabled", nullptr}}}}},
              {"cpu", {{"topology", json::array({{{"cpu", 0}, {"online", true}, {"core", 0},
                                                  {"package", 0}, {"llc", 0}, {"node", 0},
                                                  {"smt_siblings", json::array({0})}}})},
                       {"smt", {{"control", nullptr}}}, {"frequency", {{"governor", nullptr}}},
                       {"model_name", "Synthetic CPU"}}},
              {"profile", "quick"},
              {"probes", {{"synth", {{"status", "complete"}}}}}};
    kperflab::BundleWriter w(bundle, m, true);
    std::mt19937_64 rng(1);
    json doc = {{"schema", kperflab::kProbeSchema}, {"probe", "synth"}, {"status", "complete"},
                {"reason", nullptr}, {"parameters", {{"samples", 200}}},
                {"repetitions", json::array()}};
    for (unsigned r = 0; r < 8; ++r) {
      kperflab::Repetition rep;
      for (unsigned i = 0; i < 49; ++i) {
        std::string name = "op" + std::to_string(i);
        rep.histogram(name + "/latency", lognormal(rng, 1000.0 * (i + 1), 200), "ns", {{"op", i}});
        std::normal_distribution<double> rate(1e6, 1e3);
        rep.scalar(name + "/rate", rate(rng), "1/s", {{"better", "higher"}});
      }
      doc["repetitions"].push_back(rep.to_json());
    }
    w.write_json("synth.json", doc);
    w.finish(true);
    meta = kperflab::read_json(bundle / "meta.json", kperflab::limits::kMetaFile);
    probe_text = kperflab::read_file(bundle / "synth.json", kperflab::limits::kProbeFile.bytes);
    probe = json::parse(probe_text);
    hist_text = probe["repetitions"][0]["metrics"]["op20/latency"]["hist"].get<std::string>();
    hist = kperflab::hdr::decode_compressed_base64(hist_text);
  }
  ~Fixture() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void per_bundle(benchmark::State& st) {
  st.counters["bundles/s"] = benchmark::Counter(1.0, benchmark::Counter::kIsIterationInvariantRate);
}

// The whole of Bundle::load: read, parse, validate both files.
void BM_BundleLoad(benchmark::State& st) {
  auto& f = fixture();
  for (auto _ : st) benchmark::DoNotOptimize(kperflab::Bundle::load(f.bundle).probes.size());
  per_bundle(st);
}

// The probe file: read and parse within kProbeFile (the bounded builder).
void BM_ReadJson(benchmark::State& st) {
  auto& f = fixture();
  for (auto _ : st)
    benchmark::DoNotOptimize(
        kperflab::read_json(f.bundle / "synth.json", kperflab::limits::kProbeFile).size());
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * f.probe_text.size()));
}

void BM_ValidateProbe(benchmark::State& st) {
  auto& f = fixture();
  for (auto _ : st) kperflab::validate_probe(f.probe, f.bundle / "synth.json");
}

void BM_ValidateMeta(benchmark::State& st) {
  auto& f = fixture();
  for (auto _ : st) kperflab::validate_meta(f.meta, f.bundle / "meta.json");
}

// One histogram of the bundle: base64, inflate, V2 decode.
void BM_DecodeHistogram(benchmark::State& st) {
  auto& f = fixture();
  size_t inflated = 0;
  for (auto _ : st)
    benchmark::DoNotOptimize(kperflab::hdr::decode_compressed_base64(f.hist_text, &inflated));
}

// The same into its non-empty counts, as the loader decodes every histogram.
void BM_DecodeCounts(benchmark::State& st) {
  auto& f = fixture();
  kperflab::hdr::Counts counts;
  kperflab::hdr::DecodeScratch scratch;
  size_t inflated = 0;
  for (auto _ : st) {
    kperflab::hdr::decode_compressed_base64(f.hist_text, counts, scratch, &inflated);
    benchmark::DoNotOptimize(counts.total);
  }
}

// The five quantiles the loader checks and the writer stores: one at a
// time, then in one pass.
constexpr double kQ[] = {0.5, 0.9, 0.99, 0.999, 0.9999};

void BM_FiveQuantiles(benchmark::State& st) {
  auto& f = fixture();
  for (auto _ : st)
    for (double q : kQ) benchmark::DoNotOptimize(f.hist.quantile(q));
}

void BM_FiveQuantilesOnePass(benchmark::State& st) {
  auto& f = fixture();
  uint64_t out[std::size(kQ)];
  for (auto _ : st) {
    f.hist.quantiles(kQ, out);
    benchmark::DoNotOptimize(out);
  }
}

void BM_FiveQuantilesOfCounts(benchmark::State& st) {
  auto& f = fixture();
  kperflab::hdr::Counts counts;
  kperflab::hdr::DecodeScratch scratch;
  kperflab::hdr::decode_compressed_base64(f.hist_text, counts, scratch);
  uint64_t out[std::size(kQ)];
  for (auto _ : st) {
    kperflab::quantiles_of(counts.nonzero, counts.total, kQ, out);
    benchmark::DoNotOptimize(out);
  }
}

}  // namespace

BENCHMARK(BM_BundleLoad)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadJson)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ValidateProbe)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ValidateMeta)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DecodeHistogram)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DecodeCounts)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FiveQuantiles)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FiveQuantilesOnePass)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FiveQuantilesOfCounts)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
