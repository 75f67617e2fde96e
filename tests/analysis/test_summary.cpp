// SPDX-License-Identifier: GPL-2.0-only
// The summary analysis holds of a bundle (analysis/summary.h) says what the
// whole bundle says: every metric's kind, unit, labels and statistics, the
// encoded histograms, the matrices and the parameters; and it is a fraction
// of the tree.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "analysis/compare.h"
#include "analysis/summary.h"
#include "synth.h"
#include "tests/common/tmpdir.h"

namespace fs = std::filesystem;
using kperflab::Bundle;
using kperflab::BundleSummary;
using kperflab::JsonView;
using kperflab::MetricValues;
using kperflab::testing::SynthSpec;
using kperflab::testing::write_synth_bundle;

namespace {

// NaN where the JSON has no number (absent or null), as the summary keeps it.
void expect_stat(double got, const JsonView& m, const char* key) {
  auto x = m.find(key);
  if (x && x->is_number()) EXPECT_EQ(got, x->num()) << m.path() << "." << key;
  else EXPECT_TRUE(std::isnan(got)) << m.path() << "." << key;
}

}  // namespace

TEST(Summary, HoldsWhatTheBundleSays) {
  kperflab::testing::TmpDir t;
  SynthSpec s;
  s.metrics = 4;
  s.repetitions = 5;
  s.overflow_samples = 3;
  s.matrix = 7;
  s.scalars = {{"x/failures", 0}, {"y/count", 12}};
  s.latency_labels = {{"comparable_with", "tracepoints=memcg_id"}, {"better", "lower"}};
  s.params_patch = {{"clock", {{"ghz", 2.5}}}, {"cpus", {0, 1}}};
  fs::path dir = write_synth_bundle(t.path / "b", s);
  Bundle whole = Bundle::load(dir);
  BundleSummary sum = BundleSummary::of(whole);
  EXPECT_EQ(sum.dir, whole.dir);
  EXPECT_EQ(sum.meta, whole.meta);
  ASSERT_EQ(sum.probes.size(), whole.probes.size());
  size_t histograms = 0, scalars = 0, matrices = 0;
  std::set<std::string> distinct;  // kind, unit and labels of every metric value
  for (auto& [probe, doc] : whole.probes) {
    ASSERT_TRUE(sum.probes.count(probe));
    const kperflab::ProbeSummary& p = sum.probes.at(probe);
    EXPECT_EQ(p.parameters, doc.at("parameters"));
    EXPECT_EQ(sum.parameters_view(probe).raw(), doc.at("parameters"));
    auto reps = whole.probe_view(probe).at("repetitions").elements();
    ASSERT_EQ(p.reps.size(), reps.size());
    for (size_t r = 0; r < reps.size(); ++r) {
      auto metrics = reps[r].at("metrics").members();
      ASSERT_EQ(p.reps[r].metrics.size(), metrics.size());
      for (size_t i = 0; i < metrics.size(); ++i) {
        auto& [name, m] = metrics[i];
        const MetricValues* v = p.find(p.reps[r], name);
        ASSERT_NE(v, nullptr) << name;
        EXPECT_EQ(v, &p.reps[r].metrics[i]);
        EXPECT_EQ(p.name(*v), name);
        const kperflab::MetricInfo& info = p.info(*v);
        distinct.insert(probe + m.at("kind").str() + "\x1f" + m.at("unit").str() + "\x1f" +
                        (m.has("labels") ? m.at("labels").raw().dump() : "{}"));
        EXPECT_EQ(info.histogram, m.at("kind").str() == "histogram");
        EXPECT_EQ(info.unit, m.at("unit").str());
        EXPECT_EQ(info.labels, m.has("labels") ? m.at("labels").raw() : nlohmann::json::object());
        if (!info.histogram) {
          ++scalars;
          expect_stat(v->stat[0], m, "value");
          continue;
        }
        ++histograms;
        EXPECT_EQ(info.better, "lower");
        EXPECT_EQ(info.comparable_with, "tracepoints=memcg_id");
        EXPECT_EQ(v->count, m.at("count").u64());
        EXPECT_EQ(v->overflow, m.at("overflow").u64() > 0);
        for (size_t k = 0; k < v->stat.size(); ++k)
          expect_stat(v->stat[k], m, MetricValues::kStats[k]);
        EXPECT_EQ(p.hist(*v), m.at("hist").str());
      }
      EXPECT_EQ(p.find(p.reps[r], "no/such"), nullptr);
      auto ms = reps[r].at("extra").at("matrices").elements();
      ASSERT_EQ(p.reps[r].matrices.size(), ms.size());
      for (size_t k = 0; k < ms.size(); ++k) {
        const kperflab::MatrixSummary& x = p.reps[r].matrices[k];
        ++matrices;
        EXPECT_EQ(x.title, ms[k].text("title", ""));
        EXPECT_EQ(x.unit, ms[k].text("unit", ""));
        EXPECT_EQ(x.rows, ms[k].at("rows").raw());
        EXPECT_EQ(x.cols, ms[k].at("cols").raw());
        size_t cols = x.cols.size();
        ASSERT_EQ(x.values.size(), x.rows.size() * cols);
        for (size_t i = 0; i < x.values.size(); ++i) {
          JsonView cell = ms[k].at("values").at(i / cols).at(i % cols);
          if (cell.is_number()) EXPECT_EQ(x.values[i], cell.num());
          else EXPECT_TRUE(std::isnan(x.values[i]));
        }
      }
    }
  }
  // Labels are shared: one entry per distinct kind, unit and labels.
  size_t infos = 0;
  for (auto& [probe, p] : sum.probes) infos += p.infos.size();
  EXPECT_EQ(infos, distinct.size());
  EXPECT_EQ(histograms, 4u * 5u);
  EXPECT_EQ(scalars, (4u + 2u) * 5u);
  EXPECT_EQ(matrices, 5u);
  size_t tree = kperflab::json_bytes(whole.meta);
  for (auto& [probe, doc] : whole.probes) tree += kperflab::json_bytes(doc);
  EXPECT_LT(sum.bytes, tree);
}

// What compare reads through a side is what it read from whole bundles:
// the statistics per repetition and the merged histogram.
TEST(Summary, CollectAndMergedCdf) {
  kperflab::testing::TmpDir t;
  SynthSpec s;
  s.metrics = 3;
  s.repetitions = 4;
  s.scalars = {{"z/ratio", 0.25}};
  write_synth_bundle(t.path / "b", s);
  auto side = kperflab::compare::Side::load(t.path / "b");
  auto c = kperflab::compare::collect(side);
  Bundle whole = Bundle::load(t.path / "b");
  auto reps = whole.probe_view("synth").at("repetitions").elements();
  for (auto& [name, st] : c.v.at("synth")) {
    for (auto& [stat, ser] : st) {
      ASSERT_EQ(ser.v.size(), reps.size()) << name << ":" << stat;
      for (size_t r = 0; r < reps.size(); ++r)
        EXPECT_EQ(ser.v[r], reps[r].at("metrics").at(name).at(stat).num()) << name << ":" << stat;
    }
    EXPECT_EQ(c.meta.at("synth\x1f" + name)->unit,
              reps[0].at("metrics").at(name).at("unit").str());
  }
  EXPECT_EQ(c.v.at("synth").at("z/ratio").at("value").v,
            std::vector<double>(reps.size(), 0.25));
  auto cdf = kperflab::compare::merged_cdf(side, "synth", "op0/latency");
  ASSERT_TRUE(cdf.is_array());
  ASSERT_FALSE(cdf.empty());
  EXPECT_EQ(cdf.back()[1].get<double>(), 1.0);
  EXPECT_TRUE(kperflab::compare::merged_cdf(side, "synth", "z/ratio").is_null());
}
