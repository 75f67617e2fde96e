// SPDX-License-Identifier: GPL-2.0-only
// The noise check before a run measures (`kperflab run --noise-check`): a
// fixed integer loop of about 10 ms, timed 20 times on each of a few CPUs
// (pinned, one CPU at a time), and its run-to-run spread as MAD/median. A
// quiet CPU repeats the same loop within a percent or two; above
// kNoiseThresholdPct the run warns (and with --strict refuses), naming the
// CPUs, the load and the busiest processes from the preflight.
//
// Not a measurement of anything kernel-side: only "is this machine doing
// something else right now". Recorded in meta.json "noise_check".
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kperflab {

inline constexpr double kNoiseThresholdPct = 5.0;

struct NoiseCpu {
  int cpu = -1;
  std::vector<int64_t> samples_ns;
  double median_ns = 0, mad_ns = 0, spread_pct = 0;
  std::string error;  // could not pin or run there
};

struct NoiseCheck {
  double threshold_pct = kNoiseThresholdPct;
  unsigned rounds = 0;
  uint64_t iterations = 0;  // of the loop per round (calibrated once)
  std::vector<NoiseCpu> cpus;
  bool noisy() const;
  // "cpu 1 (7.2 %), cpu 3 (5.4 %)": the CPUs above the threshold.
  std::string noisy_cpus() const;
  nlohmann::json to_json() const;
};

// Median and median absolute deviation (robust: one preempted round out of
// 20 does not move them); spread_pct = 100 * MAD / median.
NoiseCpu summarize(int cpu, std::vector<int64_t> samples_ns);

// Up to n CPUs spread over the list: the first, the last, and evenly between.
std::vector<int> pick_noise_cpus(const std::vector<int>& online, size_t n = 4);

// Runs the check. `round` is the target length of one round; the loop's
// iteration count is calibrated once (on the first CPU) and then fixed.
NoiseCheck run_noise_check(const std::vector<int>& cpus, unsigned rounds = 20,
                           std::chrono::nanoseconds round = std::chrono::milliseconds(10));

}  // namespace kperflab
