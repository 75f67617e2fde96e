// SPDX-License-Identifier: GPL-2.0-only
// Synthetic bundles with a known distribution, for the compare tests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "analysis/verdicts.h"

namespace kperflab::testing {

struct SynthSpec {
  std::string host = "synth-host";
  std::string release = "6.12.0-synth";
  unsigned metrics = 10;
  unsigned repetitions = 12;
  unsigned samples = 2000;  // per histogram
  double scale = 1.0;       // multiplies every latency
  uint64_t seed = 1;
  // The boot the bundle ran in (meta kernel.boot_id); empty: none recorded.
  std::string boot_id;
  // Boot effect: each metric's latencies and rate are multiplied by
  // exp(N(0, boot_noise)), drawn once per bundle (boots differ by a few
  // percent per metric: page placement, IRQ affinity, frequency).
  double boot_noise = 0;
  // A shift shared by every metric of the bundle's boot: multiplies all
  // latencies and rates by exp(common_shift) (frequency, page placement).
  double common_shift = 0;
  std::string latency_unit = "ns";
  // Samples per histogram recorded past its range (its overflow count).
  unsigned overflow_samples = 0;
  // > 0: every latency sample is this value (ns), whatever the scale.
  double fixed_latency = 0;
  // More scalar metrics, the same value in every repetition.
  std::map<std::string, double> scalars;
  nlohmann::json meta_patch = nullptr;    // merge-patched into meta.json
  nlohmann::json params_patch = nullptr;  // merge-patched into the probe's parameters
  nlohmann::json latency_labels = nullptr;  // more labels of every latency histogram
  // > 0: every repetition r carries extra.matrices: one 2x2 "round trip"
  // matrix (unit ns) {{null, v*(r+1)}, {v, v}}.
  double matrix = 0;
};

// Writes one bundle with probe "synth": metrics "op<i>/latency" (lognormal,
// median 1000 * (i + 1) ns * scale) and a scalar "op<i>/rate" per metric.
std::filesystem::path write_synth_bundle(const std::filesystem::path& dir, const SynthSpec& s);

// n bundles under dir, one a boot: boot ids tag0..tag(n-1) (directory names
// too), seeds seed0.. ; returns dir.
std::filesystem::path boots(const std::filesystem::path& dir, const std::string& tag, unsigned n,
                            SynthSpec s, uint64_t seed0);

// One lower-is-better row in ns of base/cand series on the boots basis, as
// compare() builds it, appended to res and in (the engine's own tests and
// the simulation: analysis/verdicts.h).
void add_boots_row(compare::Result& res, std::vector<compare::RowInput>& in,
                   const compare::Series& base, const compare::Series& cand,
                   const std::string& probe, const std::string& metric, const std::string& stat,
                   bool quantised);

}  // namespace kperflab::testing
