// SPDX-License-Identifier: GPL-2.0-only
#include "synth.h"

#include <cmath>
#include <random>

#include "core/probe.h"
#include "results/bundle.h"

namespace kperflab::testing {

using nlohmann::json;

std::filesystem::path write_synth_bundle(const std::filesystem::path& dir, const SynthSpec& s) {
  json meta = {{"schema", kMetaSchema},
               {"suite", {{"version", "0.1.0"}, {"git_sha", "synthetic"}}},
               {"host", {{"hostname", s.host}}},
               {"kernel", {{"release", s.release}, {"version", "#1 SMP"}, {"config", nullptr},
                           {"clocksource", {{"current", "tsc"}}}, {"thp", {{"enabled", nullptr}}}}},
               {"cpu", {{"topology", json::array({{{"cpu", 0}, {"online", true}, {"core", 0},
                                                   {"package", 0}, {"llc", 0}, {"node", 0},
                                                   {"smt_siblings", json::array({0})}}})},
                        {"smt", {{"control", nullptr}}}, {"frequency", {{"governor", nullptr}}},
                        {"model_name", "Synthetic CPU"}}},
               {"profile", "quick"},
               {"probes", {{"synth", {{"status", "complete"}}}}}};
  if (!s.boot_id.empty()) meta["kernel"]["boot_id"] = s.boot_id;
  if (!s.meta_patch.is_null()) meta.merge_patch(s.meta_patch);
  BundleWriter w(dir, meta, true);
  std::mt19937_64 rng(s.seed);
  std::vector<double> boot(s.metrics, 1.0);
  std::normal_distribution<double> wobble(0, s.boot_noise);
  if (s.boot_noise > 0)
    for (auto& b : boot) b = std::exp(wobble(rng));
  for (auto& b : boot) b *= std::exp(s.common_shift);
  json doc = {{"schema", kProbeSchema}, {"probe", "synth"}, {"status", "complete"},
              {"reason", nullptr}, {"parameters", {{"samples", s.samples}}},
              {"repetitions", json::array()}};
  if (!s.params_patch.is_null()) doc["parameters"].merge_patch(s.params_patch);
  for (unsigned r = 0; r < s.repetitions; ++r) {
    Repetition rep;
    if (s.matrix > 0)
      rep.extra()["matrices"] = json::array(
          {{{"title", "round trip"}, {"unit", "ns"}, {"rows", {0, 1}}, {"cols", {0, 1}},
            {"values", {{nullptr, s.matrix * (r + 1)}, {s.matrix, s.matrix}}}}});
    for (unsigned i = 0; i < s.metrics; ++i) {
      std::lognormal_distribution<double> d(std::log(1000.0 * (i + 1) * s.scale * boot[i]), 0.2);
      Histogram h;
      for (unsigned k = 0; k < s.samples; ++k)
        h.record(s.fixed_latency > 0 ? static_cast<uint64_t>(s.fixed_latency)
                                     : static_cast<uint64_t>(d(rng)));
      if (s.overflow_samples) h.record(uint64_t{1} << 50, s.overflow_samples);
      std::string name = "op" + std::to_string(i);
      nlohmann::json l = {{"op", i}};
      if (!s.latency_labels.is_null()) l.update(s.latency_labels);
      rep.histogram(name + "/latency", h, s.latency_unit, l);
      std::normal_distribution<double> rate(1e6, 1e3);
      rep.scalar(name + "/rate", rate(rng) * boot[i], "1/s", {{"better", "higher"}});
    }
    for (auto& [name, v] : s.scalars) rep.scalar(name, v, "count", {{"better", "lower"}});
    doc["repetitions"].push_back(rep.to_json());
  }
  w.write_json("synth.json", doc);
  w.finish(true);
  return dir;
}

std::filesystem::path boots(const std::filesystem::path& dir, const std::string& tag, unsigned n,
                            SynthSpec s, uint64_t seed0) {
  for (unsigned i = 0; i < n; ++i) {
    s.seed = seed0 + i;
    s.boot_id = tag + std::to_string(i);
    write_synth_bundle(dir / s.boot_id, s);
  }
  return dir;
}

void add_boots_row(compare::Result& res, std::vector<compare::RowInput>& in,
                   const compare::Series& base, const compare::Series& cand,
                   const std::string& probe, const std::string& metric, const std::string& stat,
                   bool quantised) {
  compare::Row r;
  r.probe = probe;
  r.metric = metric;
  r.stat = stat;
  r.unit = "ns";
  r.better = "lower";
  r.basis = compare::Basis::boots;
  r.min_effect = 0.02;
  r.base = base.v;
  r.cand = cand.v;
  res.rows.push_back(std::move(r));
  compare::RowInput x;
  x.base = &base;
  x.cand = &cand;
  x.basis = compare::Basis::boots;
  x.quantised = quantised;
  in.push_back(x);
}

}  // namespace kperflab::testing
